// The segments' 4-gram filters (src/indexer/quadgrams.ts), built from UTF-8 bytes as a segment
// builds them: every 4-gram of the texts is in the filter (no false negatives, for real source and
// any text, characters outside the BMP as two code units), case folded as the trigram keys are,
// a false-positive rate near the design's (4 bits a key, k = 3: ~15 %), no filter for a text with
// far more 4-grams than its trigrams promise, and a query's 4-grams.
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { distinctKeys } from '../../src/indexer/blocks';
import { buildQuadBloom, quadKeys } from '../../src/indexer/quadgrams';
import { bloomHas, parseBloom, type TrigramBloom } from '../../src/indexer/trigram-bloom';

/** As a segment builds it: the blobs' UTF-8 bytes, sized by their distinct trigrams. */
const build = (texts: string[]) => buildQuadBloom(texts.map((t) => Buffer.from(t, 'utf8')), distinctKeys(texts).length);
const filterOf = (texts: string[]): TrigramBloom => parseBloom(build(texts))!;
const holds = (f: TrigramBloom, s: string) => quadKeys(s).every((k) => bloomHas(f, k));

it('holds every 4-gram of real source, over several texts', () => {
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
    fc.property(fc.array(fc.string({ unit: 'binary', minLength: 0, maxLength: 300 }).map((t) => Buffer.from(t, 'utf8').toString('utf8')), { minLength: 1, maxLength: 8 }), (texts) => {
      const buf = build(texts);
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

it('gives a segment of far more distinct 4-grams than its trigrams promise no filter (may hold anything)', () => {
  // 1 M pseudo-random letters of 20: all 8,000 trigrams, ~150,000 distinct 4-grams (19 per trigram, not 3).
  let x = 12345;
  const text = Array.from({ length: 1_000_000 }, () => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return 'abcdefghijklmnopqrst'[(x >>> 16) % 20];
  }).join('');
  expect(build([text])).toBeNull();
  // And the next segment is filtered as usual.
  expect(holds(filterOf(['an ordinary segment']), 'ordinary')).toBe(true);
});

it('a query of fewer than 4 characters has no 4-grams; a text without 4 characters no filter', () => {
  expect(quadKeys('abc')).toEqual([]);
  expect(quadKeys('abcdabcd')).toHaveLength(4);
  expect(build(['abc', '', 'xy'])).toBeNull();
  // Outside the BMP a character is two code units (two classes), as the search's strings have it.
  expect(holds(filterOf(['xa\u{1F600}bcd']), 'a\u{1F600}b')).toBe(true);
  expect(holds(filterOf(['xa\u{1F600}bcd']), '\u{1F600}bc')).toBe(true);
  // Four NULs make the key 0, which the set keeps apart from its empty slots.
  expect(holds(filterOf(['ab\0\0\0\0cd']), '\0\0\0\0')).toBe(true);
});
