// The trigram Bloom filters a search prunes segments and generations with
// (src/indexer/trigram-bloom.ts): never a false negative, over many random key sets; a
// false-positive rate near the design's (10 bits per key, k = 7: ~0.82 %); the header; growing a
// filter; and the plan over a filter (a literal or an expression found in a text is never ruled
// out by the filter of that text's keys).
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { RE2JS } from 're2js';
import { distinctKeys, textBlocks } from '../../src/indexer/blocks';
import {
  BLOOM_BITS_PER_KEY,
  BLOOM_HASHES,
  BLOOM_HEADER_BYTES,
  bloomBits,
  bloomHas,
  buildBloom,
  extendBloom,
  parseBloom,
  type TrigramBloom,
} from '../../src/indexer/trigram-bloom';
import { literalPlan, mayMatch, regexPlan } from '../../src/search/trigram-plan';

/** Keys as blocks.ts makes them: three 0–128 character classes. */
const KEY_SPACE = 129 << 16;
const keyArb = fc.integer({ min: 0, max: KEY_SPACE - 1 });

function filterOf(keys: ArrayLike<number>): TrigramBloom {
  return parseBloom(buildBloom(keys))!;
}

/** The design's false-positive rate: (1 - e^(-k/b))^k. */
const DESIGN_FP = (1 - Math.exp(-BLOOM_HASHES / BLOOM_BITS_PER_KEY)) ** BLOOM_HASHES;

/** A deterministic generator (fast-check drives the sets; probes need many numbers cheaply). */
function lcg(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s;
  };
}

describe('trigram Bloom filter', () => {
  it('reports every key it was built with as present (no false negatives), over many random key sets', () => {
    fc.assert(
      fc.property(fc.array(keyArb, { minLength: 0, maxLength: 3000, size: 'max' }), (keys) => {
        const f = filterOf(keys);
        return keys.every((k) => bloomHas(f, k));
      }),
      { numRuns: 300 },
    );
  });

  it('has no false negatives for sets of up to 200,000 keys either', () => {
    for (const [n, seed] of [
      [1, 1],
      [7, 2],
      [50_000, 3],
      [200_000, 4],
    ]) {
      const next = lcg(seed);
      const keys = Int32Array.from({ length: n }, () => next() % KEY_SPACE);
      const f = filterOf(keys);
      let missed = 0;
      for (const k of keys) if (!bloomHas(f, k)) missed++;
      expect([n, missed]).toEqual([n, 0]);
    }
  });

  it('says "present" for absent keys at about the design rate (~0.8 %)', () => {
    let probes = 0;
    let falsePositives = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const next = lcg(seed * 7919);
      const n = 500 + (next() % 20_000);
      const set = new Set<number>();
      while (set.size < n) set.add(next() % KEY_SPACE);
      const f = filterOf([...set]);
      for (let i = 0; i < 20_000; i++) {
        const k = next() % KEY_SPACE;
        if (set.has(k)) continue;
        probes++;
        if (bloomHas(f, k)) falsePositives++;
      }
    }
    const rate = falsePositives / probes;
    expect(DESIGN_FP).toBeCloseTo(0.0082, 3);
    // ~400,000 probes: the rate is within a few tenths of a percent of the design's.
    expect(rate).toBeGreaterThan(DESIGN_FP * 0.6);
    expect(rate).toBeLessThan(DESIGN_FP * 1.5);
  });

  it('keeps the rate near the design for real trigram keys (source code), not only random ones', () => {
    const src = fs.readFileSync(path.resolve(__dirname, '../../node_modules/typescript/lib/lib.dom.d.ts'), 'utf8');
    const half = Math.floor(src.length / 2);
    const inSet = new Set(textBlocks(src.slice(0, half)).flatMap((b) => [...b.keys]));
    const others = [...new Set(textBlocks(src.slice(half)).flatMap((b) => [...b.keys]))].filter((k) => !inSet.has(k));
    const f = filterOf([...inSet]);
    expect([...inSet].every((k) => bloomHas(f, k))).toBe(true);
    expect(others.length).toBeGreaterThan(1000);
    const rate = others.filter((k) => bloomHas(f, k)).length / others.length;
    expect(rate).toBeLessThan(DESIGN_FP * 2.5);
  });

  it('stores its k and size in the header; NULL and unknown formats may hold anything', () => {
    const buf = buildBloom([1, 2, 3, 4, 5]);
    const m = bloomBits(5);
    expect(m % 8).toBe(0);
    expect(buf.length).toBe(BLOOM_HEADER_BYTES + m / 8);
    expect(buf[0]).toBe(1);
    expect(buf[1]).toBe(BLOOM_HASHES);
    expect(buf.readUInt32LE(2)).toBe(m);
    expect(buf.readUInt32LE(6)).toBe(5);
    expect(parseBloom(buf)).toMatchObject({ k: BLOOM_HASHES, m, load: 5 });
    expect(bloomBits(100_000)).toBe(100_000 * BLOOM_BITS_PER_KEY);
    // An empty filter holds nothing; an unknown version or a torn value is no filter at all.
    expect(bloomHas(filterOf([]), 12345)).toBe(false);
    expect(parseBloom(null)).toBeNull();
    expect(parseBloom(Buffer.concat([Buffer.from([2]), buf.subarray(1)]))).toBeNull();
    expect(parseBloom(buf.subarray(0, buf.length - 1))).toBeNull();
  });

  it('grows by adding keys without losing any, and asks for a rebuild once overloaded', () => {
    fc.assert(
      fc.property(fc.array(keyArb, { minLength: 100, maxLength: 2000, size: 'max' }), fc.array(keyArb, { maxLength: 40, size: 'max' }), (base, added) => {
        const grown = extendBloom(buildBloom(base), added);
        if (!grown) return false; // 40 keys more cannot overload a filter sized for 100 or more (7 bits per key)
        const f = parseBloom(grown)!;
        return [...base, ...added].every((k) => bloomHas(f, k));
      }),
      { numRuns: 200 },
    );
    const next = lcg(99);
    expect(extendBloom(buildBloom([1, 2, 3]), Array.from({ length: 5000 }, () => next() % KEY_SPACE))).toBeNull();
  });
});

describe('a plan over a filter', () => {
  const text = fs.readFileSync(path.resolve(__dirname, '../../src/search/code-search.ts'), 'utf8');
  const lines = text.split('\n').filter((l) => l.trim().length > 3);
  const paths = ['src/search/code-search.ts', 'README.md', 'Ünïcode/Straße.txt', 'ab', 'x/KELVIN-\u212A.md', 'test/e2e/code-search.test.ts'];

  it('never rules out a literal found in the text (line blocks and file paths), with the same keys the index uses', () => {
    const lineFilter = filterOf([...new Set(textBlocks(text).flatMap((b) => [...b.keys]))]);
    const pathFilter = filterOf(distinctKeys(paths));
    fc.assert(
      fc.property(fc.nat(), fc.nat(), fc.integer({ min: 2, max: 30 }), (li, at, len) => {
        const line = lines[li % lines.length];
        const from = at % line.length;
        const lit = line.slice(from, from + len);
        const p = paths[li % paths.length];
        const pfrom = at % p.length;
        const plit = p.slice(pfrom, pfrom + len);
        // Case-insensitive as the search: an upper-cased query must pass too.
        return (
          mayMatch(literalPlan(lit), (k) => bloomHas(lineFilter, k)) &&
          mayMatch(literalPlan(lit.toUpperCase()), (k) => bloomHas(lineFilter, k)) &&
          mayMatch(literalPlan(plit), (k) => bloomHas(pathFilter, k))
        );
      }),
      { numRuns: 2000 },
    );
  });

  it('never rules out a path an expression matches', () => {
    const f = filterOf(distinctKeys(paths));
    for (const source of ['code-search\\.ts$', 'e2e/\\w+', '^ab$', 'stra(ß|ss)e', '[Kk]elvin', '(readme|license)\\.md', 'ünïcode']) {
      const re = RE2JS.compile(source, RE2JS.CASE_INSENSITIVE);
      expect([source, paths.some((p) => re.matcher(p).find()), mayMatch(regexPlan(source), (k) => bloomHas(f, k))]).toEqual([source, true, true]);
    }
  });

  it('rules out what the text lacks: AND needs every key, OR one of them', () => {
    const f = filterOf(distinctKeys(['src/alpha/beta.ts']));
    expect(mayMatch(literalPlan('alpha'), (k) => bloomHas(f, k))).toBe(true);
    expect(mayMatch(literalPlan('zebraquokka'), (k) => bloomHas(f, k))).toBe(false);
    expect(mayMatch(regexPlan('alpha|zebraquokka'), (k) => bloomHas(f, k))).toBe(true);
    expect(mayMatch(regexPlan('zebra|quokka'), (k) => bloomHas(f, k))).toBe(false);
    expect(mayMatch(regexPlan('.*'), (k) => bloomHas(f, k))).toBe(true);
    // A 2-character literal at a path's start: the pad's key (one of the 129 keys a 2-character
    // literal is the OR of — each a chance of a false positive, so such a plan prunes little).
    expect(mayMatch(literalPlan('sr'), (k) => bloomHas(f, k))).toBe(true);
  });

  it('distinctKeys gives each text the keys textBlocks gives it as one block', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 40, unit: 'binary' }), { maxLength: 8 }), (texts) => {
        const got = new Set(distinctKeys(texts));
        return texts.every((t) => t.length > 8000 || textBlocks(t).every((b) => [...b.keys].every((k) => got.has(k))));
      }),
      { numRuns: 300 },
    );
  });
});
