// A segment's second Bloom filter (index_segments.quad_bloom): the 4-grams of its blobs' text, in
// the character classes of the trigram keys (blocks.ts: ASCII lower-cased, one class for the
// rest), packed 8 bits a character into a 32-bit key. A long rare identifier's trigrams each turn
// up somewhere in about a third of a big repo's segments (node_modules' sources in 1 MB segments:
// 30 of 99 hold all of them); its 4-grams together in few (5, where 1.6 hold the identifier), so
// a search rules out most segments without a posting-list lookup. The filter has no false
// negatives, so a segment it rules out holds no match; it is sized by the segment's distinct
// 4-grams (counted by linear counting first) at QUAD_BITS_PER_KEY bits each — 15 % false
// positives a key, but a segment is admitted only if every 4-gram of the query may be there.
import { charClass } from './blocks';
import { buildBloomFrom } from './trigram-bloom';

export const QUAD_BITS_PER_KEY = 4;
export const QUAD_HASHES = 3;

/** Bits of the linear-counting bitmap (1 MiB): estimates up to a few million distinct 4-grams closely. */
const COUNT_BITS = 1 << 23;
const countBits = new Uint32Array(COUNT_BITS / 32);

/** Distinct 4-gram keys of the texts, estimated by linear counting (never low by more than a few percent). */
function distinctQuads(texts: readonly string[]): number {
  countBits.fill(0);
  let set = 0;
  let total = 0;
  for (const text of texts) {
    let k = 0;
    for (let i = 0; i < text.length; i++) {
      k = (k << 8) | charClass(text.charCodeAt(i));
      if (i < 3) continue;
      total++;
      const h = Math.imul(k, 0x9e3779b1) >>> 9; // the top 23 bits
      const bit = 1 << (h & 31);
      if ((countBits[h >>> 5] & bit) === 0) {
        countBits[h >>> 5] |= bit;
        set++;
      }
    }
  }
  const zero = COUNT_BITS - set;
  return zero === 0 ? total : Math.min(total, Math.round(-COUNT_BITS * Math.log(zero / COUNT_BITS)));
}

/** The filter of every 4-gram of the texts (each a blob's whole text), or null when none has 4 characters. */
export function buildQuadBloom(texts: readonly string[]): Buffer | null {
  const n = distinctQuads(texts);
  if (n === 0) return null;
  const m = Math.max(64, Math.ceil((n * QUAD_BITS_PER_KEY) / 8) * 8);
  return buildBloomFrom(m, QUAD_HASHES, (add) => {
    for (const text of texts) {
      let k = 0;
      for (let i = 0; i < text.length; i++) {
        k = (k << 8) | charClass(text.charCodeAt(i));
        if (i >= 3) add(k);
      }
    }
  });
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
