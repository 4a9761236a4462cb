// Text helpers shared by the build and the search: binary detection, the "word set" that the
// trigram index covers, and literal LIKE patterns.
//
// Why a word set: pg_trgm's trigrams of a text are the trigrams of its alphanumeric words (padded,
// lower-cased, de-duplicated), so indexing " w1 w2 … " (each distinct word once) gives the GIN index
// exactly the trigram set of the whole file at a fraction of the extraction cost. A search then
// asks the index for every word run of the query (with the word boundaries the query itself
// proves) and rechecks the real content with ILIKE.

/** A file is binary when it contains a NUL byte (git's own heuristic looks at the first 8 KiB). */
export function isBinary(data: Buffer): boolean {
  return data.indexOf(0, 0) >= 0;
}

// Characters treated as part of a word. pg_trgm splits on non-alphanumerics; this class is a
// superset of what it keeps (it keeps every non-ASCII character), so splitting here never cuts a
// word that PostgreSQL would keep whole, and PostgreSQL re-splits the rest identically.
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

/** Escapes LIKE metacharacters (with `ESCAPE '\'`). */
export function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * Patterns over the word set that every file containing `q` satisfies, keeping only those from
 * which pg_trgm can extract at least one trigram. Empty: the index cannot help (scan instead).
 */
export function wordPatterns(q: string): string[] {
  const out: string[] = [];
  WORD.lastIndex = 0;
  for (let m = WORD.exec(q); m; m = WORD.exec(q)) {
    const left = m.index > 0;
    const right = m.index + m[0].length < q.length;
    // pg_trgm pads a bounded word with two blanks before and one after.
    if (m[0].length + (left ? 2 : 0) + (right ? 1 : 0) < 3) continue;
    out.push(`%${left ? ' ' : ''}${asciiLower(m[0])}${right ? ' ' : ''}%`);
  }
  return [...new Set(out)];
}

export interface LineMatch {
  /** 1-based. */
  line: number;
  /** 1-based, in Unicode code points. */
  column: number;
  preview: string;
}

const PREVIEW_MAX = 300;

function codePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xdc00 || c > 0xdfff) n++;
  }
  return n;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Every line of `content` containing `q` (case-insensitive), with the column of its first match. */
export function findLineMatches(content: string, q: string, max: number): LineMatch[] {
  const out: LineMatch[] = [];
  const re = new RegExp(escapeRegExp(q), 'gi');
  let line = 1;
  let lineStart = 0;
  let scanned = 0;
  for (let m = re.exec(content); m && out.length < max; m = re.exec(content)) {
    // Advance the line counter to the match.
    for (let i = content.indexOf('\n', scanned); i >= 0 && i < m.index; i = content.indexOf('\n', i + 1)) {
      line++;
      lineStart = i + 1;
    }
    scanned = m.index;
    let lineEnd = content.indexOf('\n', m.index);
    if (lineEnd < 0) lineEnd = content.length;
    let text = content.slice(lineStart, lineEnd);
    if (text.endsWith('\r')) text = text.slice(0, -1);
    const col = m.index - lineStart;
    let preview = text;
    if (preview.length > PREVIEW_MAX) {
      const from = Math.max(0, Math.min(col - 100, text.length - PREVIEW_MAX));
      preview = text.slice(from, from + PREVIEW_MAX);
    }
    out.push({ line, column: codePoints(content.slice(lineStart, m.index)) + 1, preview });
    // One result per line: continue after this line.
    re.lastIndex = lineEnd + 1;
    if (m[0].length === 0) re.lastIndex++;
  }
  return out;
}
