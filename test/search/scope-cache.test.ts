// Against the run's PostgreSQL: a search keeps what it read of its repos' scope (their active
// generations and segments) and the next search over the same repos reads only the index changes
// committed since — never a stale scope: a push's new generation and segments are searched by the
// next search; a search whose snapshot predates the push answers from its snapshot, both when the
// kept scope is older than that snapshot and when a later search kept a newer one, without leaving
// an old scope behind for the searches after it; segments written or dropped without a new
// generation (a merge of small segments, empty ones dropped after a build) are read again too;
// what a transaction wrote and rolled back, or READ COMMITTED read, is never kept. A change to
// another repo reads nothing. A build prunes the record of changes after a day, passing over the
// rows another build's prune holds.
import type { EntityManager } from 'typeorm';
import { clearScopeCache, indexScope } from '../../src/search/scope-cache';
import { recording, type Statement } from './recorded-statements';
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

/** The scope of `ids` in its own REPEATABLE READ transaction, and whether it read the scope's rows (not only the changes). */
async function scopeOf(ids: string[]): Promise<{ segments: string[]; readRows: boolean }> {
  const statements: Statement[] = [];
  const scope = await at.ds.transaction('REPEATABLE READ', (m) => indexScope(recording(m, statements), ids));
  return { segments: scope.segments.map((x) => x.id), readRows: readsScope(statements.map((x) => x.sql)) > 0 };
}

it('reads the scope once: a search over the same repos again reads only the changes since, and finds the same', async () => {
  const first = await search('scopeWord');
  expect(where(first.answer)).toEqual(['scope/repo-0:src/a0.ts:1', 'scope/repo-1:src/a1.ts:1', 'scope/repo-2:src/a2.ts:1']);
  expect(readsScope(first.statements)).toBe(2);
  const again = await search('scopeWord');
  expect(readsScope(again.statements)).toBe(0);
  expect(again.statements.filter((s) => /FROM index_changes/.test(s))).toHaveLength(1);
  expect(again.answer).toEqual(first.answer);
});

it("searches a push's new generation and segments at once (the changes since name its repo)", async () => {
  await search('scopeWord');
  const head1 = await at.push(1, (o) => o.write({ 'src/a1.ts': 'export const first1 = "pushedWord";\n', 'src/new.ts': 'export const added = "pushedWord";\n' }));
  const after = await search('pushedWord');
  expect(readsScope(after.statements)).toBe(2);
  expect(where(after.answer)).toEqual(['scope/repo-1:src/a1.ts:1', 'scope/repo-1:src/new.ts:1']);
  expect(where((await search('scopeWord')).answer)).toEqual(['scope/repo-0:src/a0.ts:1', 'scope/repo-2:src/a2.ts:1']);
  expect((await search('first1')).answer.commits.get(at.repos[1].id)).toBe(head1);
});

/** Runs `during` in a REPEATABLE READ transaction whose snapshot was taken before `change` ran (and committed). */
async function inSnapshotBefore(change: () => Promise<unknown>, during: (m: EntityManager) => Promise<void>): Promise<void> {
  const runner = at.ds.createQueryRunner();
  await runner.startTransaction('REPEATABLE READ');
  try {
    await runner.query('SELECT 1'); // the snapshot is taken here
    await change();
    await during(runner.manager);
    await runner.commitTransaction();
  } finally {
    await runner.release();
  }
}

it('answers from its snapshot when a push lands during it, and leaves no old scope to the next search', async () => {
  await search('scopeWord');
  await inSnapshotBefore(
    () => at.push(2, (o) => o.write({ 'src/a2.ts': 'export const first2 = "laterWord";\n' })),
    async (m) => {
      const during = await search('scopeWord', m);
      expect(where(during.answer)).toEqual(['scope/repo-0:src/a0.ts:1', 'scope/repo-2:src/a2.ts:1']);
      expect(where((await search('laterWord', m)).answer)).toEqual([]);
    },
  );
  expect(where((await search('laterWord')).answer)).toEqual(['scope/repo-2:src/a2.ts:1']);
  expect(where((await search('scopeWord')).answer)).toEqual(['scope/repo-0:src/a0.ts:1']);
});

it('answers from its snapshot when a later search kept the scope after a push, and does not keep its older one', async () => {
  await search('scopeWord');
  await inSnapshotBefore(
    async () => {
      await at.push(2, (o) => o.write({ 'src/a2.ts': 'export const first2 = "newerWord";\n' }));
      // A search after the push keeps the new scope…
      expect(where((await search('newerWord')).answer)).toEqual(['scope/repo-2:src/a2.ts:1']);
    },
    async (m) => {
      // …which the search begun before it must not use: its snapshot holds the old generation.
      const during = await search('laterWord', m);
      expect(where(during.answer)).toEqual(['scope/repo-2:src/a2.ts:1']);
      expect(readsScope(during.statements)).toBe(2);
      expect(where((await search('newerWord', m)).answer)).toEqual([]);
    },
  );
  const after = await search('newerWord');
  expect(readsScope(after.statements)).toBe(0);
  expect(where(after.answer)).toEqual(['scope/repo-2:src/a2.ts:1']);
});

it('reads the segments again when they change without a new generation (as a merge writes one after the build), never keeping rolled-back ones', async () => {
  const ids = at.repos.map((r) => r.id);
  const before = await scopeOf(ids);
  const runner = at.ds.createQueryRunner();
  await runner.startTransaction('REPEATABLE READ');
  try {
    const [{ id }] = (await runner.query(`INSERT INTO index_segments (repo_id, bucket_bits, blocks) VALUES ($1, 0, 0) RETURNING id`, [ids[0]])) as Array<{ id: string }>;
    const during = await indexScope(runner.manager, ids);
    expect(during.segments.map((x) => x.id)).toEqual([...before.segments, id]);
  } finally {
    await runner.rollbackTransaction();
    await runner.release();
  }
  // Rolled back: the next search reads the segments there are, not the ones it saw last.
  expect(await scopeOf(ids)).toEqual({ segments: before.segments, readRows: false });
  // Committed: a segment written, then dropped, is read again each time.
  const [{ id }] = (await at.ds.query(`INSERT INTO index_segments (repo_id, bucket_bits, blocks) VALUES ($1, 0, 0) RETURNING id`, [ids[0]])) as Array<{ id: string }>;
  expect(await scopeOf(ids)).toEqual({ segments: [...before.segments, id], readRows: true });
  await at.ds.query(`DELETE FROM index_segments WHERE id = $1`, [id]);
  expect(await scopeOf(ids)).toEqual({ segments: before.segments, readRows: true });
  expect(await scopeOf(ids)).toEqual({ segments: before.segments, readRows: false });
});

it("reads nothing again when another repo's index changed, and everything after a TRUNCATE of the index's tables would", async () => {
  const some = at.repos.slice(0, 2).map((r) => r.id);
  const before = await scopeOf(some);
  expect(before.readRows).toBe(true);
  await at.push(2, (o) => o.write({ 'src/other.ts': 'export const other = 1;\n' }));
  expect(await scopeOf(some)).toEqual({ segments: before.segments, readRows: false });
  // A row without a repo (what TRUNCATE writes) changes every scope.
  await at.ds.query(`INSERT INTO index_changes (repo_id) VALUES (NULL)`);
  expect(await scopeOf(some)).toEqual({ segments: before.segments, readRows: true });
});

it('keeps nothing read in READ COMMITTED, whose statements see different snapshots', async () => {
  const ids = at.repos.map((r) => r.id);
  const [{ id }] = (await at.ds.query(`INSERT INTO index_segments (repo_id, bucket_bits, blocks) VALUES ($1, 0, 0) RETURNING id`, [ids[0]])) as Array<{ id: string }>;
  // Outside a transaction, the segment is dropped between the check of changes and the read of the rows.
  const hooked = Object.create(at.ds.manager) as EntityManager;
  hooked.query = (async (sql: string, params?: unknown[]) => {
    const rows = await at.ds.manager.query(sql, params);
    if (/FROM index_changes/.test(sql)) await at.ds.query(`DELETE FROM index_segments WHERE id = $1`, [id]);
    return rows;
  }) as EntityManager['query'];
  await inSnapshotBefore(
    async () => expect((await indexScope(hooked, ids)).segments.map((x) => x.id)).not.toContain(id),
    // Kept, those rows would pass for the check's snapshot, which this older one (holding the segment) contains.
    async (m) => expect((await indexScope(m, ids)).segments.map((x) => x.id)).toContain(id),
  );
  expect((await scopeOf(ids)).segments).not.toContain(id);
});

it('keeps the record of index changes for a day: a build prunes older rows, passing over those another build is deleting', async () => {
  const old = (await at.ds.query(
    `INSERT INTO index_changes (repo_id, created_at) VALUES ($1, now() - interval '25 hours'), ($1, now() - interval '26 hours'), ($1, now() - interval '23 hours') RETURNING id`,
    [at.repos[0].id],
  )) as Array<{ id: string }>;
  // Another build's prune holds the first old row.
  const other = at.ds.createQueryRunner();
  await other.startTransaction();
  try {
    await other.query(`SELECT id FROM index_changes WHERE id = $1 FOR UPDATE`, [old[0].id]);
    const push = at.push(0, (o) => o.write({ 'src/pruned.ts': 'export const pruned = 1;\n' }));
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<string>((resolve) => (timer = setTimeout(() => resolve('the build waited for the other prune'), 30_000)));
    expect(await Promise.race([push.then(() => 'built'), waited])).toBe('built');
    clearTimeout(timer);
  } finally {
    await other.rollbackTransaction();
    await other.release();
  }
  const left = ((await at.ds.query(`SELECT id FROM index_changes WHERE id = ANY($1::bigint[])`, [old.map((r) => r.id)])) as Array<{ id: string }>).map((r) => r.id);
  expect(left.sort()).toEqual([old[0].id, old[2].id].sort());
  const ages = (await at.ds.query(`SELECT extract(epoch FROM now() - created_at) / 3600 AS hours FROM index_changes WHERE id <> $1`, [old[0].id])) as Array<{ hours: number }>;
  expect(ages.some((r) => Number(r.hours) > 24)).toBe(false);
}, 60_000);
