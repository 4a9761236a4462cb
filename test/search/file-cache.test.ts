// Against the run's PostgreSQL: a search keeps the files of the generations it read (paths,
// languages, blobs), so the file-name pass and the paths of the blocks it reads send no statement
// the next time — and never answers from stale files: a push's renamed, added and removed files
// are what the next search names, filters and finds; an entry answers only for the generation row
// it was read from.
import { clearFileCache, fileCacheStats, filesOf } from '../../src/search/file-cache';
import { STAMP_SQL } from '../../src/search/filter-cache';
import { recording, type Statement } from './recorded-statements';
import { SearchedRepos, where } from './searched-repos';

let at: SearchedRepos;
const search = (q: string, opts: { maxKeptFiles?: number } = {}) => at.search(q, opts);
const readsEntries = (statements: string[]) => statements.filter((s) => /index_entries/.test(s)).length;
const readsFiles = (statements: string[]) => statements.filter((s) => /type = 'file' ORDER BY path OFFSET 0/.test(s)).length;

beforeAll(async () => {
  at = await SearchedRepos.open();
  for (let i = 0; i < 2; i++) {
    await at.add(`files/repo-${i}`, {
      [`src/fileWord${i}.ts`]: `export const a${i} = "fileWord";\n`,
      'docs/notes.md': `fileWord in the docs of ${i}\n`,
      'same/one.py': `x = "twinWord"\n`,
      'same/two.py': `x = "twinWord"\n`,
    });
  }
});

afterAll(() => at?.close());

beforeEach(() => clearFileCache());

it('reads a generation\'s files once: the same search again sends no statement about files, and finds the same', async () => {
  const first = await search('fileWord');
  expect(where(first.answer)).toEqual([
    'files/repo-0:src/fileWord0.ts:0',
    'files/repo-1:src/fileWord1.ts:0',
    'files/repo-0:docs/notes.md:1',
    'files/repo-0:src/fileWord0.ts:1',
    'files/repo-1:docs/notes.md:1',
    'files/repo-1:src/fileWord1.ts:1',
  ]);
  expect(readsEntries(first.statements)).toBe(1);
  expect(fileCacheStats().entries).toBe(2);
  const again = await search('fileWord');
  expect(readsEntries(again.statements)).toBe(0);
  expect(again.answer).toEqual(first.answer);
  // The file filters and a blob two files share come from the kept files too.
  const filtered = await search('file:\\.md$ fileWord');
  expect(where(filtered.answer)).toEqual(['files/repo-0:docs/notes.md:1', 'files/repo-1:docs/notes.md:1']);
  expect(where((await search('lang:typescript fileWord')).answer)).toEqual(where(first.answer).filter((w) => w.includes('.ts')));
  const twins = await search('repo:repo-1 twinWord');
  expect(where(twins.answer)).toEqual(['files/repo-1:same/one.py:1', 'files/repo-1:same/two.py:1']);
  expect(readsEntries(filtered.statements) + readsEntries(twins.statements)).toBe(0);
});

it("names, filters and finds a push's renamed, added and removed files at once (a new generation's files are read)", async () => {
  await search('fileWord');
  await at.push(1, (o) => o.rename('src/fileWord1.ts', 'lib/movedFileWord.rs').write({ 'src/addedFileWord.ts': 'fileWord again\n' }).remove('docs/notes.md'));
  const after = await search('fileWord');
  expect(readsEntries(after.statements)).toBe(1); // repo-1's new generation; repo-0's files are still kept
  expect(where(after.answer)).toEqual([
    'files/repo-0:src/fileWord0.ts:0',
    'files/repo-1:lib/movedFileWord.rs:0',
    'files/repo-1:src/addedFileWord.ts:0',
    'files/repo-0:docs/notes.md:1',
    'files/repo-0:src/fileWord0.ts:1',
    'files/repo-1:lib/movedFileWord.rs:1',
    'files/repo-1:src/addedFileWord.ts:1',
  ]);
  expect(where((await search('lang:rust fileWord')).answer)).toEqual(['files/repo-1:lib/movedFileWord.rs:0', 'files/repo-1:lib/movedFileWord.rs:1']);
});

it('keeps an entry only for the generation row it read (same id, same creation time: ids of two databases may meet)', async () => {
  await search('fileWord');
  const [gen] = (await at.ds.query(`SELECT id::text, ${STAMP_SQL} AS stamp FROM index_generations WHERE repo_id = $1 AND state = 'active'`, [at.repos[0].id])) as Array<{ id: string; stamp: string }>;
  const read = async (stamp: string) => {
    const statements: Statement[] = [];
    const [files] = await filesOf(recording(at.ds.manager, statements), [{ repo_id: at.repos[0].id, id: gen.id, stamp }]);
    return { files, statements: statements.length };
  };
  const kept = await read(gen.stamp);
  expect(kept.statements).toBe(0);
  expect(kept.files.paths).toContain('src/fileWord0.ts');
  // Another row under the same id (another creation time) is read, not answered from the entry.
  expect((await read(`${BigInt(gen.stamp) + 1n}`)).statements).toBe(1);
});

it('reads paths in SQL as it needs them when the repos have more files than the cache keeps, and finds the same', async () => {
  for (const q of ['fileWord', 'file:\\.md$ fileWord', 'lang:typescript fileWord', '/file\\w+\\d/', 'twinWord', 'file:same/']) {
    clearFileCache();
    const kept = await search(q);
    clearFileCache();
    const unkept = await search(q, { maxKeptFiles: 3 }); // 2 repos of 4 files: more than 3
    expect([q, unkept.answer]).toEqual([q, kept.answer]);
    expect([q, readsFiles(unkept.statements), fileCacheStats().entries]).toEqual([q, 0, 0]);
    expect(readsEntries(unkept.statements)).toBeGreaterThan(0);
  }
});
