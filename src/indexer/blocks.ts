// The search index's units (CONTRACT §7 search). Each text blob is cut into blocks of about 8 K
// characters (whole lines; a very long line is cut too), and each block is indexed by the set of
// its character trigrams, folded the way the search's `/q/i` folds case: posting lists per
// segment (postings.ts; exact, so nothing needs a recheck). A query's trigrams select the blocks
// holding all of them, and only those blocks are read back (a byte range of the blob) and searched.
// - Raw trigrams, punctuation and spaces included, keep a phrase like `out += this.` from
//   selecting every file that merely has the words `out` and `this` somewhere.
// - Blocks keep a big file from being a candidate for most queries and from being read whole.
// - Each block is indexed with the MAX_QUERY - 1 characters after it (its tail), so a match that
//   starts in a block always lies in its indexed text; matches are counted where they start.
/** Longest query, in UTF-16 code units (a match spans exactly as many code units as the query). */
export const MAX_QUERY = 200;
/** Code units a block aims for (see textBlocks). */
export const BLOCK_CHARS = 8192;
/** Code units indexed (and read back) after a block, so every match starting in it is covered. */
const OVERLAP = MAX_QUERY - 1;
/** The class of every non-ASCII code unit; also the highest class. */
const OTHER = 128;

/**
 * A character's class in the index: ASCII lower-cased, everything else one class. The search's
 * `/q/i` (no `u` flag) matches an ASCII letter only with its two cases, and never an ASCII
 * character with a non-ASCII one (ECMAScript Canonicalize); which non-ASCII characters match each
 * other follows the Unicode case tables, which gain pairs between versions (Georgian, Cherokee):
 * putting them in one class keeps an index built by one Node.js exact for the next. Class 0 (NUL,
 * never in text or queries) pads the start of a block.
 */
export function charClass(u: number): number {
  return u >= 128 ? OTHER : ASCII_CLASS[u];
}

const ASCII_CLASS = Uint8Array.from({ length: 128 }, (_, u) => (u >= 65 && u <= 90 ? u + 32 : u));

function trigramKey(a: number, b: number, c: number): number {
  return (a << 16) | (b << 8) | c;
}

export interface TextBlock {
  /** UTF-8 bytes of the blob before the block (the search slices bytes: counting characters is slow). */
  start: number;
  /** UTF-8 bytes of the block itself. */
  length: number;
  /** UTF-8 bytes of the overlap after it (indexed and read back with it). */
  tail: number;
  /** 1-based line of the block's first character. */
  line: number;
  /** When the block starts inside a line (cut because it is too long): where that line starts, in bytes. */
  lineStart: number | null;
  /** Distinct trigram keys of the block and its overlap, ascending. */
  keys: Int32Array;
}

/** UTF-8 length of s[from, to) (blocks never split a surrogate pair, and text never holds a lone one). */
function utf8Length(s: string, from: number, to: number): number {
  return Buffer.byteLength(s.slice(from, to), 'utf8');
}

/** The code units of `s` that its last `bytes` UTF-8 bytes hold (a block's tail: at most MAX_QUERY - 1). */
export function unitsInLastBytes(s: string, bytes: number): number {
  let n = 0;
  let i = s.length;
  while (i > 0 && n < bytes) {
    const c = s.charCodeAt(--i);
    n += c < 0x80 ? 1 : c < 0x800 || (c & 0xf800) === 0xd800 ? 2 : 3;
  }
  return s.length - i;
}

// Which keys a block already has: one bit per possible key, cleared after each block.
const seen = new Uint32Array((OTHER + 1) << 11);
let keyBuf = new Int32Array(4096);

function blockKeys(text: string, from: number, to: number): Int32Array {
  let n = 0;
  let k = from < to ? charClass(text.charCodeAt(from)) : 0; // (pad, pad, c0) says nothing
  for (let i = from + 1; i < to; i++) {
    const u = text.charCodeAt(i);
    k = ((k << 8) | (u < 128 ? ASCII_CLASS[u] : OTHER)) & 0xffffff;
    const word = k >>> 5;
    const bit = 1 << (k & 31);
    if (seen[word] & bit) continue;
    seen[word] |= bit;
    if (n === keyBuf.length) {
      const bigger = new Int32Array(n * 2);
      bigger.set(keyBuf);
      keyBuf = bigger;
    }
    keyBuf[n++] = k;
  }
  for (let i = 0; i < n; i++) seen[keyBuf[i] >>> 5] = 0;
  // Ascending, as the posting lists are built (postings.ts).
  return keyBuf.slice(0, n).sort();
}

/**
 * The distinct keys of several texts, each keyed as a block of its own (its first key starts with
 * the pad, so a 2-character query at a text's start finds it), ascending: a generation's file paths.
 */
export function distinctKeys(texts: Iterable<string>): Int32Array {
  const have = new Uint32Array((OTHER + 1) << 11);
  const out: number[] = [];
  for (const text of texts) {
    let k = text.length > 0 ? charClass(text.charCodeAt(0)) : 0;
    for (let i = 1; i < text.length; i++) {
      const u = text.charCodeAt(i);
      k = ((k << 8) | (u < 128 ? ASCII_CLASS[u] : OTHER)) & 0xffffff;
      const bit = 1 << (k & 31);
      if (have[k >>> 5] & bit) continue;
      have[k >>> 5] |= bit;
      out.push(k);
    }
  }
  return Int32Array.from(out).sort();
}

/**
 * Cuts `content` into blocks and lists each one's trigram keys; at least one block. A block ends
 * at the first line end at or after BLOCK_CHARS code units, or, when that line would make it
 * longer than twice that, at the last line end before; a line too long for either is cut every
 * BLOCK_CHARS code units (never inside a surrogate pair).
 */
export function textBlocks(content: string): TextBlock[] {
  const len = content.length;
  const newlines: number[] = [];
  for (let i = content.indexOf('\n'); i >= 0; i = content.indexOf('\n', i + 1)) newlines.push(i);
  const out: TextBlock[] = [];
  let start = 0;
  let startByte = 0;
  let lineStartByte = 0; // where the line holding `start` starts
  let k = 0; // the first newline at or after `start`
  do {
    while (k < newlines.length && newlines[k] < start) k++;
    let end = len;
    if (len - start > BLOCK_CHARS) {
      const target = start + BLOCK_CHARS;
      let j = k;
      while (j < newlines.length && newlines[j] < target - 1) j++;
      const lineEnd = j < newlines.length ? newlines[j] + 1 : len;
      if (lineEnd - start <= 2 * BLOCK_CHARS) end = lineEnd;
      else if (j > k) end = newlines[j - 1] + 1;
      else end = (content.charCodeAt(target - 1) & 0xfc00) === 0xd800 ? target + 1 : target;
    }
    let read = Math.min(len, end + OVERLAP);
    if (read < len && (content.charCodeAt(read - 1) & 0xfc00) === 0xd800) read++;
    const own = utf8Length(content, start, end);
    out.push({
      start: startByte,
      length: own,
      tail: utf8Length(content, end, read),
      line: k + 1,
      lineStart: lineStartByte < startByte ? lineStartByte : null,
      keys: blockKeys(content, start, read),
    });
    if (content.charCodeAt(end - 1) === 10) lineStartByte = startByte + own;
    start = end;
    startByte += own;
  } while (start < len);
  return out;
}

/**
 * The keys a block holding `q` must have: `all` of them, and when given one of `any` too. Three or
 * more characters: every trigram of the query. Two: a trigram ending with them (a block's first
 * character follows the pad). One: null, the index cannot help.
 */
export function queryKeys(q: string): { all: number[]; any: number[] | null } | null {
  if (q.length < 2) return null;
  const c = Array.from({ length: q.length }, (_, i) => charClass(q.charCodeAt(i)));
  if (q.length === 2) return { all: [], any: Array.from({ length: OTHER + 1 }, (_, x) => trigramKey(x, c[0], c[1])) };
  const all = new Set<number>();
  for (let i = 2; i < c.length; i++) all.add(trigramKey(c[i - 2], c[i - 1], c[i]));
  return { all: [...all], any: null };
}
