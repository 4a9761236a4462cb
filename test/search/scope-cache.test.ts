// Against the run's PostgreSQL: a search keeps what it read of its repos' scope (their active
// generations and segments) and the next search over the same repos reads only its fingerprint —
// never a stale scope: a push's new generation and segments are searched by the next search, and
// a search whose snapshot predates the push answers from its snapshot without leaving the old
// scope behind for the searches after it; segments written or dropped without a new generation
// (a merge of small segments, empty ones dropped after a build) are read again too.
import type { EntityManager } from 'typeorm';
import { clearScopeCache, indexScope } from '../../src/search/scope-cache';
import { SearchedRepos, where } from './searched-repos';

let at: SearchedRepos;
const search = (q: string, m?: EntityManager) => at.search(q, {}, m);
const readsScope = (statements: string[]) => statements.filter((s) => /trigram_bloom IS NOT NULL AS filtered|path_bloom IS NOT NULL AS filtered/.test(s)).length;

beforeAll(async () => {
  at = await SearchedRepos.open();
  for (let i = 0; i < 3; i++) await at.add(`scope/repo-${i}`, { [`src/a${i}.ts`]: `export const first${i} = "scopeWord";\n`, 'README.md': `# repo ${i}\n` });
});

afterAll(() => at?.close());

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
  const head1 = await at.push(1, (o) => o.write({ 'src/a1.ts': 'export const first1 = "pushedWord";\n', 'src/new.ts': 'export const added = "pushedWord";\n' }));
  const after = await search('pushedWord');
  expect(readsScope(after.statements)).toBe(2);
  expect(where(after.answer)).toEqual(['scope/repo-1:src/a1.ts:1', 'scope/repo-1:src/new.ts:1']);
  expect(where((await search('scopeWord')).answer)).toEqual(['scope/repo-0:src/a0.ts:1', 'scope/repo-2:src/a2.ts:1']);
  expect((await search('first1')).answer.commits.get(at.repos[1].id)).toBe(head1);
});

it('answers from its snapshot when a push lands during it, and leaves no old scope to the next search', async () => {
  await search('scopeWord');
  const runner = at.ds.createQueryRunner();
  await runner.startTransaction('REPEATABLE READ');
  try {
    await runner.query('SELECT 1'); // the snapshot is taken here, before the push
    await at.push(2, (o) => o.write({ 'src/a2.ts': 'export const first2 = "laterWord";\n' }));
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
  const ids = at.repos.map((r) => r.id);
  const before = await at.ds.transaction('REPEATABLE READ', (m) => indexScope(m, ids));
  expect(before.generations).toHaveLength(3);
  const runner = at.ds.createQueryRunner();
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
  expect((await at.ds.transaction('REPEATABLE READ', (m) => indexScope(m, ids))).segments).toEqual(before.segments);
});
