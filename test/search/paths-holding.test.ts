// pathsHolding (src/search/file-cache.ts): the file-name pass tries only the paths the lowercased
// names say may hold the literal — never fewer than those that hold it as JavaScript's `i` flag
// matches (what the pass then checks), whatever the paths' characters.
import { lowerNamesOf, pathsHolding, type GenerationFiles } from '../../src/search/file-cache';
import { escapeRegExp } from '../../src/indexer/text';

const files = (paths: string[]): GenerationFiles => ({ paths, languages: paths.map(() => null), textBySha: new Map(), ...lowerNamesOf(paths) });

it('gives each path holding the literal once, ascending, and few others', () => {
  const f = files(['src/Readonly.ts', 'lib/readme.md', 'READONLY/x.ts', 'a/b/readonlyreadonly.ts', 'docs/readon', 'ly.ts']);
  expect([...pathsHolding(f, 'readonly')]).toEqual([0, 2, 3]);
  expect([...pathsHolding(f, 'READ')]).toEqual([0, 1, 2, 3, 4]);
  expect([...pathsHolding(f, 'nothing here')]).toEqual([]);
  // No literal, or one with a character beyond ASCII: every path, for the pass to match.
  expect([...pathsHolding(f, null)]).toEqual([0, 1, 2, 3, 4, 5]);
  expect([...pathsHolding(f, 'reádonly')]).toEqual([0, 1, 2, 3, 4, 5]);
});

it('never leaves out a path that holds the literal case-insensitively (random paths with letters whose case changes their length or form)', () => {
  // Letters whose lowercase is longer (İ), another letter (K Kelvin sign, ſ), depends on context (Σ), or none (ß).
  const alphabet = ['a', 'b', 'K', 'k', 'S', 's', 'I', 'i', '/', '.', '-', 'İ', 'ſ', '\u212a', 'Σ', 'ς', 'ß', 'é', 'É', '😀'];
  let seed = 7;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  for (let round = 0; round < 200; round++) {
    const paths = Array.from({ length: 1 + rand(40) }, () => Array.from({ length: 1 + rand(12) }, () => alphabet[rand(alphabet.length)]).join(''));
    const f = files(paths);
    for (let q = 0; q < 10; q++) {
      const from = paths[rand(paths.length)];
      const at = rand(from.length);
      const literal = [...from.slice(at, at + 1 + rand(4))].map((ch) => (rand(2) ? ch.toUpperCase() : ch.toLowerCase())).join('');
      if (!/^[\x00-\x7f]+$/.test(literal)) continue;
      const re = new RegExp(escapeRegExp(literal), 'i');
      const tried = [...pathsHolding(f, literal)];
      expect(tried).toEqual([...new Set(tried)].sort((x, y) => x - y));
      for (const [i, p] of paths.entries()) if (re.test(p)) expect([literal, p, tried.includes(i)]).toEqual([literal, p, true]);
    }
  }
});
