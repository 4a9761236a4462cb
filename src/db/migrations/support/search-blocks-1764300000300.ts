// Frozen for migration SearchBlocks1764300000300 (a migration must never run live indexer code,
// which moves on): the search blocks and the word sets exactly as that schema defined them —
// block cutting and trigram keys (with the repo key) into index_blocks(keys), and the word sets
// of the first schema for its `down`. Do not change: a database migrated later must end up where
// one migrated then did.
/** Longest query, in UTF-16 code units (a match spans exactly as many code units as the query). */
const MAX_QUERY = 200;
/** Code units a block aims for (see textBlocks). */
const BLOCK_CHARS = 8192;
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
function charClass(u: number): number {
  return u >= 128 ? OTHER : ASCII_CLASS[u];
}

const ASCII_CLASS = Uint8Array.from({ length: 128 }, (_, u) => (u >= 65 && u <= 90 ? u + 32 : u));

/** The key every block of a repo holds (negative, apart from the trigram keys), so one GIN probe is scoped to the repo. */
export function repoKey(repoId: string): number {
  let h = 0x811c9dc5;
  const s = repoId.toLowerCase();
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return -1 - (h & 0x7fffffff);
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
  // Sorted: PostgreSQL sorts each row's GIN entries and checks for sorted input first (−15% of
  // the index's insert CPU).
  return keyBuf.slice(0, n).sort();
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

/** `values` as PostgreSQL's binary int4[] (array_recv): a Buffer parameter is sent in binary. */
export function int4ArrayBinary(values: ArrayLike<number>): Buffer {
  if (values.length === 0) return Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 23]);
  const buf = Buffer.allocUnsafe(20 + values.length * 8);
  buf.writeInt32BE(1, 0); // dimensions
  buf.writeInt32BE(0, 4); // no nulls
  buf.writeInt32BE(23, 8); // int4
  buf.writeInt32BE(values.length, 12);
  buf.writeInt32BE(1, 16); // lower bound
  for (let i = 0, o = 20; i < values.length; i++, o += 8) {
    buf.writeInt32BE(4, o);
    buf.writeInt32BE(values[i], o + 4);
  }
  return buf;
}

/** A TypeORM QueryRunner or EntityManager. */
interface Queryable {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

/**
 * Inserts the blocks of blobs new to the repo, in one statement; a blob's blocks already there
 * are left alone. The keys travel as one binary int4[] that each row slices.
 */
export async function insertBlocks(db: Queryable, repoId: string, blobs: Array<{ sha: string; blocks: TextBlock[] }>): Promise<void> {
  const sha: string[] = [];
  const start: number[] = [];
  const length: number[] = [];
  const tail: number[] = [];
  const line: number[] = [];
  const lineStart: Array<number | null> = [];
  const first: number[] = [];
  const last: number[] = [];
  let total = 0;
  for (const b of blobs) {
    for (const block of b.blocks) {
      sha.push(b.sha);
      start.push(block.start);
      length.push(block.length);
      tail.push(block.tail);
      line.push(block.line);
      lineStart.push(block.lineStart);
      first.push(total + 1);
      total += block.keys.length + 1;
      last.push(total);
    }
  }
  if (sha.length === 0) return;
  const keys = new Int32Array(total);
  const own = repoKey(repoId);
  let o = 0;
  for (const b of blobs) {
    for (const block of b.blocks) {
      keys[o++] = own;
      keys.set(block.keys, o);
      o += block.keys.length;
    }
  }
  await db.query(
    `INSERT INTO index_blocks (repo_id, sha, start, length, tail, line, line_start, keys)
     SELECT $1, b.sha, b.start, b.length, b.tail, b.line, b.line_start, ($10::int4[])[b.first:b.last]
       FROM unnest($2::text[], $3::int[], $4::int[], $5::int[], $6::int[], $7::int[], $8::int[], $9::int[])
         AS b(sha, start, length, tail, line, line_start, first, last)
     ON CONFLICT (repo_id, sha, start) DO NOTHING`,
    [repoId, sha, start, length, tail, line, lineStart, first, last, int4ArrayBinary(keys)],
  );
}

// Word sets (the first schema's search, pg_trgm over each file's distinct words): characters treated
// as part of a word — a superset of what pg_trgm keeps (it keeps every non-ASCII character).
const WORD = /[A-Za-z0-9\u0080-\uffff]+/g;
const NON_ASCII = /[^\x00-\x7f]/;

function asciiLower(w: string): string {
  return NON_ASCII.test(w) ? w.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32)) : w.toLowerCase();
}

/** ' w1 w2 … ' — the distinct words of `text` (ASCII lower-cased), each once. */
export function wordSet(text: string): string {
  const seen = new Set<string>();
  WORD.lastIndex = 0;
  for (let m = WORD.exec(text); m; m = WORD.exec(text)) seen.add(asciiLower(m[0]));
  if (seen.size === 0) return ' ';
  return ` ${[...seen].join(' ')} `;
}
