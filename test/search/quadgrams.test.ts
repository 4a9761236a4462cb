// The segments' 4-gram filters (src/indexer/quadgrams.ts): every 4-gram of the texts is in the
// filter (no false negatives, also once the set of a big segment's 4-grams has grown several
// times), case folded as the trigram keys are, a false-positive rate near the design's (4 bits a
// key, k = 3: ~15 %), and a query's 4-grams.
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { buildQuadBloom, quadKeys } from '../../src/indexer/quadgrams';
import { bloomHas, parseBloom, type TrigramBloom } from '../../src/indexer/trigram-bloom';

const filterOf = (texts: string[]): TrigramBloom => parseBloom(buildQuadBloom(texts))!;
const holds = (f: TrigramBloom, s: string) => quadKeys(s).every((k) => bloomHas(f, k));

it('holds every 4-gram of real source, over many texts and a set grown past its first size', () => {
  const dir = path.resolve(__dirname, '../../node_modules/typescript/lib');
  const texts = ['lib.dom.d.ts', 'lib.es5.d.ts'].map((f) => fs.readFileSync(path.join(dir, f), 'utf8'));
  const f = filterOf(texts);
  let missing = 0;
  for (const text of texts) for (let i = 0; i + 4 <= text.length; i += 3) if (!holds(f, text.slice(i, i + 4))) missing++;
  expect(missing).toBe(0);
  // Upper case in a query finds lower case in the text (and the other way), as the trigram keys fold it.
  expect(holds(f, 'HTMLELEMENT')).toBe(true);
  expect(quadKeys('AbCd')).toEqual(quadKeys('aBcD'));
});

it('never rules out a 4-gram of the text, whatever the text (property)', () => {
  fc.assert(
    fc.property(fc.array(fc.string({ unit: 'binary', minLength: 0, maxLength: 300 }), { minLength: 1, maxLength: 8 }), (texts) => {
      const buf = buildQuadBloom(texts);
      const all = texts.flatMap((t) => Array.from({ length: Math.max(0, t.length - 3) }, (_, i) => t.slice(i, i + 4)));
      if (all.length === 0) return buf === null;
      const f = parseBloom(buf)!;
      return all.every((s) => holds(f, s));
    }),
    { numRuns: 300 },
  );
});

it('admits about 15 % of 4-grams it was not given (4 bits a key, 3 hashes)', () => {
  const words = Array.from({ length: 20_000 }, (_, i) => `w${i.toString(36)}q`);
  const f = filterOf([words.join(' ')]);
  let admitted = 0;
  const probes = 20_000;
  for (let i = 0; i < probes; i++) if (holds(f, `Z${(i * 7919).toString(36)}!`.slice(0, 4))) admitted++;
  expect(admitted / probes).toBeGreaterThan(0.05);
  expect(admitted / probes).toBeLessThan(0.25);
});

it('gives a segment of more distinct 4-grams than it holds no filter (may hold anything), not a set of hundreds of MB', () => {
  // 8 MB of pseudo-random printable ASCII: ~8 M distinct 4-grams.
  let x = 12345;
  const chars = Array.from({ length: 8_000_000 }, () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return String.fromCharCode(33 + (x >>> 16) % 94);
  });
  const before = process.memoryUsage().arrayBuffers;
  expect(buildQuadBloom([chars.join('')])).toBeNull();
  expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
  // And the next segment is filtered as usual.
  expect(holds(filterOf(['an ordinary segment']), 'ordinary')).toBe(true);
});

it('a query of fewer than 4 characters has no 4-grams; a text without 4 characters no filter', () => {
  expect(quadKeys('abc')).toEqual([]);
  expect(quadKeys('abcdabcd')).toHaveLength(4);
  expect(buildQuadBloom(['abc', '', 'xy'])).toBeNull();
  // Four NULs make the key 0, which the set keeps apart from its empty slots.
  expect(holds(filterOf(['ab\0\0\0\0cd']), '\0\0\0\0')).toBe(true);
});
