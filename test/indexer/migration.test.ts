// Migration SearchBlocks1764300000300 over an index written by the schema before it: blobs are cut
// into the blocks a build would write, content becomes bytea; with the migrations after it
// (SearchPostings1764300000600 turns the blocks' keys into posting lists) search and file reads
// answer the same; `down` of each brings the previous schema's rows back, down to the word sets.
// In a schema of its own in the run's PostgreSQL.
import crypto from 'node:crypto';
import { DataSource } from 'typeorm';
import { MIGRATIONS } from '../../src/db/migrations';
import { readFile, searchCode } from '../../src/indexer';
import { textBlocks } from '../../src/indexer/blocks';
import { repoKey, wordSet } from '../../src/db/migrations/support/search-blocks-1764300000300';

const SCHEMA = `migration_test_${crypto.randomBytes(4).toString('hex')}`;
const BEFORE = MIGRATIONS.findIndex((m) => m.name === 'SearchBlocks1764300000300');

function dataSource(migrations: typeof MIGRATIONS): DataSource {
  return new DataSource({
    type: 'postgres',
    url: process.env.TEST_DATABASE_URL,
    migrations,
    migrationsTableName: 'typeorm_migrations',
    extra: { max: 2, options: `-c search_path=${SCHEMA},public` },
  });
}

const FILES: Record<string, string> = {
  'src/a.ts': 'export const Needle = 1;\n',
  'src/big.ts': Array.from({ length: 2000 }, (_, i) => `const v${i} = "ärger ${i}"; // needle ${i % 3}`).join('\n'),
  'docs/long.txt': `${'x'.repeat(30_000)} needle at the end\n`,
};
const sha = (content: string) => crypto.createHash('sha1').update(content).digest('hex');

describe('migration SearchBlocks1764300000300', () => {
  let admin: DataSource;
  let ds: DataSource;
  let latest: DataSource | null = null;
  let repoId: string;
  let blocksAt300: unknown[] = [];

  beforeAll(async () => {
    expect(BEFORE).toBeGreaterThan(0);
    admin = dataSource([]);
    await admin.initialize();
    await admin.query(`CREATE SCHEMA ${SCHEMA}`);
    const old = dataSource(MIGRATIONS.slice(0, BEFORE));
    await old.initialize();
    await old.runMigrations({ transaction: 'each' });
    const [account] = await old.query(`INSERT INTO accounts (name, webhook_secret) VALUES ('m', 's') RETURNING id`);
    const [repo] = await old.query(
      `INSERT INTO repos (account_id, source, source_key, name, clone_url) VALUES ($1, 'url', 'm/r', 'm/r', 'https://example.test/m/r.git') RETURNING id`,
      [account.id],
    );
    repoId = repo.id;
    const [gen] = await old.query(`INSERT INTO index_generations (repo_id, commit, state, kind) VALUES ($1, 'c0ffee', 'active', 'full') RETURNING id`, [repoId]);
    for (const [p, content] of Object.entries(FILES)) {
      await old.query(`INSERT INTO index_blobs (repo_id, sha, content, words) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`, [repoId, sha(content), content, wordSet(content)]);
      await old.query(
        `INSERT INTO index_entries (generation_id, path, parent, name, type, size, language, sha, is_text) VALUES ($1, $2, $3, $4, 'file', $5, NULL, $6, true)`,
        [gen.id, p, p.slice(0, p.lastIndexOf('/')), p.slice(p.lastIndexOf('/') + 1), Buffer.byteLength(content), sha(content)],
      );
    }
    await old.destroy();
    ds = dataSource(MIGRATIONS.slice(0, BEFORE + 1)); // up to this one: later migrations have their own subjects
    await ds.initialize();
    expect((await ds.runMigrations({ transaction: 'each' })).map((m) => m.name)).toEqual(['SearchBlocks1764300000300']);
  });

  afterAll(async () => {
    await latest?.destroy();
    await ds?.destroy();
    await admin?.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
    await admin?.destroy();
  });

  it('cuts every blob into the blocks a build writes', async () => {
    const numeric = (keys: Iterable<number>) => [...keys].sort((a, b) => a - b);
    const rows = (await ds.query(`SELECT sha, start, length, tail, line, line_start, keys FROM index_blocks WHERE repo_id = $1`, [repoId])) as Array<
      Record<string, unknown> & { sha: string; start: number; keys: number[] }
    >;
    const want = Object.values(FILES).flatMap((content) =>
      textBlocks(content).map((b) => ({ sha: sha(content), start: b.start, length: b.length, tail: b.tail, line: b.line, line_start: b.lineStart, keys: numeric([repoKey(repoId), ...b.keys]) })),
    );
    const order = (a: { sha: string; start: number }, b: { sha: string; start: number }) => (a.sha < b.sha ? -1 : a.sha > b.sha ? 1 : a.start - b.start);
    expect(want.length).toBeGreaterThan(Object.keys(FILES).length);
    expect(rows.map((r) => ({ ...r, keys: numeric(r.keys) })).sort(order)).toEqual(want.sort(order));
    blocksAt300 = rows.map((r) => ({ ...r, keys: numeric(r.keys) })).sort(order);
  });

  it('answers searches and file reads as before, once the later migrations ran too', async () => {
    latest = dataSource(MIGRATIONS);
    await latest.initialize();
    expect((await latest.runMigrations({ transaction: 'each' })).map((m) => m.name)).toEqual(MIGRATIONS.slice(BEFORE + 1).map((m) => new m().name));
    const ds = latest;
    expect(await readFile(ds, repoId, 'src/big.ts')).toMatchObject({ content: FILES['src/big.ts'] });
    expect((await searchCode(ds, repoId, 'NEEDLE AT', 10))!.results).toEqual([
      { path: 'docs/long.txt', line: 1, column: 284, preview: expect.stringContaining('needle at the end') }, // within the preview: its last 300 characters (CONTRACT §14)
    ]);
    expect((await searchCode(ds, repoId, 'needle =', 10))!.results).toEqual([{ path: 'src/a.ts', line: 1, column: 14, preview: 'export const Needle = 1;' }]);
    expect((await searchCode(ds, repoId, 'ärger 1999', 200))!.results).toEqual([
      { path: 'src/big.ts', line: 2000, column: 16, preview: 'const v1999 = "ärger 1999"; // needle 1' },
    ]);
  });

  it('down brings the blocks with their keys back, then the word sets and text content', async () => {
    for (let i = MIGRATIONS.length - 1; i > BEFORE; i--) await latest!.undoLastMigration({ transaction: 'each' });
    const blocks = (await ds.query(`SELECT sha, start, length, tail, line, line_start, keys FROM index_blocks WHERE repo_id = $1`, [repoId])) as Array<
      Record<string, unknown> & { sha: string; start: number; keys: number[] }
    >;
    const order = (a: { sha: string; start: number }, b: { sha: string; start: number }) => (a.sha < b.sha ? -1 : a.sha > b.sha ? 1 : a.start - b.start);
    expect(blocks.map((r) => ({ ...r, keys: [...r.keys].sort((a, b) => a - b) })).sort(order)).toEqual(blocksAt300);
    await ds.undoLastMigration({ transaction: 'each' });
    const rows = (await ds.query(`SELECT content, words FROM index_blobs WHERE repo_id = $1`, [repoId])) as Array<{ content: string; words: string }>;
    expect(rows.map((r) => r.words).sort()).toEqual(Object.values(FILES).map(wordSet).sort());
    expect(rows.map((r) => r.content).sort()).toEqual(Object.values(FILES).sort());
    expect(await ds.query(`SELECT to_regclass('${SCHEMA}.index_blocks') AS t`)).toEqual([{ t: null }]);
    await latest!.runMigrations({ transaction: 'each' });
    expect((await searchCode(latest!, repoId, 'needle at', 10))!.results).toHaveLength(1);
  });
});
