// Bloom filters over trigram keys (blocks.ts) — and, in the same format, over 4-gram keys
// (quadgrams.ts) — so a search can rule out a whole segment (or a generation's file names) before
// it reads a single posting list: a key the filter does not hold is in none of the segment's blocks.
// A filter never says "absent" for a key it was given (no false negatives); it says "may be
// present" for ~0.8 % of the others at the design's 10 bits per key and k = 7 hashes. Keys are
// hashed by the murmur3 finalizer twice (two independent 32-bit hashes) and the k bit positions
// are h1 + i·h2 mod m (Kirsch–Mitzenmacher double hashing).
//
// Stored as bytea: a 10-byte header — [0] format version (1), [1] k, [2..5] m, the number of bits
// (uint32 LE), [6..9] the keys that set a new bit when added (uint32 LE; the filter's load, which
// says when one grown by adding keys should be rebuilt) — then the m bits, little-endian in bytes.
// NULL in the database (segments written before migration 1764300000750): may hold anything.

export const BLOOM_VERSION = 1;
export const BLOOM_HEADER_BYTES = 10;
/** Bits per key a filter is sized with: ~0.8 % false positives with k = 7. */
export const BLOOM_BITS_PER_KEY = 10;
export const BLOOM_HASHES = 7;
/** A filter grown past this load (bits per key) is rebuilt at the right size (~2.4 % false positives at 7). */
const MIN_BITS_PER_KEY = 7;

export interface TrigramBloom {
  readonly k: number;
  /** Number of bits. */
  readonly m: number;
  /** Keys that set at least one new bit when added: about the distinct keys it holds. */
  readonly load: number;
  readonly bits: Uint8Array;
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Bits for `n` keys at BLOOM_BITS_PER_KEY, a whole number of bytes, at least 64. */
export function bloomBits(n: number): number {
  return Math.max(64, Math.ceil((n * BLOOM_BITS_PER_KEY) / 8) * 8);
}

/** Sets the key's k bits; true when one of them was not set yet. */
function add(bits: Uint8Array, m: number, k: number, key: number): boolean {
  const h1 = fmix32(key);
  const h2 = (fmix32(key ^ 0x9e3779b9) | 1) >>> 0;
  let pos = h1 % m;
  const step = h2 % m;
  let fresh = false;
  for (let i = 0; i < k; i++) {
    const byte = pos >>> 3;
    const bit = 1 << (pos & 7);
    if ((bits[byte] & bit) === 0) {
      bits[byte] |= bit;
      fresh = true;
    }
    pos += step;
    if (pos >= m) pos -= m;
  }
  return fresh;
}

/** Whether the filter may hold `key` (false: it certainly does not). */
export function bloomHas(f: TrigramBloom, key: number): boolean {
  const { bits, m, k } = f;
  const h1 = fmix32(key);
  const h2 = (fmix32(key ^ 0x9e3779b9) | 1) >>> 0;
  let pos = h1 % m;
  const step = h2 % m;
  for (let i = 0; i < k; i++) {
    if ((bits[pos >>> 3] & (1 << (pos & 7))) === 0) return false;
    pos += step;
    if (pos >= m) pos -= m;
  }
  return true;
}

/** A filter of `keys` (distinct, or not: a repeat sets nothing new), sized for `keys.length` of them. */
export function buildBloom(keys: ArrayLike<number>, m = bloomBits(keys.length), k = BLOOM_HASHES): Buffer {
  const out = Buffer.alloc(BLOOM_HEADER_BYTES + m / 8);
  const bits = out.subarray(BLOOM_HEADER_BYTES);
  let load = 0;
  for (let i = 0; i < keys.length; i++) if (add(bits, m, k, keys[i])) load++;
  writeHeader(out, k, m, load);
  return out;
}

/**
 * A filter of m bits and k hashes filled one key at a time (repeats set nothing new), for keys too
 * many to list first, like a segment's 4-grams (quadgrams.ts); `load` counts the keys that set a
 * new bit so far.
 */
export function bloomBuilder(m: number, k: number): { add: (key: number) => void; load: () => number; finish: () => Buffer } {
  const out = Buffer.alloc(BLOOM_HEADER_BYTES + m / 8);
  const bits = out.subarray(BLOOM_HEADER_BYTES);
  let load = 0;
  return {
    add: (key) => {
      if (add(bits, m, k, key)) load++;
    },
    load: () => load,
    finish: () => {
      writeHeader(out, k, m, load);
      return out;
    },
  };
}

/**
 * `base` with `keys` added (a copy), or null when the result would be loaded past
 * MIN_BITS_PER_KEY bits per key (then build one from all of the keys, at the right size).
 */
export function extendBloom(base: Buffer, keys: ArrayLike<number>): Buffer | null {
  const f = parseBloom(base);
  if (!f) return null;
  const out = Buffer.from(base);
  const bits = out.subarray(BLOOM_HEADER_BYTES);
  let load = f.load;
  for (let i = 0; i < keys.length; i++) if (add(bits, f.m, f.k, keys[i])) load++;
  if (load * MIN_BITS_PER_KEY > f.m) return null;
  writeHeader(out, f.k, f.m, load);
  return out;
}

function writeHeader(out: Buffer, k: number, m: number, load: number): void {
  out[0] = BLOOM_VERSION;
  out[1] = k;
  out.writeUInt32LE(m, 2);
  out.writeUInt32LE(load, 6);
}

/** The filter a bytea holds; null for NULL or a format this code does not know (both: may hold anything). */
export function parseBloom(buf: Buffer | null | undefined): TrigramBloom | null {
  if (!buf || buf.length < BLOOM_HEADER_BYTES || buf[0] !== BLOOM_VERSION) return null;
  const k = buf[1];
  const m = buf.readUInt32LE(2);
  if (k < 1 || m < 8 || m % 8 !== 0 || buf.length !== BLOOM_HEADER_BYTES + m / 8) return null;
  return { k, m, load: buf.readUInt32LE(6), bits: buf.subarray(BLOOM_HEADER_BYTES) };
}
