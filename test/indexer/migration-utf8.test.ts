// Migration TextBlobsUtf81764300000700 over an index written before text was decoded: a blob of
// raw Latin-1 bytes made the file route and every search of its repo fail in PostgreSQL
// (convert_from); after it, the file is listed but not text, and the rest of the repo answers.
import type { DataSource } from 'typeorm';
import { indexCommit, IndexNotFoundError, listTree, readFile, searchCode } from '../../src/indexer';
import { closeParsePools } from '../../src/indexer/parse-pool';
import { TextBlobsUtf81764300000700 } from '../../src/db/migrations/1764300000700-text-blobs-utf8';
import { createRepoRow, git, openTestDb, Origin } from './helpers';

let ds: DataSource;
beforeAll(async () => (ds = await openTestDb()));
afterAll(async () => (await ds?.destroy(), await closeParsePools()));

it('drops blobs that are not UTF-8, so reads and searches answer again', async () => {
  const latin1 = Buffer.from('The quick brown fox: caf\xe9\n', 'latin1');
  const repoId = await createRepoRow(ds);
  const origin = new Origin().write({ 'latin1.txt': latin1, 'ok.txt': 'fine and quick\n' });
  const commit = origin.commit('initial');
  const clone = origin.clone({ bare: true });
  await indexCommit(ds, { repoId, gitDir: clone, commit });
  // As an index built before the decoding kept it: the raw bytes.
  const sha = git(clone, 'rev-parse', `${commit}:latin1.txt`).trim();
  await ds.query(`UPDATE index_blobs SET content = $3 WHERE repo_id = $1 AND sha = $2`, [repoId, sha, latin1]);
  await expect(readFile(ds, repoId, 'latin1.txt')).rejects.toThrow(/invalid byte sequence/);
  await expect(searchCode(ds, repoId, 'quick', 10)).rejects.toThrow(/invalid byte sequence/);

  const runner = ds.createQueryRunner();
  try {
    await new TextBlobsUtf81764300000700().up(runner);
  } finally {
    await runner.release();
  }

  await expect(readFile(ds, repoId, 'latin1.txt')).rejects.toBeInstanceOf(IndexNotFoundError);
  expect((await searchCode(ds, repoId, 'quick', 10))!.results.map((r) => r.path)).toEqual(['ok.txt']);
  expect((await readFile(ds, repoId, 'ok.txt'))!.content).toBe('fine and quick\n');
  expect((await listTree(ds, repoId, ''))!.entries.map((e) => e.name).sort()).toEqual(['latin1.txt', 'ok.txt']);
});
