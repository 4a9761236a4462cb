// Hostile repositories against the real service (API and workers, Temporal, PostgreSQL, the fake
// Bitbucket's git over HTTP): files that crash parsers, bytes that are not UTF-8, names no editor
// would write, 50,000 files and a 100 MB line. After each, the service is whole (`/readyz`, and a
// repo indexed before still served).
import { Writable } from 'node:stream';
import { createLogger } from '../../src/logger';
import { DEMO } from '../fakes/bitbucket/seed';
import { deepNesting } from '../indexer/fixtures';
import { connect, startFakeAndService, type FakeBitbucket } from '../support/bitbucket';
import { isReadyAt, waitForRepo } from '../support/repos';
import { createAccount, type TestService } from '../support/service';
import { importCommit, type ImportedFile } from '../support/fast-import';
import { expectServiceWhole, hostileRepo } from './support';

let fake: FakeBitbucket;
let svc: TestService;
let stop: () => Promise<void>;
let token: string;
let healthyRepoId: string;
const logLines: string[] = [];

beforeAll(async () => {
  const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (logLines.push(chunk.toString('utf8')), done()) });
  ({ fake, svc, stop } = await startFakeAndService({ reachable: true, log: createLogger('info', sink) }));
  ({ token } = await createAccount(svc));
  fake.setCurrentUser(DEMO.user);
  expect((await connect(svc, token)).location).toContain('bitbucket=connected');
  const healthy = await svc.request('POST', '/v1/repos', { token, body: { bitbucket: DEMO.repos.hello } });
  healthyRepoId = healthy.body.repo.id;
  await waitForRepo(svc, token, healthyRepoId, isReadyAt());
}, 120_000);
afterAll(() => stop?.());

async function addAndIndex(fullName: string, head: string, timeoutMs = 120_000): Promise<string> {
  const res = await svc.request('POST', '/v1/repos', { token, body: { bitbucket: fullName } });
  expect(res.status).toBe(202);
  await waitForRepo(svc, token, res.body.repo.id, isReadyAt(head), timeoutMs);
  return res.body.repo.id;
}

const get = (route: string) => svc.request('GET', route, { token });
const q = encodeURIComponent;

describe('a file that crashes a parser', () => {
  it('pushed to an indexed repo: every process stays up, the repo is ready at the new head with its other symbols, the crash is logged with the path', async () => {
    const deep = deepNesting(20_000);
    const treeSitterOnly = Object.values(deep).filter((f) => !/\.(ts|tsx|js)$/.test(f.path));
    const { fullName, gitDir } = await hostileRepo(fake, 'deep-nesting', [{ path: 'src/keep.ts', content: 'export function keptEverywhere() {}\n' }]);
    const first = await importCommit(gitDir, 'main', treeSitterOnly, 'deep files for tree-sitter');
    const repoId = await addAndIndex(fullName, first);

    // The push that used to kill the service: oxc overflows its stack on each of these.
    const oxcFiles: ImportedFile[] = [deep.typescript, deep.tsx, deep.javascript];
    const head = await importCommit(gitDir, 'main', oxcFiles, 'deep files for oxc');
    const [delivery] = await fake.deliverPush('acme', 'deep-nesting');
    expect(delivery.status).toBe(202);
    await waitForRepo(svc, token, repoId, isReadyAt(head), 120_000);

    const kept = await get(`/v1/repos/${repoId}/symbols?q=kept&limit=50`);
    expect(kept.status).toBe(200);
    const found = kept.body.symbols.map((s: { name: string; path: string }) => `${s.path}:${s.name}`);
    expect(found).toContain('src/keep.ts:keptEverywhere');
    // The files only tree-sitter parses never crashed it; oxc's files get their symbols from
    // tree-sitter (once, in the service, tree-sitter too died on the 20,000 nested functions: that
    // file then has none, and is still indexed).
    for (const f of treeSitterOnly) expect(found).toContain(`${f.path}:${f.kept}`);
    expect(found).toContain(`${deep.typescript.path}:${deep.typescript.kept}`);
    const crashes = logLines.filter((l) => l.includes('a parser crashed on a file')).map((l) => JSON.parse(l));
    for (const f of oxcFiles) {
      expect(crashes).toContainEqual(expect.objectContaining({ repoId, path: f.path, reason: 'the parser process was killed by SIGSEGV', symbolsFrom: 'tree-sitter' }));
    }
    expect(crashes.every((c) => oxcFiles.some((f) => f.path === c.path))).toBe(true);
    const file = await get(`/v1/repos/${repoId}/file?path=${q(deep.typescript.path)}`);
    expect(file.status).toBe(200);
    await expectServiceWhole(svc, token, healthyRepoId);
  }, 240_000);
});

describe('bytes that are not UTF-8, and names no editor writes', () => {
  let repoId: string;
  const latin1 = (s: string) => Buffer.from(s, 'latin1');
  const names = ['-rf', '--upload-pack=touch pwned', 'line\nbreak.txt', ' leading space.txt', 'tab\tand "quotes".txt'];

  beforeAll(async () => {
    const utf16 = (s: string, bigEndian: boolean) => {
      const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(s, 'utf16le')]);
      return bigEndian ? Buffer.from(le).swap16() : le;
    };
    const files: ImportedFile[] = [
      { path: 'latin1.txt', content: latin1('The quick brown fox jumps over the lazy dog: caf\xe9, cr\xe8me br\xfbl\xe9e, \x80 5.\n') },
      { path: latin1('caf\xe9.txt'), content: 'first\n' },
      { path: latin1('caf\xe8.txt'), content: 'second\n' },
      { path: 'utf16le.txt', content: utf16('Quick little-endian text, Grüße.\n', false) },
      { path: 'utf16be.txt', content: utf16('Quick big-endian text.\n', true) },
      { path: 'zeros.bin', content: Buffer.alloc(64 * 1024) },
      ...names.map((n) => ({ path: `names/${n}`, content: `named ${JSON.stringify(n)}\n` })),
    ];
    const { fullName, head } = await hostileRepo(fake, 'encodings', files);
    repoId = await addAndIndex(fullName, head);
  }, 180_000);

  it('shows a Latin-1 file as an editor does, and finds it by what it shows', async () => {
    const file = await get(`/v1/repos/${repoId}/file?path=latin1.txt`);
    expect(file.status).toBe(200);
    expect(file.body.content).toBe('The quick brown fox jumps over the lazy dog: café, crème brûlée, € 5.\n');
    for (const query of ['quick', 'e', 'crème brûlée', 'CAFÉ']) {
      const search = await get(`/v1/repos/${repoId}/search?q=${q(query)}&limit=50`);
      expect(search.status).toBe(200);
      expect(search.body.results.map((r: { path: string }) => r.path)).toContain('latin1.txt');
    }
  });

  it('keeps two Latin-1 names apart, and serves each', async () => {
    const tree = await get(`/v1/repos/${repoId}/tree?path=`);
    expect(tree.status).toBe(200);
    const caf = tree.body.entries.filter((e: { name: string }) => e.name.startsWith('caf'));
    expect(caf).toHaveLength(2);
    expect(new Set(caf.map((e: { path: string }) => e.path)).size).toBe(2);
    const contents = [];
    for (const e of caf) {
      expect(e.name).not.toContain('\uFFFD');
      const file = await get(`/v1/repos/${repoId}/file?path=${q(e.path)}`);
      expect(file.status).toBe(200);
      contents.push(file.body.content);
    }
    expect(contents.sort()).toEqual(['first\n', 'second\n']);
  });

  it('reads UTF-16 files by their byte-order mark, and calls a NUL-filled file binary', async () => {
    expect((await get(`/v1/repos/${repoId}/file?path=utf16le.txt`)).body.content).toBe('Quick little-endian text, Grüße.\n');
    expect((await get(`/v1/repos/${repoId}/file?path=utf16be.txt`)).body.content).toBe('Quick big-endian text.\n');
    const search = await get(`/v1/repos/${repoId}/search?q=${q('endian text')}&limit=50`);
    expect(search.body.results.map((r: { path: string }) => r.path).sort()).toEqual(['utf16be.txt', 'utf16le.txt']);
    const zeros = await get(`/v1/repos/${repoId}/file?path=zeros.bin`);
    expect(zeros.status).toBe(404);
    expect(zeros.body.error.code).toBe('not_found');
  });

  it('lists and serves names with newlines, leading dashes, spaces, tabs and quotes', async () => {
    const tree = await get(`/v1/repos/${repoId}/tree?path=names`);
    expect(tree.status).toBe(200);
    expect(tree.body.entries.map((e: { name: string }) => e.name).sort()).toEqual([...names].sort());
    for (const n of names) {
      const file = await get(`/v1/repos/${repoId}/file?path=${q(`names/${n}`)}`);
      expect(file.status).toBe(200);
      expect(file.body.content).toBe(`named ${JSON.stringify(n)}\n`);
    }
    await expectServiceWhole(svc, token, healthyRepoId);
  });
});

describe('size', () => {
  it('50,000 files and a 100 MB single-line file index; the big file is listed, not shown', async () => {
    const files: ImportedFile[] = Array.from({ length: 50_000 }, (_, i) => ({ path: `gen/d${Math.floor(i / 1000)}/f${i}.ts`, content: `export const value${i} = ${i};\n` }));
    files.push({ path: 'huge.txt', content: Buffer.alloc(100 * 1024 * 1024, 'a') });
    const { fullName, head } = await hostileRepo(fake, 'big', files);
    const repoId = await addAndIndex(fullName, head, 300_000);

    const root = await get(`/v1/repos/${repoId}/tree?path=`);
    expect(root.status).toBe(200);
    expect(root.body.entries).toContainEqual(expect.objectContaining({ name: 'huge.txt', type: 'file', size: 100 * 1024 * 1024 }));
    expect((await get(`/v1/repos/${repoId}/tree?path=gen/d49`)).body.entries).toHaveLength(1000);
    const huge = await get(`/v1/repos/${repoId}/file?path=huge.txt`);
    expect(huge.status).toBe(404);
    const search = await get(`/v1/repos/${repoId}/search?q=${q('value49999 =')}`);
    expect(search.status).toBe(200);
    expect(search.body.results).toEqual([expect.objectContaining({ path: 'gen/d49/f49999.ts', line: 1 })]);
    const symbols = await get(`/v1/repos/${repoId}/symbols?q=value4999&limit=50`);
    expect(symbols.body.symbols.map((s: { name: string }) => s.name).sort()).toEqual(['value4999', ...Array.from({ length: 10 }, (_, i) => `value4999${i}`)].sort());
    await expectServiceWhole(svc, token, healthyRepoId);
  }, 420_000);
});
