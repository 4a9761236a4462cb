// The navigator through the API: a repo with known content returns exactly that content through
// tree, file, search and symbols; after a push that adds, modifies, renames and deletes files, all
// four agree with the new head and nothing stale remains.
import { DEMO } from '../fakes/bitbucket/seed';
import { connect, startFakeAndService, type FakeBitbucket } from '../support/bitbucket';
import { isReadyAt, waitForRepo } from '../support/repos';
import { createAccount, type TestService } from '../support/service';

let fake: FakeBitbucket;
let svc: TestService;
let stop: () => Promise<void>;
let token: string;

const FILES = {
  'README.md': '# Navigator demo\n\nFind the needle here.\n',
  'src/geometry.ts': 'export interface Point {\n  x: number;\n  y: number;\n}\n\nexport function distance(a: Point, b: Point): number {\n  return Math.hypot(a.x - b.x, a.y - b.y);\n}\n',
  'src/old-name.py': 'class Greeter:\n    def hello(self):\n        return "needle in python"\n',
  'docs/guide.md': 'Nothing to see.\n',
};

beforeAll(async () => {
  ({ fake, svc, stop } = await startFakeAndService({ reachable: true }));
  await fake.addRepo({ workspace: 'demo', slug: 'nav', files: FILES, owner: DEMO.user });
  ({ token } = await createAccount(svc));
  await connect(svc, token);
});
afterAll(() => stop?.());

const get = (route: string) => svc.request('GET', route, { token });

it('answers 409 not_indexed before the first index, then serves exactly the indexed content', async () => {
  fake.injectFault({ method: 'POST', path: /git-upload-pack$/, hang: true, times: 1 });
  const res = await svc.request('POST', '/v1/repos', { token, body: { bitbucket: 'demo/nav' } });
  const id = res.body.repo.id;
  await waitForRepo(svc, token, id, (r) => r.status === 'indexing');
  for (const route of [`/tree?path=`, `/file?path=README.md`, `/search?q=needle`, `/symbols?q=d`]) {
    const r = await get(`/v1/repos/${id}${route}`);
    expect([route, r.status, r.body.error?.code]).toEqual([route, 409, 'not_indexed']);
  }
  fake.clearFaults(); // the hung clone fails; the activity retries and clones
  const head = await fake.headOf('demo', 'nav');
  await waitForRepo(svc, token, id, isReadyAt(head), 90_000);

  const root = await get(`/v1/repos/${id}/tree?path=`);
  expect(root.status).toBe(200);
  expect(root.body.commit).toBe(head);
  expect(root.body.entries.map((e: any) => [e.name, e.type])).toEqual([['docs', 'dir'], ['src', 'dir'], ['README.md', 'file']]);
  const src = await get(`/v1/repos/${id}/tree?path=src/`);
  expect(src.body.entries).toEqual([
    { name: 'geometry.ts', path: 'src/geometry.ts', type: 'file', size: FILES['src/geometry.ts'].length, language: 'TypeScript' },
    { name: 'old-name.py', path: 'src/old-name.py', type: 'file', size: FILES['src/old-name.py'].length, language: 'Python' },
  ]);

  const file = await get(`/v1/repos/${id}/file?path=src/geometry.ts`);
  expect(file.body).toEqual({ commit: head, path: 'src/geometry.ts', language: 'TypeScript', size: FILES['src/geometry.ts'].length, content: FILES['src/geometry.ts'] });

  const search = await get(`/v1/repos/${id}/search?q=NEEDLE`);
  expect(search.body.results).toEqual(
    expect.arrayContaining([
      { repo: { id, name: 'demo/nav' }, path: 'README.md', line: 3, column: 10, preview: 'Find the needle here.', matches: [[10, 16]] },
      { repo: { id, name: 'demo/nav' }, path: 'src/old-name.py', line: 3, column: 17, preview: '        return "needle in python"', matches: [[17, 23]] },
    ]),
  );
  expect(search.body.results).toHaveLength(2);

  const names = [];
  for (const q of ['p', 'd', 'g']) names.push(...(await get(`/v1/repos/${id}/symbols?q=${q}`)).body.symbols.map((s: any) => `${s.kind}:${s.name}@${s.path}:${s.line}`));
  expect(names).toEqual(expect.arrayContaining(['interface:Point@src/geometry.ts:1', 'function:distance@src/geometry.ts:6', 'class:Greeter@src/old-name.py:1']));

  // paths cannot escape, limits hold
  expect((await get(`/v1/repos/${id}/file?path=../../etc/passwd`)).body.error.code).toBe('invalid_path');
  expect((await get(`/v1/repos/${id}/file?path=src/nope.ts`)).status).toBe(404);
  expect((await get(`/v1/repos/${id}/search?q=x&limit=1000`)).body.error.code).toBe('invalid_request');
  expect((await get(`/v1/repos/${id}/search?q=`)).body.error.code).toBe('invalid_request');

  // a push that adds, modifies, renames and deletes
  const next = await fake.commit('demo', 'nav', {
    'src/added.go': 'package main\n\nfunc Added() string { return "fresh needle" }\n',
    'src/geometry.ts': FILES['src/geometry.ts'].replace('distance', 'euclidean'),
    'src/old-name.py': null,
    'src/new-name.py': FILES['src/old-name.py'],
    'docs/guide.md': null,
  });
  await fake.deliverPush('demo', 'nav');
  await waitForRepo(svc, token, id, isReadyAt(next));

  const root2 = await get(`/v1/repos/${id}/tree?path=`);
  expect(root2.body.commit).toBe(next);
  expect(root2.body.entries.map((e: any) => e.name)).toEqual(['src', 'README.md']);
  expect((await get(`/v1/repos/${id}/tree?path=src`)).body.entries.map((e: any) => e.name)).toEqual(['added.go', 'geometry.ts', 'new-name.py']);
  expect((await get(`/v1/repos/${id}/tree?path=docs`)).status).toBe(404);
  expect((await get(`/v1/repos/${id}/file?path=src/old-name.py`)).status).toBe(404);
  expect((await get(`/v1/repos/${id}/file?path=src/new-name.py`)).body.content).toBe(FILES['src/old-name.py']);
  const search2 = await get(`/v1/repos/${id}/search?q=needle`);
  expect(search2.body.results.map((r: any) => r.path).sort()).toEqual(['README.md', 'src/added.go', 'src/new-name.py']);
  const symbols2: string[] = [];
  for (const q of ['e', 'g', 'a', 'd']) symbols2.push(...(await get(`/v1/repos/${id}/symbols?q=${q}`)).body.symbols.map((s: any) => `${s.name}@${s.path}`));
  expect(symbols2).toEqual(expect.arrayContaining(['euclidean@src/geometry.ts', 'Greeter@src/new-name.py', 'Added@src/added.go']));
  expect(symbols2.filter((s: string) => s.includes('old-name') || s.startsWith('distance@'))).toEqual([]);
  const prefix = (await get(`/v1/repos/${id}/symbols?q=EUC`)).body.symbols.map((s: any) => s.name);
  expect(prefix).toEqual(['euclidean']);
}, 180_000);
