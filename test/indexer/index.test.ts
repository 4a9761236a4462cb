// The indexer against the run's real PostgreSQL and real git repositories (shallow clones, as in
// production): content, skip rules, limits, incremental pushes, force-pushes, atomic switch,
// resume after a cancelled build, search and symbol semantics.
import type { DataSource } from 'typeorm';
import {
  deleteIndex,
  findSymbols,
  IndexNotFoundError,
  indexCommit,
  IndexTooLargeError,
  InvalidPathError,
  listTree,
  readFile,
  searchCode,
  type IndexProgress,
} from '../../src/indexer';
import { BLOCK_CHARS, textBlocks } from '../../src/indexer/blocks';
import { findLineMatches } from '../../src/indexer/text';
import { closeParsePools } from '../../src/indexer/parse-pool';
import { EXPECTED_SYMBOLS, SOURCES, skippedFiles } from './fixtures';
import { createRepoRow, git, openTestDb, Origin } from './helpers';

let ds: DataSource;

beforeAll(async () => {
  ds = await openTestDb();
});

afterAll(async () => {
  await ds?.destroy();
  await closeParsePools();
});

async function allResults(repoId: string, q: string) {
  const r = await searchCode(ds, repoId, q, 200);
  return r!.results.map((x) => `${x.path}:${x.line}:${x.column}`).sort();
}

async function generations(repoId: string) {
  return (await ds.query(`SELECT state, commit FROM index_generations WHERE repo_id = $1 ORDER BY id`, [repoId])) as Array<{ state: string; commit: string }>;
}

/** Every file path of the active index, by walking listTree. */
async function walk(repoId: string, dir = ''): Promise<string[]> {
  const tree = await listTree(ds, repoId, dir);
  const out: string[] = [];
  for (const e of tree!.entries) {
    if (e.type === 'dir') out.push(...(await walk(repoId, e.path)));
    else out.push(e.path);
  }
  return out;
}

describe('a polyglot repository', () => {
  let repoId: string;
  let commit: string;
  let progress: IndexProgress[];
  let clone: string;

  beforeAll(async () => {
    repoId = await createRepoRow(ds);
    const origin = new Origin().write(SOURCES).write(skippedFiles());
    commit = origin.commit('initial');
    clone = origin.clone({ bare: true });
    progress = [];
    expect(await listTree(ds, repoId, '')).toBeNull();
    const result = await indexCommit(ds, { repoId, gitDir: clone, commit, threads: 2, onProgress: (p) => void progress.push(p) });
    expect(result).toMatchObject({ commit, kind: 'full' });
    expect(result.filesIndexed).toBe(Object.keys(SOURCES).length + 2); // + the binary and the big file
    expect(result.bytes).toBe(Object.values(SOURCES).reduce((n, s) => n + Buffer.byteLength(s), 0));
  });

  it('reports progress up to filesTotal, with what a resume needs', () => {
    const last = progress[progress.length - 1];
    expect(last.filesDone).toBe(last.filesTotal);
    expect(last.generationId).toMatch(/^\d+$/);
    expect(last.commit).toBe(commit);
    expect(JSON.parse(JSON.stringify(last))).toEqual(last);
  });

  it('lists the tree: directories first, then files, by name; skipped paths absent', async () => {
    const root = await listTree(ds, repoId, '/');
    expect(root!.commit).toBe(commit);
    expect(root!.path).toBe('');
    expect(root!.entries.map((e) => e.name)).toEqual(['assets', 'c', 'cpp', 'cs', 'data', 'docs', 'go', 'java', 'lib', 'py', 'ruby', 'rust', 'src', 'web', 'notes.txt']);
    expect(root!.entries[0]).toEqual({ name: 'assets', path: 'assets', type: 'dir', size: null, language: null });
    expect(root!.entries.at(-1)).toEqual({ name: 'notes.txt', path: 'notes.txt', type: 'file', size: Buffer.byteLength(SOURCES['notes.txt']), language: 'Text' });
    const src = await listTree(ds, repoId, './src/');
    expect(src!.entries).toEqual([{ name: 'app.ts', path: 'src/app.ts', type: 'file', size: Buffer.byteLength(SOURCES['src/app.ts']), language: 'TypeScript' }]);
    const web = await listTree(ds, repoId, 'web');
    expect(web!.entries.map((e) => e.name)).toEqual(['Button.tsx']);
    const files = await walk(repoId);
    expect(files.sort()).toEqual([...Object.keys(SOURCES), 'assets/logo.png', 'data/big.txt'].sort());
  });

  it('answers NotFound for a path that is not a directory, and rejects ..', async () => {
    await expect(listTree(ds, repoId, 'src/app.ts')).rejects.toBeInstanceOf(IndexNotFoundError);
    await expect(listTree(ds, repoId, 'nope')).rejects.toBeInstanceOf(IndexNotFoundError);
    await expect(listTree(ds, repoId, 'node_modules')).rejects.toBeInstanceOf(IndexNotFoundError);
    await expect(listTree(ds, repoId, 'src/../..')).rejects.toBeInstanceOf(InvalidPathError);
    await expect(readFile(ds, repoId, '../etc/passwd')).rejects.toMatchObject({ code: 'invalid_path' });
  });

  it('reads text files exactly; binaries, big files, skipped files and symlinks are NotFound', async () => {
    for (const [p, content] of Object.entries(SOURCES)) {
      const f = await readFile(ds, repoId, p);
      expect(f).toEqual({ commit, path: p, language: expect.anything(), size: Buffer.byteLength(content), content });
    }
    expect((await readFile(ds, repoId, '/go/geo.go'))!.language).toBe('Go');
    for (const p of ['assets/logo.png', 'data/big.txt', 'node_modules/pkg/index.js', 'vendor/lib/v.go', 'dist/bundle.js', 'web/app.min.js', 'link-out', 'src/link-in.ts', 'src', 'missing.ts']) {
      await expect(readFile(ds, repoId, p)).rejects.toBeInstanceOf(IndexNotFoundError);
    }
  });

  it('searches literally and case-insensitively with 1-based line and column', async () => {
    const r = await searchCode(ds, repoId, 'hello, world');
    expect(r).toEqual({ commit, results: [{ path: 'src/app.ts', line: 10, column: 48, preview: SOURCES['src/app.ts'].split('\n')[9] }] });
    expect(await allResults(repoId, 'NEEDLE HERE')).toEqual(['notes.txt:2:14']);
    expect(await allResults(repoId, 'mixed')).toEqual(['notes.txt:1:13']);
    expect(await allResults(repoId, 'wörld')).toEqual(['docs/README.md:3:22']);
    expect(await allResults(repoId, 'class ')).toEqual(['cpp/shape.cpp:2:1', 'cs/Thing.cs:2:10', 'java/Greeter.java:3:8', 'lib/util.js:2:1', 'py/animals.py:6:1', 'ruby/zoo.rb:2:3', 'src/app.ts:7:8']);
  });

  it('escapes % and _ and finds nothing in skipped, binary or big files', async () => {
    expect(await allResults(repoId, '100%_done')).toEqual(['py/animals.py:8:17']);
    expect(await allResults(repoId, '0%_d')).toEqual(['py/animals.py:8:19']);
    expect(await allResults(repoId, '%')).toEqual(['py/animals.py:8:20']);
    expect(await allResults(repoId, '_')).toEqual(
      ['py/animals.py:1:4', 'py/animals.py:3:7', 'py/animals.py:8:21', 'rust/lib.rs:3:30', 'rust/lib.rs:5:12', 'src/app.ts:5:17', 'c/math.c:3:9', 'c/math.c:5:6', 'cpp/shape.cpp:4:10', 'ruby/zoo.rb:3:13'].sort(),
    );
    for (const q of ['Needle()', 'vendoredNeedle', 'distNeedle', 'minNeedle', 'bigneedle', 'binneedle']) expect(await allResults(repoId, q)).toEqual([]);
  });

  it('answers short queries: two characters through the index, one by a scan', async () => {
    expect(await allResults(repoId, 'Ü')).toEqual([]);
    expect(await allResults(repoId, 'ör')).toEqual(['docs/README.md:3:23']);
    expect(await allResults(repoId, '=>')).toEqual(['src/app.ts:6:50']);
    const limited = await searchCode(ds, repoId, 'e', 3);
    expect(limited!.results).toHaveLength(3);
  });

  it('validates q and limit', async () => {
    await expect(searchCode(ds, repoId, '', 10)).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(searchCode(ds, repoId, 'x'.repeat(201), 10)).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(searchCode(ds, repoId, 'abc', 0)).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(findSymbols(ds, repoId, 'a', 201)).rejects.toMatchObject({ code: 'invalid_request' });
  });

  it('finds the definitions of every listed language', async () => {
    for (const [name, kind, path, line] of EXPECTED_SYMBOLS) {
      const r = await findSymbols(ds, repoId, name, 200);
      expect(r!.commit).toBe(commit);
      expect(r!.symbols).toContainEqual({ name, kind, path, line });
    }
  });

  it('matches symbol prefixes case-insensitively, escaping LIKE characters, ordered by name', async () => {
    const r = await findSymbols(ds, repoId, 'RUST');
    expect(r!.symbols.map((s) => s.name)).toEqual(['rust_area', 'rust_main', 'RustPoint', 'RustShape']);
    expect((await findSymbols(ds, repoId, 'rust_'))!.symbols.map((s) => s.name)).toEqual(['rust_area', 'rust_main']);
    expect((await findSymbols(ds, repoId, 'rust%'))!.symbols).toEqual([]);
    expect((await findSymbols(ds, repoId, 'user', 2))!.symbols.map((s) => s.name)).toEqual(['UserId', 'UserRecord']);
    expect((await findSymbols(ds, repoId, 'vendored'))!.symbols).toEqual([]);
  });

  it('re-indexing the active commit is a cheap no-op', async () => {
    const r = await indexCommit(ds, { repoId, gitDir: clone, commit });
    expect(r).toMatchObject({ commit, kind: 'incremental', filesChanged: 0, filesIndexed: Object.keys(SOURCES).length + 2 });
    expect(await generations(repoId)).toEqual([{ state: 'active', commit }]);
  });
});

describe('repos without an index', () => {
  it('answer null', async () => {
    const repoId = await createRepoRow(ds);
    expect(await listTree(ds, repoId, '')).toBeNull();
    expect(await readFile(ds, repoId, 'a.ts')).toBeNull();
    expect(await searchCode(ds, repoId, 'abc')).toBeNull();
    expect(await findSymbols(ds, repoId, 'abc')).toBeNull();
    expect(await listTree(ds, 'not-a-uuid', '')).toBeNull();
  });
});

describe('limits', () => {
  it('refuses too many files, naming the limit, and keeps the previous index', async () => {
    const repoId = await createRepoRow(ds);
    const origin = new Origin().write({ 'a.txt': 'one\n', 'b.txt': 'two\n' });
    const first = origin.commit();
    const clone = origin.clone();
    await indexCommit(ds, { repoId, gitDir: clone, commit: first });
    origin.write({ 'c.txt': 'three\n', 'd.txt': 'four\n' });
    const second = origin.commit();
    const head = Origin.fetch(clone);
    expect(head).toBe(second);
    const err = await indexCommit(ds, { repoId, gitDir: clone, commit: head, limits: { maxFiles: 3 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IndexTooLargeError);
    expect(err).toMatchObject({ code: 'too_large' });
    expect((err as Error).message).toMatch(/limit of 3 files \(maxFiles\)/);
    expect(await generations(repoId)).toEqual([{ state: 'active', commit: first }]);
    expect((await listTree(ds, repoId, ''))!.entries.map((e) => e.name)).toEqual(['a.txt', 'b.txt']);
    expect(await allResults(repoId, 'three')).toEqual([]);
  });

  it('refuses too many text bytes, naming the limit', async () => {
    const repoId = await createRepoRow(ds);
    const origin = new Origin().write({ 'a.txt': 'x'.repeat(600), 'b.txt': 'y'.repeat(600) });
    const commit = origin.commit();
    const err = await indexCommit(ds, { repoId, gitDir: origin.clone(), commit, limits: { maxTotalBytes: 1000 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IndexTooLargeError);
    expect((err as Error).message).toMatch(/1000 bytes of text \(maxTotalBytes\)/);
    expect(await generations(repoId)).toEqual([]);
    expect(await ds.query(`SELECT count(*)::int AS n FROM index_blobs WHERE repo_id = $1`, [repoId])).toEqual([{ n: 0 }]);
  });

  it('a smaller maxFileBytes leaves bigger files unreadable', async () => {
    const repoId = await createRepoRow(ds);
    const origin = new Origin().write({ 'small.txt': 'tiny\n', 'large.txt': 'z'.repeat(100) });
    const commit = origin.commit();
    await indexCommit(ds, { repoId, gitDir: origin.clone(), commit, limits: { maxFileBytes: 50 } });
    expect((await readFile(ds, repoId, 'small.txt'))!.content).toBe('tiny\n');
    await expect(readFile(ds, repoId, 'large.txt')).rejects.toBeInstanceOf(IndexNotFoundError);
  });
});

describe('pushes', () => {
  const base: Record<string, string> = {
    'keep/stable.ts': 'export function stableThing() { return "stable"; }\n',
    'mod/change.py': 'def before_change():\n    return "old text"\n',
    'old/place/moved.go': 'package place\n\nfunc MovedFunc() string { return "moved body" }\n',
    'gone/deleted.rb': 'class DeletedClass\n  def deleted_method; "deleted text"; end\nend\n',
    'gone/other/also.txt': 'also gone\n',
  };

  it('an incremental push (add, modify, rename, delete) agrees with the new head everywhere', async () => {
    const repoId = await createRepoRow(ds);
    const origin = new Origin().write(base);
    for (let i = 0; i < 30; i++) origin.write({ [`bulk/f${i}.txt`]: `bulk file ${i}\n` });
    const first = origin.commit('base');
    const clone = origin.clone();
    const r1 = await indexCommit(ds, { repoId, gitDir: clone, commit: first });
    expect(r1.kind).toBe('full');

    origin
      .write({ 'mod/change.py': 'def after_change():\n    return "new text"\n', 'new/added.java': 'class AddedClass { void addedMethod() {} }\n' })
      .rename('old/place/moved.go', 'new/place/moved.go')
      .remove('gone');
    const second = origin.commit('push');
    const head = Origin.fetch(clone);
    expect(head).toBe(second);

    const r2 = await indexCommit(ds, { repoId, gitDir: clone, commit: head, baseCommit: first });
    expect(r2.kind).toBe('incremental');
    expect(r2.filesChanged).toBe(6); // 1 modified, 1 added, 2 for the rename, 2 deleted
    expect(r2.filesIndexed).toBe(34);
    expect(await generations(repoId)).toEqual([{ state: 'active', commit: second }]);

    const files = (await walk(repoId)).filter((p) => !p.startsWith('bulk/'));
    expect(files.sort()).toEqual(['keep/stable.ts', 'mod/change.py', 'new/added.java', 'new/place/moved.go']);
    const root = await listTree(ds, repoId, '');
    expect(root!.commit).toBe(second);
    expect(root!.entries.map((e) => e.name)).toEqual(['bulk', 'keep', 'mod', 'new']);
    await expect(listTree(ds, repoId, 'old')).rejects.toBeInstanceOf(IndexNotFoundError);
    await expect(listTree(ds, repoId, 'gone/other')).rejects.toBeInstanceOf(IndexNotFoundError);
    await expect(readFile(ds, repoId, 'old/place/moved.go')).rejects.toBeInstanceOf(IndexNotFoundError);
    await expect(readFile(ds, repoId, 'gone/deleted.rb')).rejects.toBeInstanceOf(IndexNotFoundError);
    expect((await readFile(ds, repoId, 'mod/change.py'))!.content).toContain('after_change');
    expect((await readFile(ds, repoId, 'new/place/moved.go'))!.content).toContain('MovedFunc');

    expect(await allResults(repoId, 'old text')).toEqual([]);
    expect(await allResults(repoId, 'deleted text')).toEqual([]);
    expect(await allResults(repoId, 'new text')).toEqual(['mod/change.py:2:13']);
    expect(await allResults(repoId, 'moved body')).toEqual(['new/place/moved.go:3:35']);
    expect(await allResults(repoId, 'stable')).toEqual(['keep/stable.ts:1:17']);

    const sym = async (p: string) => (await findSymbols(ds, repoId, p))!.symbols;
    expect(await sym('before_change')).toEqual([]);
    expect(await sym('Deleted')).toEqual([]);
    expect(await sym('after_change')).toEqual([{ name: 'after_change', kind: 'function', path: 'mod/change.py', line: 1 }]);
    expect(await sym('MovedFunc')).toEqual([{ name: 'MovedFunc', kind: 'function', path: 'new/place/moved.go', line: 3 }]);
    expect(await sym('addedM')).toEqual([{ name: 'addedMethod', kind: 'method', path: 'new/added.java', line: 1 }]);
    expect(await sym('stableT')).toEqual([{ name: 'stableThing', kind: 'function', path: 'keep/stable.ts', line: 1 }]);

    // Nothing stale: blobs and symbols of the old versions are gone.
    const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM index_blobs WHERE repo_id = $1 AND content LIKE '%deleted text%'`, [repoId]);
    expect(n).toBe(0);
    const [{ s }] = await ds.query(`SELECT count(*)::int AS s FROM index_symbols WHERE repo_id = $1 AND name IN ('before_change', 'DeletedClass')`, [repoId]);
    expect(s).toBe(0);

    // The same head again: a no-op.
    const r3 = await indexCommit(ds, { repoId, gitDir: clone, commit: head });
    expect(r3).toEqual({ commit: head, kind: 'incremental', filesIndexed: 34, filesChanged: 0, bytes: r2.bytes });
  });

  it('a file replaced by a directory and back', async () => {
    const repoId = await createRepoRow(ds);
    const origin = new Origin().write({ 'thing/inner.txt': 'inner\n', 'x.txt': 'x\n' });
    const c1 = origin.commit();
    const clone = origin.clone();
    await indexCommit(ds, { repoId, gitDir: clone, commit: c1 });
    origin.remove('thing').write({ thing: 'now a file\n' });
    origin.commit();
    const c2 = Origin.fetch(clone);
    expect((await indexCommit(ds, { repoId, gitDir: clone, commit: c2 })).kind).toBe('incremental');
    expect((await listTree(ds, repoId, ''))!.entries.map((e) => `${e.type}:${e.name}`)).toEqual(['file:thing', 'file:x.txt']);
    origin.remove('thing').write({ 'thing/a/b.txt': 'deep\n' });
    origin.commit();
    const c3 = Origin.fetch(clone);
    expect((await indexCommit(ds, { repoId, gitDir: clone, commit: c3 })).kind).toBe('incremental');
    expect((await listTree(ds, repoId, ''))!.entries.map((e) => `${e.type}:${e.name}`)).toEqual(['dir:thing', 'file:x.txt']);
    expect((await listTree(ds, repoId, 'thing/a'))!.entries.map((e) => e.path)).toEqual(['thing/a/b.txt']);
  });

  it('a force-push whose base is not in the clone rebuilds in full, correctly', async () => {
    const repoId = await createRepoRow(ds);
    const origin = new Origin().write(base);
    const first = origin.commit();
    await indexCommit(ds, { repoId, gitDir: origin.clone(), commit: first });

    // Rewrite history: an orphan branch replaces main; a fresh clone lacks the old commit.
    git(origin.dir, 'checkout', '-q', '--orphan', 'rewritten');
    git(origin.dir, 'rm', '-rq', '--cached', '.');
    origin.remove('keep', 'mod', 'old', 'gone').write({ 'fresh/start.rs': 'pub fn fresh_start() {}\n', 'keep/stable.ts': base['keep/stable.ts'] });
    const rewritten = origin.commit('rewritten');
    git(origin.dir, 'branch', '-M', 'main');
    const clone = origin.clone();
    expect(() => git(clone, 'cat-file', '-e', `${first}^{commit}`)).toThrow();

    const r = await indexCommit(ds, { repoId, gitDir: clone, commit: rewritten, baseCommit: first });
    expect(r.kind).toBe('full');
    expect((await walk(repoId)).sort()).toEqual(['fresh/start.rs', 'keep/stable.ts']);
    expect(await allResults(repoId, 'old text')).toEqual([]);
    expect((await findSymbols(ds, repoId, 'fresh'))!.symbols).toEqual([{ name: 'fresh_start', kind: 'function', path: 'fresh/start.rs', line: 1 }]);
    expect((await findSymbols(ds, repoId, 'stableThing'))!.symbols).toHaveLength(1);
    expect(await generations(repoId)).toEqual([{ state: 'active', commit: rewritten }]);
  });
});

describe('atomicity and resume', () => {
  function manyFiles(tag: string, n = 40): Record<string, string> {
    const files: Record<string, string> = {};
    for (let i = 0; i < n; i++) files[`pkg${i % 4}/file${i}.ts`] = `export function ${tag}Fn${i}() { return "${tag} body ${i}"; }\n`;
    return files;
  }

  it('a reader during a build sees the old generation', async () => {
    const repoId = await createRepoRow(ds);
    const origin = new Origin().write(manyFiles('old'));
    const first = origin.commit();
    const clone = origin.clone();
    await indexCommit(ds, { repoId, gitDir: clone, commit: first });
    origin.remove('pkg0', 'pkg1', 'pkg2', 'pkg3').write(manyFiles('new'));
    const second = origin.commit();
    Origin.fetch(clone);

    const seen: string[] = [];
    await indexCommit(ds, {
      repoId,
      gitDir: clone,
      commit: second,
      batchFiles: 10,
      onProgress: async (p) => {
        if (p.filesDone === 0 || p.filesDone === p.filesTotal) return;
        const tree = await listTree(ds, repoId, 'pkg0');
        const search = await searchCode(ds, repoId, 'body', 200);
        const symbols = await findSymbols(ds, repoId, 'newFn');
        expect(tree!.commit).toBe(first);
        expect(search!.commit).toBe(first);
        expect(search!.results.every((r) => r.preview.includes('old body'))).toBe(true);
        expect(search!.results).toHaveLength(40);
        expect(symbols!.symbols).toEqual([]);
        seen.push(`${p.filesDone}/${p.filesTotal}`);
      },
    });
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect((await searchCode(ds, repoId, 'new body', 200))!.results).toHaveLength(40);
    expect((await searchCode(ds, repoId, 'old body', 200))!.results).toHaveLength(0);
  });

  it('a cancelled build resumes from its last progress and ends complete and correct', async () => {
    const repoId = await createRepoRow(ds);
    const origin = new Origin().write(manyFiles('res'));
    const commit = origin.commit();
    const clone = origin.clone();

    const controller = new AbortController();
    let last: IndexProgress | null = null;
    const err = await indexCommit(ds, {
      repoId,
      gitDir: clone,
      commit,
      batchFiles: 8,
      signal: controller.signal,
      onProgress: (p) => {
        last = p;
        if (p.filesDone >= 16) controller.abort();
      },
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'IndexAbortedError' });
    expect(last!.filesDone).toBe(16);
    expect(await listTree(ds, repoId, '')).toBeNull(); // nothing active yet
    expect(await generations(repoId)).toEqual([{ state: 'building', commit }]);

    const resumedAt: number[] = [];
    const resume = JSON.parse(JSON.stringify(last)) as IndexProgress;
    const r = await indexCommit(ds, { repoId, gitDir: clone, commit, resume, batchFiles: 8, onProgress: (p) => void resumedAt.push(p.filesDone) });
    expect(resumedAt[0]).toBe(16); // continued, not restarted
    expect(r).toMatchObject({ commit, kind: 'full', filesIndexed: 40 });
    expect(await generations(repoId)).toEqual([{ state: 'active', commit }]);
    expect((await searchCode(ds, repoId, 'res body', 200))!.results).toHaveLength(40);
    expect((await findSymbols(ds, repoId, 'resFn', 200))!.symbols).toHaveLength(40);
    const [{ dup }] = await ds.query(
      `SELECT count(*) - count(DISTINCT (sha, name, line)) AS dup FROM index_symbols WHERE repo_id = $1`,
      [repoId],
    );
    expect(Number(dup)).toBe(0);
  });

  it('a building generation abandoned for good is removed by the next successful build', async () => {
    const repoId = await createRepoRow(ds);
    const origin = new Origin().write(manyFiles('aban', 20));
    const first = origin.commit();
    const clone = origin.clone();
    const controller = new AbortController();
    await indexCommit(ds, {
      repoId,
      gitDir: clone,
      commit: first,
      batchFiles: 5,
      signal: controller.signal,
      onProgress: (p) => void (p.filesDone >= 5 && controller.abort()),
    }).catch(() => undefined);
    origin.write({ 'extra.txt': 'extra\n' });
    const second = origin.commit();
    const head = Origin.fetch(clone);
    expect(head).toBe(second);
    const r = await indexCommit(ds, { repoId, gitDir: clone, commit: head });
    expect(r.kind).toBe('full');
    expect(await generations(repoId)).toEqual([{ state: 'active', commit: second }]);
    const [{ n }] = await ds.query(
      `SELECT count(*)::int AS n FROM index_blobs b WHERE repo_id = $1
         AND NOT EXISTS (SELECT 1 FROM index_entries e JOIN index_generations g ON g.id = e.generation_id WHERE g.repo_id = $1 AND e.sha = b.sha)`,
      [repoId],
    );
    expect(n).toBe(0);
  });
});

describe('search over blocks', () => {
  let repoId: string;
  const files: Record<string, string> = {};
  let seed = 11;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);

  beforeAll(async () => {
    const words = ['alpha', 'Beta', 'gamma_x', 'ärger', 'q9', '日本', '😀', 'needleLong', '+=', '=>'];
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) lines.push(`export const value${i} = compute(${i}, "${words[i % words.length]} ${i % 7}"); // ${words[rnd(words.length)]}`);
    lines[1717] += ' uniqueNearTheMiddle';
    files['src/big.ts'] = lines.join('\n') + '\n';
    files['src/copy.ts'] = files['src/big.ts']; // one blob, two paths
    // Lines too long for a block: cut, and searched as whole lines all the same.
    const long1 = Array.from({ length: 9000 }, (_, i) => (i % 1500 === 777 ? 'needleLong' : `t${i % 97}`)).join(',');
    const long2 = 'x'.repeat(3 * BLOCK_CHARS) + 'onlyLate 😀 ' + 'y'.repeat(2 * BLOCK_CHARS);
    files['gen/long.js'] = `${long1}\n${long2}\nshort needleLong line\n`;
    files['docs/uni.txt'] = Array.from({ length: 800 }, (_, i) => `${'é日😀'.repeat(i % 5)} Ärger ${i} ÉTÉ été`).join('\r\n');
    repoId = await createRepoRow(ds);
    const origin = new Origin().write(files);
    const commit = origin.commit('blocks');
    await indexCommit(ds, { repoId, gitDir: origin.clone({ bare: true }), commit });
  });

  /** The column of a match within its preview (CONTRACT §14), from its column in the line. */
  const previewColumn = (content: string, m: { line: number; column: number; preview: string }) => {
    const lineText = content.split('\n')[m.line - 1].replace(/\r$/, '');
    return m.column - [...lineText.slice(0, lineText.indexOf(m.preview))].length;
  };

  /** Every match, by a scan of every file. */
  const scan = (q: string) =>
    Object.entries(files)
      .flatMap(([p, content]) => findLineMatches(content, q, 1e9).map((m) => `${p}:${m.line}:${previewColumn(content, m)}:${m.preview}`))
      .sort();

  async function check(q: string) {
    const want = scan(q);
    const got = (await searchCode(ds, repoId, q, 200))!.results.map((r) => `${r.path}:${r.line}:${r.column}:${r.preview}`);
    if (want.length <= 200) expect([q, got.sort()]).toEqual([q, want]);
    else {
      expect([q, got.length]).toEqual([q, 200]);
      expect(got.filter((r) => !want.includes(r))).toEqual([]);
    }
  }

  it('finds what a scan of every file finds: across block ends, on cut lines, after multibyte text, in any case', async () => {
    for (const q of ['needleLong', 'NEEDLELONG', 'onlyLate', 'onlylate 😀', 'uniqueNearTheMiddle', 'value1234 ', 'ÄRGER 3', 'été', 'ÉTÉ', '日本', '😀 ', 'q9', 'Q9 ', '+= 4', '=> 1")']) {
      await check(q);
    }
    // Around every block end: queries that start before it and end after it, of 2 to 60 characters.
    for (const content of Object.values(files)) {
      let at = 0;
      for (const b of textBlocks(content)) {
        at += Buffer.from(content, 'utf8').subarray(b.start, b.start + b.length).toString('utf8').length;
        for (const [before, after] of [[1, 1], [2, 3], [30, 30], [5, 55]]) {
          const q = content.slice(Math.max(0, at - before), at + after);
          // Within a line: a query that spans lines is refused (CONTRACT §14 finds lines).
          if (q.length >= 2 && !/^[\uDC00-\uDFFF]|[\uD800-\uDBFF]$/.test(q) && !/[\r\n]/.test(q)) await check(q);
        }
      }
    }
  });

  it('a long line yields one result, at its first match, whichever of its blocks was read first', async () => {
    // "needleLong," is only on the long first line (six times, in several of its blocks): a query
    // that src/big.ts also matches would reach the limit in whatever order the blocks come.
    const r = await searchCode(ds, repoId, 'needlelong,', 200);
    const [first] = findLineMatches(files['gen/long.js'], 'needlelong,', 1);
    expect(first.column).toBe(files['gen/long.js'].indexOf('needleLong') + 1);
    expect(r!.results.map((x) => [x.path, x.line, x.column, x.preview])).toEqual([['gen/long.js', 1, previewColumn(files['gen/long.js'], first), first.preview]]);
  });
});

describe('deletion', () => {
  it('deleteIndex and deleting the repo row remove every row of the index', async () => {
    const count = async (repoId: string) => {
      const [r] = await ds.query(
        `SELECT (SELECT count(*) FROM index_generations WHERE repo_id = $1)::int AS g,
                (SELECT count(*) FROM index_blobs WHERE repo_id = $1)::int AS b,
                (SELECT count(*) FROM index_symbols WHERE repo_id = $1)::int AS s,
                (SELECT count(*) FROM index_blocks WHERE repo_id = $1)::int AS k,
                (SELECT count(*) FROM index_entries e WHERE NOT EXISTS (SELECT 1 FROM index_generations g WHERE g.id = e.generation_id))::int AS orphans`,
        [repoId],
      );
      return r;
    };
    const origin = new Origin().write({ 'a.py': 'def fa():\n    pass\n', 'b/c.ts': 'export class Bc {}\n' });
    const commit = origin.commit();
    const clone = origin.clone();
    const a = await createRepoRow(ds);
    const b = await createRepoRow(ds);
    await indexCommit(ds, { repoId: a, gitDir: clone, commit });
    await indexCommit(ds, { repoId: b, gitDir: clone, commit });
    expect(await count(a)).toMatchObject({ g: 1, b: 2, s: 2, k: 2 });

    await deleteIndex(ds, a);
    expect(await count(a)).toEqual({ g: 0, b: 0, s: 0, k: 0, orphans: 0 });
    expect(await listTree(ds, a, '')).toBeNull();

    await ds.query(`DELETE FROM repos WHERE id = $1`, [b]);
    expect(await count(b)).toEqual({ g: 0, b: 0, s: 0, k: 0, orphans: 0 });
  });
});
