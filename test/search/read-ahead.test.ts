// Against the run's PostgreSQL: the code search reads candidate blocks a batch at a time (16, 32,
// 64, …). When the lines found so far say the batch being verified will not fill the answer, the
// next batch is already being read — an expression whose candidates rarely match reads thousands
// of blocks — and a batch read ahead but not needed adds nothing to the answer. A literal that
// fills the answer from its first batch reads nothing ahead.
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

/** The search (lines only), with how many statements read a batch of blocks. */
async function search(q: string, limit: number): Promise<{ answer: CodeSearchAnswer; reads: number }> {
  let reads = 0;
  const answer = await ds.transaction('REPEATABLE READ', async (m) => {
    const spy = Object.create(m) as EntityManager;
    spy.query = (async (sql: string, params?: unknown[]) => {
      if (/FROM index_blocks/.test(sql)) reads++;
      return m.query(sql, params);
    }) as EntityManager['query'];
    return codeSearch(spy, [repo], q, limit, 10_000, { linesOnly: true });
  });
  return { answer, reads };
}

beforeAll(async () => {
  ds = await openTestDb();
  repo = { id: await createRepoRow(ds), name: 'read-ahead/repo' };
  const origin = new Origin().write(FILES);
  const head = origin.commit();
  await indexCommit(ds, { repoId: repo.id, gitDir: origin.clone(), commit: head });
}, 120_000);

afterAll(async () => {
  await ds?.destroy();
  await closeParsePools();
});

it('reads the next batch while verifying one that will not fill the answer, and drops what it did not need', async () => {
  // Blocks 0–15, 16–47 and 48–111 (f100–f104) fill the answer of 5; block batch 112–149 was read
  // ahead while 48–111 was verified (nothing found before it), and is dropped.
  const { answer, reads } = await search('/use[A-Z]\\w+Effect/', 5);
  expect(answer.results.map((r) => [r.path, r.line, r.preview])).toEqual(
    [100, 101, 102, 103, 104].map((i) => [`src/f${i}.ts`, 3, `useLayoutEffect(() => measure(${i}));`]),
  );
  expect(answer.stats.truncated).toBe(true);
  expect(reads).toBe(4);
  // With room for every match, the same lines: nothing read ahead is lost or counted twice.
  const all = await search('/use[A-Z]\\w+Effect/', 50);
  expect(all.answer.results.map((r) => r.path)).toEqual([100, 101, 102, 103, 104].map((i) => `src/f${i}.ts`));
  expect(all.answer.stats.truncated).toBe(false);
  expect(all.reads).toBe(4);
});

it('reads nothing ahead for a literal whose first batch fills the answer', async () => {
  const { answer, reads } = await search('useEffect(() => subscribe', 5);
  expect(answer.results.map((r) => r.path)).toEqual([0, 1, 2, 3, 4].map((i) => `src/f${String(i).padStart(3, '0')}.ts`));
  expect(reads).toBe(1);
});
