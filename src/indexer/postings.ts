// Posting lists of the search index, built in node and stored per segment (Zoekt-style): a
// segment is the blocks one batch of a build added (numbered 0…n-1 in it), and for each trigram
// key the ascending list of the blocks holding it, as LEB128 varints of the gaps. A segment's
// keys are spread over 2^bits bucket rows (a multiplicative hash of the key) so a query reads one
// small row per key and segment, and a build writes a few thousand rows rather than one GIN entry
// per key and block (13 M for 62 MB of code). Segments pile up with pushes and are merged
// (segments.ts). See src/db/migrations/1764300000600-search-postings.ts for the tables.

/** Bytes a bucket row aims for. */
const BUCKET_BYTES = 4096;
export const MAX_BUCKET_BITS = 12;

/** Classes per character (blocks.ts: ASCII lower-cased, one class for the rest) → a dense index of a key. */
const CLASSES = 129;
const counts = new Uint32Array(CLASSES * CLASSES * CLASSES);

function dense(key: number): number {
  return ((key >>> 16) & 0xff) * CLASSES * CLASSES + ((key >>> 8) & 0xff) * CLASSES + (key & 0xff);
}

/** The multiplier of Fibonacci hashing (2^32 / φ); the search computes bucketOf in SQL with it too. */
export const FIB_HASH = 0x9e3779b1;

/** The bucket of a key among 2^bits: the top `bits` bits of key × FIB_HASH (mod 2^32). */
export function bucketOf(key: number, bits: number): number {
  return bits === 0 ? 0 : Math.imul(key, FIB_HASH) >>> (32 - bits);
}

export interface BucketRow {
  bucket: number;
  /** Ascending keys of the bucket. */
  keys: Int32Array;
  /** End offset in `postings` of each key's list (its start is the previous end). */
  ends: Int32Array;
  postings: Buffer;
}

export interface EncodedSegment {
  bits: number;
  blocks: number;
  buckets: BucketRow[];
  /** The segment's distinct keys, ascending (its trigram Bloom filter is built from them). */
  keys: Int32Array;
}

/**
 * Encodes the posting lists of blocks 0…n-1 of a segment from each block's distinct keys
 * (ascending, as textBlocks gives them): a counting sort by key, then varint gaps per key.
 */
export function encodeSegment(blockKeys: readonly Int32Array[]): EncodedSegment {
  const touched: number[] = [];
  let total = 0;
  for (const keys of blockKeys) {
    for (let i = 0; i < keys.length; i++) {
      const d = dense(keys[i]);
      if (counts[d]++ === 0) touched.push(keys[i]);
    }
    total += keys.length;
  }
  const sortedKeys = Int32Array.from(touched).sort();
  // Start of each key's list in `flat` (kept in `counts`, then advanced while scattering).
  let at = 0;
  for (let i = 0; i < sortedKeys.length; i++) {
    const d = dense(sortedKeys[i]);
    const n = counts[d];
    counts[d] = at;
    at += n;
  }
  const flat = new Uint32Array(total);
  blockKeys.forEach((keys, block) => {
    for (let i = 0; i < keys.length; i++) flat[counts[dense(keys[i])]++] = block;
  });
  // counts[d] is now the end of key d's list.
  let bits = 0;
  while (bits < MAX_BUCKET_BITS && (total * 1.2) / (1 << bits) > BUCKET_BYTES) bits++;
  const perBucket = new Map<number, number[]>();
  for (let i = 0; i < sortedKeys.length; i++) {
    const b = bucketOf(sortedKeys[i], bits);
    let list = perBucket.get(b);
    if (!list) perBucket.set(b, (list = []));
    list.push(i);
  }
  const scratch = Buffer.allocUnsafe(5 * Math.max(1, blockKeys.length) + 5);
  const buckets: BucketRow[] = [];
  for (const [bucket, idx] of perBucket) {
    const keys = new Int32Array(idx.length);
    const ends = new Int32Array(idx.length);
    const parts: Buffer[] = [];
    let size = 0;
    idx.forEach((ki, j) => {
      const key = sortedKeys[ki];
      const d = dense(key);
      const end = counts[d];
      const start = ki === 0 ? 0 : counts[dense(sortedKeys[ki - 1])];
      const n = writeGaps(flat, start, end, scratch);
      parts.push(Buffer.from(scratch.subarray(0, n)));
      size += n;
      keys[j] = key;
      ends[j] = size;
    });
    buckets.push({ bucket, keys, ends, postings: Buffer.concat(parts, size) });
  }
  for (let i = 0; i < sortedKeys.length; i++) counts[dense(sortedKeys[i])] = 0;
  buckets.sort((a, b) => a.bucket - b.bucket);
  return { bits, blocks: blockKeys.length, buckets, keys: sortedKeys };
}

function writeGaps(flat: Uint32Array, start: number, end: number, out: Buffer): number {
  let o = 0;
  let prev = -1;
  for (let i = start; i < end; i++) {
    let gap = flat[i] - prev - 1; // ≥ 0: lists are strictly ascending
    prev = flat[i];
    while (gap >= 0x80) {
      out[o++] = (gap & 0x7f) | 0x80;
      gap >>>= 7;
    }
    out[o++] = gap;
  }
  return o;
}

/** The blocks of one key's list. */
export function decodeList(postings: Buffer, start: number, end: number): number[] {
  const out: number[] = [];
  let prev = -1;
  let i = start;
  while (i < end) {
    let gap = 0;
    let shift = 0;
    let b: number;
    do {
      b = postings[i++];
      gap += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    prev += gap + 1;
    out.push(prev);
  }
  return out;
}

/** A key's list in a bucket row, or [] when the key is not in it. */
export function listOf(row: { keys: ArrayLike<number>; ends: ArrayLike<number>; postings: Buffer }, key: number): number[] {
  let lo = 0;
  let hi = row.keys.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const k = row.keys[mid];
    if (k === key) return decodeList(row.postings, mid === 0 ? 0 : row.ends[mid - 1], row.ends[mid]);
    if (k < key) lo = mid + 1;
    else hi = mid - 1;
  }
  return [];
}

/** Ascending values in every list (lists ascending). */
export function intersect(lists: number[][]): number[] {
  if (lists.length === 0) return [];
  const sorted = [...lists].sort((a, b) => a.length - b.length);
  let acc = sorted[0];
  for (let l = 1; l < sorted.length && acc.length; l++) {
    const other = sorted[l];
    const next: number[] = [];
    let j = 0;
    for (const v of acc) {
      while (j < other.length && other[j] < v) j++;
      if (j === other.length) break;
      if (other[j] === v) next.push(v);
    }
    acc = next;
  }
  return acc;
}

/** Ascending values in any list. */
export function union(lists: number[][]): number[] {
  const all = new Set<number>();
  for (const l of lists) for (const v of l) all.add(v);
  return [...all].sort((a, b) => a - b);
}
