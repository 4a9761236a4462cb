// Code search (CONTRACT §14) through the service: the query language on one repo and over every
// repo of the account, ranking (definitions, file names, lines), match offsets for highlighting,
// filters, clear errors, the deadline, and tenancy: an account's search never reads another's index.
import { DEMO } from '../fakes/bitbucket/seed';
import { connect, startFakeAndService, type FakeBitbucket } from '../support/bitbucket';
import { isReadyAt, waitForRepo } from '../support/repos';
import { createAccount, type TestService } from '../support/service';

let fake: FakeBitbucket;
let svc: TestService;
let stop: () => Promise<void>;
let token: string;
let otherToken: string;
const ids: Record<string, string> = {};

const ALPHA = {
  'src/geometry.ts': 'export class Greeter {\n  greet(name: string): string {\n    return `hi ${name}`;\n  }\n}\n\nexport function useIt() {\n  return foo.bar(1) + Foo.Bar(2);\n}\n',
  'src/geometry.test.ts': "import { Greeter } from './geometry';\n// foo.bar( in a test\n",
  'README.md': '# alpha\n\nCall foo.bar(x) to start. Crème brûlée.\n',
};
const BETA = {
  'tools/greeter.py': 'class Greeter:\n    def greet(self):\n        return foo.bar(3)\n',
  'main.go': 'package main\n\nfunc main() { fooooo.bar(4) }\n',
  'big.txt': `${'a'.repeat(5000)}\n`,
};

async function search(path: string, t = token) {
  return svc.request('GET', path, { token: t });
}

beforeAll(async () => {
  ({ fake, svc, stop } = await startFakeAndService({ reachable: true }));
  fake.setCurrentUser(DEMO.user);
  fake.addWorkspace({ slug: 'srch', members: [{ nickname: DEMO.user, administrator: true }] });
  await fake.addRepo({ workspace: 'srch', slug: 'alpha', files: ALPHA, owner: DEMO.user });
  await fake.addRepo({ workspace: 'srch', slug: 'beta', files: BETA, owner: DEMO.user });
  await fake.addRepo({ workspace: 'srch', slug: 'secret', files: { 'x.ts': 'export const onlyOtherAccount = "zebraquokka";\n' }, owner: DEMO.user });
  ({ token } = await createAccount(svc, 'Searchers'));
  await connect(svc, token);
  for (const slug of ['alpha', 'beta']) {
    const res = await svc.request('POST', '/v1/repos', { token, body: { bitbucket: `srch/${slug}` } });
    ids[slug] = res.body.repo.id;
    await waitForRepo(svc, token, ids[slug], isReadyAt());
  }
  // Another account, with a repo of its own.
  ({ token: otherToken } = await createAccount(svc, 'Others'));
  await connect(svc, otherToken);
  const other = await svc.request('POST', '/v1/repos', { token: otherToken, body: { bitbucket: 'srch/secret' } });
  await waitForRepo(svc, otherToken, other.body.repo.id, isReadyAt());
}, 120_000);
afterAll(() => stop?.());

it('a plain text is one case-insensitive literal, with 1-based code-point match offsets in the preview', async () => {
  const res = await search(`/v1/repos/${ids.alpha}/search?q=${encodeURIComponent('oo.bar(')}`);
  expect(res.status).toBe(200);
  expect(res.body.commit).toMatch(/^[0-9a-f]{40}$/);
  const line = res.body.results.find((r: any) => r.path === 'src/geometry.ts');
  expect(line).toEqual({ repo: { id: ids.alpha, name: 'srch/alpha' }, path: 'src/geometry.ts', line: 8, column: 11, preview: '  return foo.bar(1) + Foo.Bar(2);', matches: [[11, 18], [24, 31]] });
  expect(res.body.stats).toEqual({ repos: 1, files: expect.any(Number), truncated: false });
  // Offsets count code points: after "Crème brûlée." nothing shifts; before it, the accents count once.
  const accents = await search(`/v1/repos/${ids.alpha}/search?q=${encodeURIComponent('brûlée')}`);
  expect(accents.body.results).toEqual([expect.objectContaining({ path: 'README.md', line: 3, preview: 'Call foo.bar(x) to start. Crème brûlée.', matches: [[33, 39]], column: 33 })]);
});

it('case:yes, regular expressions, and the filters narrow as asked', async () => {
  const exact = await search(`/v1/repos/${ids.alpha}/search?q=${encodeURIComponent('case:yes Foo.Bar')}`);
  expect(exact.body.results.map((r: any) => [r.path, r.line, r.matches])).toEqual([['src/geometry.ts', 8, [[23, 30]]]]);
  const regex = await search(`/v1/search?q=${encodeURIComponent('/fo+\\.bar\\(\\d/')}`);
  expect(regex.body.results.map((r: any) => `${r.repo.name}:${r.path}:${r.line}`).sort()).toEqual(['srch/alpha:src/geometry.ts:8', 'srch/beta:main.go:3', 'srch/beta:tools/greeter.py:3']);
  // An expression with spaces in it is one expression, filters around it apply.
  const spaced = await search(`/v1/search?q=${encodeURIComponent('lang:python /return foo\\.bar\\(\\d\\)/')}`);
  expect(spaced.body.results.map((r: any) => `${r.path}:${r.line}`)).toEqual(['tools/greeter.py:3']);
  const ts = await search(`/v1/search?q=${encodeURIComponent('file:\\.ts$ -file:test foo.bar(')}`);
  expect(ts.body.results.map((r: any) => r.path)).toEqual(['src/geometry.ts']);
  const py = await search(`/v1/search?q=${encodeURIComponent('lang:PYTHON foo.bar(')}`);
  expect(py.body.results.map((r: any) => r.path)).toEqual(['tools/greeter.py']);
  const repo = await search(`/v1/search?q=${encodeURIComponent('repo:beta$ foo.bar(')}`);
  expect(new Set(repo.body.results.map((r: any) => r.repo.name))).toEqual(new Set(['srch/beta']));
  expect(repo.body.stats.repos).toBe(1);
  const quoted = await search(`/v1/repos/${ids.alpha}/search?q=${encodeURIComponent('"file:x"')}`);
  expect(quoted.status).toBe(200); // a quoted literal, not a filter
});

it('ranks definitions of a matching symbol first, then file names, then lines; ties by repo, path, line', async () => {
  const res = await search(`/v1/search?q=${encodeURIComponent('sym:greeter')}`);
  expect(res.body.results.map((r: any) => `${r.repo.name}:${r.path}:${r.line}`)).toEqual(['srch/alpha:src/geometry.ts:1', 'srch/beta:tools/greeter.py:1']);
  const mixed = await search(`/v1/search?q=greeter`);
  const kinds = mixed.body.results.map((r: any) => (r.line === 0 ? 'path' : 'line'));
  expect(kinds.indexOf('line')).toBeGreaterThan(kinds.lastIndexOf('path'));
  expect(mixed.body.results.find((r: any) => r.line === 0)).toEqual({ repo: { id: ids.beta, name: 'srch/beta' }, path: 'tools/greeter.py', line: 0, column: 0, preview: 'tools/greeter.py', matches: [[7, 14]] });
  const lines = mixed.body.results.filter((r: any) => r.line > 0).map((r: any) => `${r.repo.name}:${r.path}:${r.line}`);
  expect(lines).toEqual([...lines].sort((a: string, b: string) => a.localeCompare(b, 'en', { numeric: true })));
});

it('answers 400 invalid_query naming the problem, 400 invalid_request for a limit outside 1–500', async () => {
  for (const q of ['/(/', '/(?=x)y/', 'case:maybe x', 'file: x', '"unclosed', 'lang:go']) {
    const res = await search(`/v1/search?q=${encodeURIComponent(q)}`);
    expect([q, res.status, res.body.error?.code]).toEqual([q, 400, 'invalid_query']);
    expect(res.body.error.message.length).toBeGreaterThan(10);
  }
  expect((await search(`/v1/search?q=x&limit=501`)).body.error.code).toBe('invalid_request');
  expect((await search(`/v1/repos/${ids.alpha}/search?q=x&limit=0`)).body.error.code).toBe('invalid_request');
  expect((await search(`/v1/search?q=x&limit=500`)).status).toBe(200);
});

it("never reads another account's index, whatever the query", async () => {
  for (const q of ['zebraquokka', '/zebra.*/', 'repo:. zebraquokka', 'sym:onlyOther', 'file:x\\.ts']) {
    const res = await search(`/v1/search?q=${encodeURIComponent(q)}`);
    expect([q, res.body.results.filter((r: any) => r.repo.name === 'srch/secret')]).toEqual([q, []]);
  }
  // The other account finds it: the test would catch a search that forgot the account.
  expect((await search('/v1/search?q=zebraquokka', otherToken)).body.results).toHaveLength(1);
  expect((await search(`/v1/repos/${ids.alpha}/search?q=x`, otherToken)).status).toBe(404);
});

it('a pathological expression answers within the deadline, and a simple search beside it answers within it too', async () => {
  // No literal to go by: every file is read and run through RE2 (linear time; a backtracking engine
  // would take exponential time on the line of 5,000 a's).
  const started = Date.now();
  const [slow, simple] = await Promise.all([
    search(`/v1/search?q=${encodeURIComponent('/^(a|aa)+\\d$/')}`),
    (async () => {
      const t = Date.now();
      const r = await search(`/v1/repos/${ids.beta}/search?q=greet`);
      return { r, ms: Date.now() - t };
    })(),
  ]);
  expect(slow.status).toBe(200);
  expect(slow.body.results).toEqual([]);
  expect(Date.now() - started).toBeLessThan(5_000);
  expect(simple.r.body.results.length).toBeGreaterThan(0);
  expect(simple.ms).toBeLessThan(2_000); // the contract's deadline
});
