// Against the run's PostgreSQL: the code search reads candidate blocks a batch at a time (16, 32,
// 64, …) and stops once the answer is full. Without file:/lang: one statement reads a batch's
// blocks with their text; with them the candidates' rows come first, all in one statement, and a
// block that no kept path holds is never read.
import type { DataSource, EntityManager } from 'typeorm';
import { indexCommit } from '../../src/indexer';
import { closeParsePools } from '../../src/indexer/parse-pool';
import { codeSearch, type CodeSearchAnswer, type SearchRepo } from '../../src/search/code-search';
import { createRepoRow, openTestDb, Origin } from '../indexer/helpers';

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

interface Statement {
  sql: string;
  params: unknown[];
}

/** The search (lines only), with the statements that read blocks (their rows, or their text). */
async function search(q: string, limit: number): Promise<{ answer: CodeSearchAnswer; reads: Statement[] }> {
  const reads: Statement[] = [];
  const answer = await ds.transaction('REPEATABLE READ', async (m) => {
    const spy = Object.create(m) as EntityManager;
    spy.query = (async (sql: string, params?: unknown[]) => {
      if (/FROM index_blocks|FROM index_blobs/.test(sql)) reads.push({ sql, params: params ?? [] });
      return m.query(sql, params);
    }) as EntityManager['query'];
    return codeSearch(spy, [repo], q, limit, 10_000, { linesOnly: true });
  });
  return { answer, reads };
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
