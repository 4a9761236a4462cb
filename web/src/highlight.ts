// The code search's match offsets (CONTRACT §14) as pieces of text to show, each marked or not.
// The server counts 1-based code points, end exclusive; JavaScript strings count UTF-16 code units,
// so a character outside the Basic Multilingual Plane (an emoji, 𝔘, 𠀀) is one code point but two
// units. Pure (no DOM): the unit tests run it as is.

export interface Piece {
  text: string;
  mark: boolean;
}

/**
 * Where each code point of `text` starts, in code units, then `text.length`. A code point starts
 * at every unit that is not a low surrogate: a pair is one code point, as the server counts it; a
 * lone low surrogate (a preview cut in the middle of a pair) counts as no code point of its own.
 */
export function codePointStarts(text: string): number[] {
  const starts: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0xdc00 || c > 0xdfff) starts.push(i);
  }
  starts.push(text.length);
  return starts;
}

/**
 * `text` cut at the matches: [start, end) in 1-based code points, end exclusive. Offsets outside
 * the text are clamped, empty ranges dropped, overlapping or touching ones merged; in order.
 */
export function highlightPieces(text: string, matches: ReadonlyArray<readonly [number, number]>): Piece[] {
  const starts = codePointStarts(text);
  const count = starts.length - 1;
  const clamp = (n: number) => Math.max(0, Math.min(count, Math.trunc(n)));
  const ranges = matches
    .filter((m) => Array.isArray(m) && Number.isFinite(m[0]) && Number.isFinite(m[1]))
    .map(([s, e]): [number, number] => [clamp(s - 1), clamp(e - 1)])
    .filter(([s, e]) => e > s)
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const merged: Array<[number, number]> = [];
  for (const r of ranges) {
    const last = merged[merged.length - 1];
    if (last && r[0] <= last[1]) last[1] = Math.max(last[1], r[1]);
    else merged.push([r[0], r[1]]);
  }
  const pieces: Piece[] = [];
  let at = 0;
  for (const [s, e] of merged) {
    const from = starts[s];
    const to = starts[e];
    if (from > at) pieces.push({ text: text.slice(at, from), mark: false });
    pieces.push({ text: text.slice(from, to), mark: true });
    at = to;
  }
  if (at < text.length || pieces.length === 0) pieces.push({ text: text.slice(at), mark: false });
  return pieces;
}
