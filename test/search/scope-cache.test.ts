// Against the run's PostgreSQL: a search keeps what it read of its repos' scope (their active
// generations and segments) and the next search over the same repos reads only its fingerprint —
// never a stale scope: a push's new generation and segments are searched by the next search, and
// a search whose snapshot predates the push answers from its snapshot without leaving the old
// scope behind for the searches after it; segments written or dropped without a new generation
// (a merge of small segments, empty ones dropped after a build) are read again too.
import type { DataSource, EntityManager } from 'typeorm';
import { indexCommit } from '../../src/indexer';
import { closeParsePools } from '../../src/indexer/parse-pool';
import { codeSearch, type CodeSearchAnswer, type SearchRepo } from '../../src/search/code-search';
import { clearScopeCache, indexScope } from '../../src/search/scope-cache';
import { createRepoRow, openTestDb, Origin } from '../indexer/helpers';

let ds: DataSource;
const repos: SearchRepo[] = [];
const origins: Origin[] = [];
const clones: string[] = [];

/** The search as /v1/search runs it, in `m` (a REPEATABLE READ transaction of its own when not given), with the statements it sent. */
async function search(q: string, m?: EntityManager): Promise<{ answer: CodeSearchAnswer; statements: string[] }> {
  const statements: string[] = [];
  const run = (em: EntityManager) => {
    const spy = Object.create(em) as EntityManager;
    spy.query = (async (sql: string, params?: unknown[]) => {
      statements.push(sql);
      return em.query(sql, params);
    }) as EntityManager['query'];
    return codeSearch(spy, repos, q, 50, 10_000);
  };
  const answer = m ? await run(m) : await ds.transaction('REPEATABLE READ', run);
  return { answer, statements };
}

const readsScope = (statements: string[]) => statements.filter((s) => /trigram_bloom IS NOT NULL AS filtered|path_bloom IS NOT NULL AS filtered/.test(s)).length;
const where = (a: CodeSearchAnswer) => a.results.map((r) => `${r.repo.name}:${r.path}:${r.line}`);

async function push(i: number, files: Record<string, string>): Promise<void> {
  origins[i].write(files);
  origins[i].commit();
  const head = Origin.fetch(clones[i]);
  await indexCommit(ds, { repoId: repos[i].id, gitDir: clones[i], commit: head });
}

beforeAll(async () => {
  ds = await openTestDb();
  for (let i = 0; i < 3; i++) {
    const id = await createRepoRow(ds);
    repos.push({ id, name: `scope/repo-${i}` });
    const origin = new Origin().write({ [`src/a${i}.ts`]: `export const first${i} = "scopeWord";\n`, 'README.md': `# repo ${i}\n` });
    const head = origin.commit();
    const clone = origin.clone();
    origins.push(origin);
    clones.push(clone);
    await indexCommit(ds, { repoId: id, gitDir: clone, commit: head });
  }
});

afterAll(async () => {
  await ds?.destroy();
  await closeParsePools();
});

beforeEach(() => clearScopeCache());

it('reads the scope once: a search over the same repos again reads only its fingerprint, and finds the same', async () => {
  const first = await search('scopeWord');
  expect(where(first.answer)).toEqual(['scope/repo-0:src/a0.ts:1', 'scope/repo-1:src/a1.ts:1', 'scope/repo-2:src/a2.ts:1']);
  expect(readsScope(first.statements)).toBe(2);
  const again = await search('scopeWord');
  expect(readsScope(again.statements)).toBe(0);
  expect(again.statements.filter((s) => /AS fingerprint/.test(s))).toHaveLength(1);
  expect(again.answer).toEqual(first.answer);
});

it("searches a push's new generation and segments at once (the fingerprint changed)", async () => {
  await search('scopeWord');
  await push(1, { 'src/a1.ts': 'export const first1 = "pushedWord";\n', 'src/new.ts': 'export const added = "pushedWord";\n' });
  const after = await search('pushedWord');
  expect(readsScope(after.statements)).toBe(2);
  expect(where(after.answer)).toEqual(['scope/repo-1:src/a1.ts:1', 'scope/repo-1:src/new.ts:1']);
  expect(where((await search('scopeWord')).answer)).toEqual(['scope/repo-0:src/a0.ts:1', 'scope/repo-2:src/a2.ts:1']);
  expect((await search('first1')).answer.commits.get(repos[1].id)).toBe(Origin.fetch(clones[1]));
});

it('answers from its snapshot when a push lands during it, and leaves no old scope to the next search', async () => {
  await search('scopeWord');
  const runner = ds.createQueryRunner();
  await runner.startTransaction('REPEATABLE READ');
  try {
    await runner.query('SELECT 1'); // the snapshot is taken here, before the push
    await push(2, { 'src/a2.ts': 'export const first2 = "laterWord";\n' });
    const during = await search('scopeWord', runner.manager);
    expect(where(during.answer)).toEqual(['scope/repo-0:src/a0.ts:1', 'scope/repo-2:src/a2.ts:1']);
    expect(where((await search('laterWord', runner.manager)).answer)).toEqual([]);
    await runner.commitTransaction();
  } finally {
    await runner.release();
  }
  expect(where((await search('laterWord')).answer)).toEqual(['scope/repo-2:src/a2.ts:1']);
  expect(where((await search('scopeWord')).answer)).toEqual(['scope/repo-0:src/a0.ts:1']);
});

it('reads the segments again when they change without a new generation (as a merge writes one after the build)', async () => {
  const ids = repos.map((r) => r.id);
  const before = await ds.transaction('REPEATABLE READ', (m) => indexScope(m, ids));
  expect(before.generations).toHaveLength(3);
  const runner = ds.createQueryRunner();
  await runner.startTransaction();
  try {
    const [{ id }] = (await runner.query(`INSERT INTO index_segments (repo_id, bucket_bits, blocks) VALUES ($1, 0, 0) RETURNING id`, [ids[0]])) as Array<{ id: string }>;
    const during = await indexScope(runner.manager, ids);
    expect(during.segments.map((x) => x.id)).toEqual([...before.segments.map((x) => x.id), id]);
    expect(during.generations).toEqual(before.generations);
  } finally {
    await runner.rollbackTransaction();
    await runner.release();
  }
  // Rolled back: the next search reads the segments there are, not the ones it saw last.
  expect((await ds.transaction('REPEATABLE READ', (m) => indexScope(m, ids))).segments).toEqual(before.segments);
});
