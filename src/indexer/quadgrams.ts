// A segment's second Bloom filter (index_segments.quad_bloom): the 4-grams of its blobs' text, in
// the character classes of the trigram keys (blocks.ts: ASCII lower-cased, one class for the
// rest), packed 8 bits a character into a 32-bit key. A long rare identifier's trigrams each turn
// up somewhere in about a third of a big repo's segments (node_modules' sources in 1 MB segments:
// 30 of 99 hold all of them); its 4-grams together in few (5, where 1.6 hold the identifier), so
// a search rules out most segments without a posting-list lookup. The filter has no false
// negatives, so a segment it rules out holds no match; it holds the segment's distinct 4-grams at
// QUAD_BITS_PER_KEY bits each — 15 % false positives a key, but a segment is admitted only if
// every 4-gram of the query may be there.
import { charClass } from './blocks';
import { buildBloom } from './trigram-bloom';

export const QUAD_BITS_PER_KEY = 4;
export const QUAD_HASHES = 3;

/**
 * Distinct 4-grams a segment's filter holds at most (a 1 MB filter); a segment with more (an
 * 8 MB batch of random text, say) gets none — "may hold anything" — rather than a set of hundreds
 * of MB while it is built.
 */
const MAX_QUADS = 2_000_000;
const FIRST_TABLE = 1 << 16;

/** An open-addressing set of 4-gram keys (0 = empty slot; the key 0, four NULs, is kept apart). */
let table = new Int32Array(FIRST_TABLE);

/**
 * The distinct 4-gram keys of the texts (a set first: a MB of source holds ~1 M 4-grams, ~60,000
 * distinct), or null past MAX_QUADS.
 */
function distinctQuads(texts: readonly string[]): Int32Array | null {
  table = table.length > 16 * FIRST_TABLE ? new Int32Array(FIRST_TABLE) : table.fill(0); // a big one is not kept between segments
  let mask = table.length - 1;
  let out = new Int32Array(1024);
  let n = 0;
  let zero = false;
  for (const text of texts) {
    let k = 0;
    for (let i = 0; i < text.length; i++) {
      k = (k << 8) | charClass(text.charCodeAt(i));
      if (i < 3) continue;
      if (k === 0) {
        zero = true;
        continue;
      }
      let slot = Math.imul(k, 0x9e3779b1) >>> 0;
      for (;;) {
        slot &= mask;
        const there = table[slot];
        if (there === k) break;
        if (there === 0) {
          table[slot] = k;
          if (n === out.length) {
            const bigger = new Int32Array(n * 2);
            bigger.set(out);
            out = bigger;
          }
          out[n++] = k;
          if (n > MAX_QUADS) return null;
          if (n * 2 > table.length) {
            // Past half full: twice the size, every key placed again.
            table = new Int32Array(table.length * 2);
            mask = table.length - 1;
            for (let j = 0; j < n; j++) {
              let s = Math.imul(out[j], 0x9e3779b1) >>> 0;
              for (;;) {
                s &= mask;
                if (table[s] === 0) break;
                s++;
              }
              table[s] = out[j];
            }
          }
          break;
        }
        slot++;
      }
    }
  }
  if (!zero) return out.subarray(0, n);
  const withZero = new Int32Array(n + 1);
  withZero.set(out.subarray(0, n));
  return withZero;
}

/** The filter of every 4-gram of the texts (each a blob's whole text), or null when none has 4 characters or past MAX_QUADS. */
export function buildQuadBloom(texts: readonly string[]): Buffer | null {
  const keys = distinctQuads(texts);
  if (!keys || keys.length === 0) return null;
  return buildBloom(keys, Math.max(64, Math.ceil((keys.length * QUAD_BITS_PER_KEY) / 8) * 8), QUAD_HASHES);
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
