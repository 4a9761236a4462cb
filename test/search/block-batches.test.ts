// Against the run's PostgreSQL: the code search reads candidate blocks a batch at a time (16, 32,
// 64, …, growing on from one wave of repos to the next; once lines were found, as many as the answer
// needs at the rate they were found) and stops once the answer is full. Without
// file:/lang: one statement reads a batch's blocks with their text; with them the candidates' rows
// come first, all in one statement, and a block that no kept path holds is never read. A line cut
// into blocks is one result, and is read once by a statement that reads several of its blocks.
import type { DataSource, EntityManager } from 'typeorm';
import { indexCommit } from '../../src/indexer';
import { closeParsePools } from '../../src/indexer/parse-pool';
import { codeSearch, type CodeSearchAnswer, type SearchRepo } from '../../src/search/code-search';
import { createRepoRow, openTestDb, Origin } from '../indexer/helpers';
import { recording, type Statement } from './recorded-statements';

let ds: DataSource;
let repo: SearchRepo;

/** 150 small files (a block each), in path order; f100–f104 also hold a useXEffect call. */
const FILES = Object.fromEntries(
  Array.from({ length: 150 }, (_, i) => {
    const name = `src/f${String(i).padStart(3, '0')}.ts`;
    const extra = i >= 100 && i < 105 ? `useLayoutEffect(() => measure(${i}));\n` : '';
    return [name, `import { useEffect } from 'react';\nuseEffect(() => subscribe(${i}));\n${extra}`];
  }),
);

/** The search (lines only), with the statements that read blocks (their rows, or their text). */
async function search(q: string, limit: number): Promise<{ answer: CodeSearchAnswer; reads: Statement[] }> {
  const statements: Statement[] = [];
  const answer = await ds.transaction('REPEATABLE READ', (m) => codeSearch(recording(m, statements), [repo], q, limit, 10_000, { linesOnly: true }));
  return { answer, reads: statements.filter((s) => /FROM index_blocks|FROM index_blobs/.test(s.sql)) };
}

beforeAll(async () => {
  ds = await openTestDb();
  repo = { id: await createRepoRow(ds), name: 'block-batches/repo' };
  const origin = new Origin().write(FILES);
  const head = origin.commit();
  await indexCommit(ds, { repoId: repo.id, gitDir: origin.clone(), commit: head });
}, 120_000);

afterAll(async () => {
  await ds?.destroy();
  await closeParsePools();
});

it('reads batches of 16, 32, 64 blocks, one statement each, until the answer is full', async () => {
  // f100–f104 are in the third batch (blocks 48–111): the fourth is never read.
  const { answer, reads } = await search('/use[A-Z]\\w+Effect/', 5);
  expect(answer.results.map((r) => [r.path, r.line, r.preview])).toEqual(
    [100, 101, 102, 103, 104].map((i) => [`src/f${i}.ts`, 3, `useLayoutEffect(() => measure(${i}));`]),
  );
  expect(answer.stats.truncated).toBe(true);
  expect(reads.map((r) => (r.params[0] as unknown[]).length)).toEqual([16, 32, 64]);
  // With room for every match, every candidate block is read (a fourth batch of the last 38), the same lines found.
  const all = await search('/use[A-Z]\\w+Effect/', 50);
  expect(all.answer.results.map((r) => r.path)).toEqual([100, 101, 102, 103, 104].map((i) => `src/f${i}.ts`));
  expect(all.answer.stats).toMatchObject({ truncated: false, files: 150 });
  expect(all.reads.map((r) => (r.params[0] as unknown[]).length)).toEqual([16, 32, 64, 38]);
  // A literal whose first batch fills the answer reads that batch only.
  const dense = await search('useEffect(() => subscribe', 5);
  expect(dense.answer.results.map((r) => r.path)).toEqual([0, 1, 2, 3, 4].map((i) => `src/f${String(i).padStart(3, '0')}.ts`));
  expect(dense.reads).toHaveLength(1);
});

it('once lines were found, reads as many blocks as the rest of the answer needs at the rate they were found', async () => {
  // A line in every block: the first batch of 16 finds 16; the 84 left need 84 blocks, a quarter more: 105 (doubling: 32, 64).
  const { answer, reads } = await search('useEffect(() => subscribe', 100);
  expect(answer.results.map((r) => r.path)).toEqual(Array.from({ length: 100 }, (_, i) => `src/f${String(i).padStart(3, '0')}.ts`));
  expect(reads.map((r) => (r.params[0] as unknown[]).length)).toEqual([16, 105]);
  // With file: the same, for the blocks the filters keep.
  const filtered = await search('file:\\.ts$ useEffect(() => subscribe', 100);
  expect(filtered.answer.results).toHaveLength(100);
  const texts = filtered.reads.filter((r) => /FROM index_blobs/.test(r.sql) && !/FROM index_blocks/.test(r.sql));
  expect(texts.map((r) => (r.params[0] as unknown[]).length)).toEqual([16, 105]);
});

it('with file: or lang:, reads the text only of the blocks whose paths the filters keep', async () => {
  const { answer, reads } = await search('-file:f10[0-3] /use[A-Z]\\w+Effect/', 50);
  expect(answer.results.map((r) => r.path)).toEqual(['src/f104.ts']);
  // The 150 candidates' rows in one statement, then the text of the blocks the filters keep only (150 − 4), a batch at a time.
  expect(reads.filter((r) => /FROM index_blocks/.test(r.sql)).map((r) => (r.params[0] as unknown[]).length)).toEqual([150]);
  const texts = reads.filter((r) => /FROM index_blobs/.test(r.sql) && !/FROM index_blocks/.test(r.sql));
  expect(texts.map((r) => (r.params[0] as unknown[]).length)).toEqual([16, 32, 64, 34]);
  const none = await search('lang:rust /use[A-Z]\\w+Effect/', 50);
  expect(none.answer.results).toEqual([]);
  expect(none.reads.filter((r) => /FROM index_blobs/.test(r.sql))).toEqual([]);
});

it("reads on at the batch size it reached when the search goes on to the next wave of repos", async () => {
  const files = (n: number, match: number) =>
    Object.fromEntries(Array.from({ length: n }, (_, i) => [`src/g${String(i).padStart(3, '0')}.ts`, `useEffect(() => tick(${i}));\n${i === match ? 'useLayoutEffect(() => measure());\n' : ''}`]));
  const waveRepos: SearchRepo[] = [];
  // wave-0's files hold no match: the search has found no line when it goes on to wave-1.
  for (const [name, n, match] of [['block-batches/wave-0', 20, -1], ['block-batches/wave-1', 100, 99]] as const) {
    const r = { id: await createRepoRow(ds), name };
    const origin = new Origin().write(files(n, match));
    const head = origin.commit();
    await indexCommit(ds, { repoId: r.id, gitDir: origin.clone(), commit: head });
    waveRepos.push(r);
  }
  const statements: Statement[] = [];
  // A wave per repo (the first wave one segment: wave-0's; the next four times that, up to the end of wave-1's).
  const answer = await ds.transaction('REPEATABLE READ', (m) =>
    codeSearch(recording(m, statements), waveRepos, '/use[A-Z]\\w+Effect/', 50, 10_000, { linesOnly: true, waves: { oneWaveLookups: 1, firstWave: 1 } }),
  );
  expect(answer.results.map((r) => `${r.repo.name}:${r.path}`)).toEqual(['block-batches/wave-1:src/g099.ts']);
  expect(statements.filter((s) => /AS segment_id/.test(s.sql))).toHaveLength(2);
  // wave-0's 20 blocks (no match): 16, then the 4 left (a batch of 32); wave-1's 100 go on at 64, then the 36 left (not 16, 32, 52 again).
  const reads = statements.filter((s) => /FROM index_blocks/.test(s.sql)).map((s) => (s.params[0] as unknown[]).length);
  expect(reads).toEqual([16, 4, 64, 36]);
});

it('a line cut into blocks is one result, from the first block that matches in it, and the lines after it are found', async () => {
  const q = 'q'.repeat(3000);
  // One line of ~21,000 characters (cut into blocks: the later ones are read from its start), then two short ones.
  const long = `const a = "${q}needleOne${q.repeat(3)}needleTwo${q.repeat(3)}needleThree";\nlet needleFour = 1;\nlet other = 2;\n`;
  // The same line with its only match in its last block.
  const late = `const b = "${q.repeat(10)}needleFive";\nlet needleSix = 1;\n`;
  const r = { id: await createRepoRow(ds), name: 'block-batches/cut-lines' };
  const origin = new Origin().write({ 'src/long.js': long, 'src/late.js': late });
  const head = origin.commit();
  await indexCommit(ds, { repoId: r.id, gitDir: origin.clone(), commit: head });
  for (const query of ['needle', '/needle\\w+/']) {
    const answer = await ds.transaction('REPEATABLE READ', (m) => codeSearch(m, [r], query, 50, 10_000, { linesOnly: true }));
    const results = answer.results.map((x) => [x.path, x.line, x.preview.includes('needleOne'), x.preview.includes('needleFive')]);
    expect([query, results]).toEqual([
      query,
      [
        ['src/late.js', 1, false, true],
        ['src/late.js', 2, false, false],
        ['src/long.js', 1, true, false],
        ['src/long.js', 2, false, false],
      ],
    ]);
  }
});

/** A manager that adds up the characters of the block text every statement hands back (streamed or not). */
function countingText(m: EntityManager, total: { chars: number }): EntityManager {
  return recording(m, [], (row) => {
    const text = (row as { text?: unknown }).text;
    if (typeof text === 'string') total.chars += text.length;
  });
}

it('reads a long line once when a statement reads several of its blocks, and finds a match begun in an earlier block', async () => {
  // ~200,000 characters on one line (25 blocks), "needle" in every block; then a line whose match
  // begins in its second block and ends in its third (`needle` + 12,000 w's + `Effect`), both
  // candidates: the third is read from where the second's read ended, and joined to it.
  const dense = `const d = "${'needle haystack '.repeat(12_500)}";\nlet after = "needle";\n`;
  const spanning = `const s = "${'x'.repeat(9_000)} needle Effect needleW${'w'.repeat(12_000)}Effect needle ${'z'.repeat(10_000)}";\n`;
  const r = { id: await createRepoRow(ds), name: 'block-batches/long-lines' };
  const origin = new Origin().write({ 'src/dense.js': dense, 'src/spanning.js': spanning });
  const head = origin.commit();
  await indexCommit(ds, { repoId: r.id, gitDir: origin.clone(), commit: head });
  const cases: Array<[string, Parameters<typeof codeSearch>[5]]> = [
    ['needle', {}], // streamed
    ['needle', { maxKeptFiles: 0 }], // read whole, then the blocks' paths
    ['file:\\.js$ needle', {}], // the rows first, then the text of those the filter keeps
  ];
  for (const [q, opts] of cases) {
    const total = { chars: 0 };
    const answer = await ds.transaction('REPEATABLE READ', (m) => codeSearch(countingText(m, total), [r], q, 50, 10_000, { linesOnly: true, ...opts }));
    expect([q, opts, answer.results.map((x) => `${x.path}:${x.line}:${x.column}`)]).toEqual([q, opts, ['src/dense.js:1:12', 'src/dense.js:2:14', 'src/spanning.js:1:101']]);
    // Each statement reads a line from its start once (the first batch's 16 blocks, then the next one's 9 again
    // from the start: ~350,000 characters); each block from its line's start would be ~2.6 million.
    expect([q, opts, total.chars < 2 * (dense.length + spanning.length)]).toEqual([q, opts, true]);
  }
  // The expression's match begins in the second block of its line (preview: from 100 characters before it).
  const expr = await ds.transaction('REPEATABLE READ', (m) => codeSearch(m, [r], '/needle\\w+Effect/', 50, 10_000, { linesOnly: true }));
  // (Its range ends where the 300-character preview does.)
  expect(expr.results.map((x) => [x.path, x.line, x.matches])).toEqual([['src/spanning.js', 1, [[101, 301]]]]);
});
