// The search index's segments: posting lists round-trip (units), and against the run's
// PostgreSQL a run of pushes — each one a small segment — gets merged while search keeps
// answering exactly from the newest head.
import type { DataSource } from 'typeorm';
import { indexCommit, searchCode } from '../../src/indexer';
import { textBlocks } from '../../src/indexer/blocks';
import { closeParsePools } from '../../src/indexer/parse-pool';
import { bucketOf, decodeList, encodeSegment, intersect, listOf, union } from '../../src/indexer/postings';
import { createRepoRow, openTestDb, Origin } from './helpers';

describe('posting lists', () => {
  it('encode every block under each of its keys, and decode back', () => {
    const texts = ['alpha beta gamma\n', 'beta delta\n', 'ÄÖÜ 日本 beta\n', 'x'.repeat(40_000)];
    const blocks = texts.flatMap((t) => textBlocks(t).map((b) => b.keys));
    const seg = encodeSegment(blocks);
    expect(seg.blocks).toBe(blocks.length);
    const row = (key: number) => seg.buckets.find((b) => b.bucket === bucketOf(key, seg.bits))!;
    const all = new Set(blocks.flatMap((k) => [...k]));
    for (const key of all) {
      const want = blocks.flatMap((k, i) => (k.includes(key) ? [i] : []));
      expect([key, listOf(row(key), key)]).toEqual([key, want]);
    }
    expect(listOf(seg.buckets[0], 0x7f7f7f)).toEqual([]);
  });

  it('spread big segments over buckets and keep gaps of any size', () => {
    const keys = Array.from({ length: 3000 }, (_, i) => Int32Array.from([5, 1000 + (i % 7), i === 2999 ? 0x808080 : 6].sort((a, b) => a - b)));
    const seg = encodeSegment(keys);
    expect(seg.bits).toBeGreaterThan(0);
    const only = seg.buckets.find((b) => b.bucket === bucketOf(0x808080, seg.bits))!;
    expect(listOf(only, 0x808080)).toEqual([2999]);
    const gaps = Buffer.from([0x80 | 5, 0x01, 0x00]); // 133, then 0 → 133, 134
    expect(decodeList(gaps, 0, gaps.length)).toEqual([133, 134]);
  });

  it('intersect and union ascending lists', () => {
    expect(intersect([[1, 3, 5, 9], [3, 4, 5, 9, 12], [0, 5, 9]])).toEqual([5, 9]);
    expect(intersect([[1, 2], []])).toEqual([]);
    expect(union([[5, 9], [1, 5], []])).toEqual([1, 5, 9]);
  });
});

describe('segments of a repo', () => {
  let ds: DataSource;
  beforeAll(async () => {
    ds = await openTestDb();
  });
  afterAll(async () => {
    await ds?.destroy();
    await closeParsePools();
  });

  it('a run of 1-file pushes is merged and search answers from the newest head', async () => {
    const repoId = await createRepoRow(ds);
    const files: Record<string, string> = {};
    for (let i = 0; i < 60; i++) files[`src/f${i}.ts`] = `export const value${i} = ${i}; // stable${i}\n`;
    const origin = new Origin().write(files);
    const first = origin.commit();
    const clone = origin.clone();
    await indexCommit(ds, { repoId, gitDir: clone, commit: first });
    const segments = async () => (await ds.query(`SELECT count(*)::int AS n FROM index_segments WHERE repo_id = $1`, [repoId]))[0].n as number;
    expect(await segments()).toBe(1);

    for (let i = 0; i < 12; i++) {
      origin.write({ 'src/hot.ts': `export const hot = "pushToken${i}";\n` });
      origin.commit();
      const head = Origin.fetch(clone);
      expect((await indexCommit(ds, { repoId, gitDir: clone, commit: head })).kind).toBe('incremental');
      expect((await searchCode(ds, repoId, `pushToken${i}"`, 10))!.results.map((r) => r.path)).toEqual(['src/hot.ts']);
      if (i > 0) expect((await searchCode(ds, repoId, `pushToken${i - 1}"`, 10))!.results).toEqual([]);
      expect(await segments()).toBeLessThanOrEqual(1 + 9);
    }
    expect((await searchCode(ds, repoId, 'stable37', 10))!.results.map((r) => r.path)).toEqual(['src/f37.ts']);
    // Merged: the pushes' blocks of replaced versions are gone from the segments too.
    const [{ blocks }] = await ds.query(`SELECT sum(blocks)::int AS blocks FROM index_segments WHERE repo_id = $1`, [repoId]);
    expect(blocks).toBeLessThan(60 + 12);
  });
});
