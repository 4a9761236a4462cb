// Text helpers shared by the build and the search: line matching and literal
// LIKE patterns. The search index is blocks.ts and postings.ts.

/** Escapes LIKE metacharacters (with `ESCAPE '\'`). */
export function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

export interface LineMatch {
  /** 1-based. */
  line: number;
  /** 1-based, in Unicode code points. */
  column: number;
  preview: string;
}

const PREVIEW_MAX = 300;

function codePoints(s: string, from = 0, to = s.length): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xdc00 || c > 0xdfff) n++;
  }
  return n;
}

/** A literal as a JavaScript regular expression's source. */
export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Every line of `content` containing `q` (case-insensitive), with the column of its first match;
 * matches starting at or after `end` (code units) are not looked at.
 */
export function findLineMatches(content: string, q: string, max: number, end = Infinity): LineMatch[] {
  const out: LineMatch[] = [];
  const re = new RegExp(escapeRegExp(q), 'gi');
  let line = 1;
  let lineStart = 0;
  let scanned = 0;
  for (let m = re.exec(content); m && m.index < end && out.length < max; m = re.exec(content)) {
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
