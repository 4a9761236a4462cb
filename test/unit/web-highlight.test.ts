// The web UI's reading of the code search's match offsets (CONTRACT §14: 1-based code points, end
// exclusive) as pieces of a JavaScript string (UTF-16 code units): characters outside the Basic
// Multilingual Plane, joined emoji, offsets out of range, overlaps. Checked against the server's
// own way of counting (src/search/code-search.ts) on random text.
import fc from 'fast-check';
import { codePointStarts, highlightPieces } from '../../web/src/highlight';

const marked = (text: string, matches: Array<[number, number]>) =>
  highlightPieces(text, matches)
    .filter((p) => p.mark)
    .map((p) => p.text);

it('marks the code points asked for, an astral character counting once', () => {
  expect(highlightPieces('foo.bar(1)', [[1, 4]])).toEqual([
    { text: 'foo', mark: true },
    { text: '.bar(1)', mark: false },
  ]);
  // 👋 is one code point and two code units: "findme" starts at code point 3 (1-based), unit 3 (0-based).
  expect(marked('👋 findme', [[3, 9]])).toEqual(['findme']);
  // 👩‍💻 is three code points (woman, ZWJ, laptop) and five units.
  expect(marked('👩‍💻 = "go";', [[7, 11]])).toEqual(['"go"']);
  expect(marked('𝔘𝔫𝔦 x', [[2, 4]])).toEqual(['𝔫𝔦']);
  expect(highlightPieces('𝔘𝔫𝔦', [[2, 4]]).map((p) => p.text).join('')).toBe('𝔘𝔫𝔦');
  expect(marked('Crème brûlée.', [[7, 13]])).toEqual(['brûlée']);
});

it('clamps offsets outside the text, drops empty ranges, merges overlaps, keeps the order', () => {
  expect(highlightPieces('abc', [])).toEqual([{ text: 'abc', mark: false }]);
  expect(highlightPieces('', [[1, 2]])).toEqual([{ text: '', mark: false }]);
  expect(marked('abcdef', [[5, 99]])).toEqual(['ef']);
  expect(marked('abcdef', [[0, 2]])).toEqual(['a']);
  expect(marked('abcdef', [[3, 3], [4, 2]])).toEqual([]);
  expect(marked('abcdef', [[4, 6], [1, 3], [2, 4]])).toEqual(['abcde']);
  expect(marked('ab ab ab', [[1, 3], [7, 9], [4, 6]])).toEqual(['ab', 'ab', 'ab']);
});

it('counts as the server does, even with a surrogate pair cut at the preview’s edge', () => {
  // The server: code points in s[0, i) = the units in it that are not low surrogates.
  const serverCp = (s: string, i: number) => {
    let n = 0;
    for (let k = 0; k < i; k++) if (s.charCodeAt(k) < 0xdc00 || s.charCodeAt(k) > 0xdfff) n++;
    return n;
  };
  const cut = '\udc4b rest';
  expect(codePointStarts(cut)).toEqual([1, 2, 3, 4, 5, 6]);
  expect(marked(cut, [[serverCp(cut, 2) + 1, serverCp(cut, 6) + 1]])).toEqual(['rest']);

  const pieces = fc.array(fc.oneof(fc.constantFrom('a', 'é', '👋', '𝔘', '\u200d', ' ', 'x', '\udc00', '\ud83d')), { maxLength: 30 });
  fc.assert(
    fc.property(pieces, fc.nat(40), fc.nat(40), (chars, a, b) => {
      const text = chars.join('');
      const [from, to] = [Math.min(a, b, text.length), Math.min(Math.max(a, b), text.length)];
      fc.pre(to > from);
      // Only ranges on code-point boundaries, as the server's matches are.
      const boundary = (i: number) => i === text.length || !(text.charCodeAt(i) >= 0xdc00 && text.charCodeAt(i) <= 0xdfff && i > 0 && text.charCodeAt(i - 1) >= 0xd800 && text.charCodeAt(i - 1) <= 0xdbff);
      fc.pre(boundary(from) && boundary(to));
      const start = serverCp(text, from) + 1;
      const end = serverCp(text, to) + 1;
      fc.pre(end > start);
      const got = highlightPieces(text, [[start, end]]);
      expect(got.map((p) => p.text).join('')).toBe(text);
      const mark = got.filter((p) => p.mark).map((p) => p.text);
      expect(mark).toHaveLength(1);
      // The same code points. A lone low surrogate counts as none: it goes with what stands before
      // it, so lone ones right at `from` stay outside and lone ones right at `to` come inside.
      const lone = (s: string) => /^[\udc00-\udfff]*/.exec(s)![0];
      const slice = text.slice(from, to);
      expect(mark[0]).toBe(slice.slice(lone(slice).length) + lone(text.slice(to)));
    }),
    { numRuns: 500 },
  );
});
