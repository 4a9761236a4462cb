// A segment's second Bloom filter (index_segments.quad_bloom): the 4-grams of its blobs' text, in
// the character classes of the trigram keys (blocks.ts: ASCII lower-cased, one class for the
// rest), packed 8 bits a character into a 32-bit key. A long rare identifier's trigrams each turn
// up somewhere in about a third of a big repo's segments (node_modules' sources in 1 MB segments:
// 30 of 99 hold all of them); its 4-grams together in few (5, where 1.6 hold the identifier), so
// a search rules out most segments without a posting-list lookup. The filter has no false
// negatives, so a segment it rules out holds no match; it is sized at QUAD_BITS_PER_KEY bits for
// each 4-gram a segment of its distinct trigrams holds (3 per trigram) — ~15 % false positives a
// key, but a segment is admitted only if every 4-gram of the query may be there. Built straight
// from the blobs' UTF-8 bytes (no decoding), a recent repeat skipped: ~8 ms a MB of source.
import { charClass } from './blocks';
import { bloomBuilder } from './trigram-bloom';

export const QUAD_BITS_PER_KEY = 4;
export const QUAD_HASHES = 3;
/** Distinct 4-grams per distinct trigram a filter is sized for (node_modules' sources: 2.7). */
const QUADS_PER_TRIGRAM = 3;
/** A filter loaded past this (bits per key it got) rules out too little to be worth keeping. */
const MIN_BITS_PER_QUAD = 2;

const OTHER = charClass(0x80);
const ASCII = Uint8Array.from({ length: 128 }, (_, b) => charClass(b));
/** 4-grams added last, one per slot: a repeat found here is not hashed into the filter again. */
const recent = new Int32Array(1 << 16);

/**
 * The filter of every 4-gram of the texts (each a blob's whole UTF-8 text, read as the JavaScript
 * string's code units: a character outside the BMP is two), sized for `trigrams` × 3 distinct
 * 4-grams (the segment's distinct trigrams), or null when none has 4 characters, or when the text
 * held so many more than that that the filter would rule out little.
 */
export function buildQuadBloom(texts: readonly Buffer[], trigrams: number): Buffer | null {
  let total = 0;
  for (const t of texts) total += Math.max(0, t.length - 3);
  if (total === 0) return null;
  const expected = Math.max(1024, Math.min(total, trigrams * QUADS_PER_TRIGRAM));
  const m = Math.ceil((expected * QUAD_BITS_PER_KEY) / 8) * 8;
  const filter = bloomBuilder(m, QUAD_HASHES);
  recent.fill(0);
  let any = false;
  for (const text of texts) {
    let k = 0;
    let units = 0;
    for (let i = 0; i < text.length; i++) {
      const b = text[i];
      if (b < 0x80) k = (k << 8) | ASCII[b];
      else if (b < 0xc0) continue; // a continuation byte: its character was counted at its lead byte
      else {
        k = (k << 8) | OTHER;
        if (b >= 0xf0) {
          // Outside the BMP: two code units (a surrogate pair), each OTHER.
          if (++units >= 4) {
            addQuad(filter, k);
            any = true;
          }
          k = (k << 8) | OTHER;
        }
      }
      if (++units < 4) continue;
      addQuad(filter, k);
      any = true;
    }
  }
  if (!any) return null;
  if (filter.load() * MIN_BITS_PER_QUAD > m) return null;
  return filter.finish();
}

function addQuad(filter: { add: (key: number) => void }, k: number): void {
  const slot = Math.imul(k, 0x9e3779b1) >>> 16;
  if (recent[slot] === k && k !== 0) return;
  recent[slot] = k;
  filter.add(k);
}

/** The distinct 4-gram keys a text holding `q` holds (none for fewer than 4 characters). */
export function quadKeys(q: string): number[] {
  const out = new Set<number>();
  let k = 0;
  for (let i = 0; i < q.length; i++) {
    k = (k << 8) | charClass(q.charCodeAt(i));
    if (i >= 3) out.add(k);
  }
  return [...out];
}
