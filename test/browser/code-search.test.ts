// Code search (CONTRACT §14) in a real browser against the real service (API, workers, Temporal,
// PostgreSQL) and the fake Bitbucket: the Repos page's one box over every repo — results grouped
// by repo and then by file, the matches marked exactly where the server says (also after emoji and
// other characters outside the Basic Multilingual Plane), file-name matches shown as such, the
// stats, a regular expression narrowed by file:, an invalid query's message under the box with the
// query kept, the query in the address bar (Back returns to it) — a result opening the file in the
// navigator at its line (scrolled to, marked, focused), by mouse and by keyboard; and the
// navigator's own search in the same language. Screenshots in test-output/browser/code-search/.
// After every step: no console error, every control named, only the user's API token kept.
import type { Locator, Page } from 'playwright-core';
import { DEMO } from '../fakes/bitbucket/seed';
import { connect, startFakeAndService, type FakeBitbucket } from '../support/bitbucket';
import { expectCleanPages, openBrowser, tabTo, unnamedControls, type BrowserSession, type ConsoleEntry } from '../support/browser';
import { isReadyAt, waitForRepo } from '../support/repos';
import { createAccount, type TestService } from '../support/service';

jest.setTimeout(120_000);

/** Far enough down its file that opening it has to scroll. */
const EMOJI_LINE = 81;
const EMOJI_TEXT = 'export const banner = "👩‍💻 𝔘𝔫𝔦 👋🏽 needle here, Needle there";';
const filler = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => `// filler line ${from + i}`).join('\n');

const ALPHA = {
  'src/geometry.ts': 'export class Greeter {\n  greet(name: string): string {\n    return `hi ${name}`;\n  }\n}\n\nexport function useIt() {\n  return foo.bar(1) + Foo.Bar(2);\n}\n',
  'src/geometry.test.ts': "import { Greeter } from './geometry';\n// foo.bar( in a test\n",
  'src/emoji.ts': `${filler(1, EMOJI_LINE - 1)}\n${EMOJI_TEXT}\n${filler(EMOJI_LINE + 1, 160)}\n`,
  'README.md': '# alpha\n\nThe needle is in src/emoji.ts.\n',
};
const BETA = {
  'tools/greeter.py': 'class Greeter:\n    def greet(self):\n        return foo.bar(3)\n',
  'main.go': 'package main\n\nfunc main() { s := "Ünïcödé"; fooooo.bar(4) }\n',
  'docs/needle.md': '# Needle\n\nA file named after the needle.\n',
};

let fake: FakeBitbucket;
let svc: TestService;
let stop: () => Promise<void>;
let b: BrowserSession;
let page: Page;
let token: string;
const ids: Record<string, string> = {};
/** Console entries expected by the current test (Chromium logs every 4xx answer as an error). */
let expectedConsole: (e: ConsoleEntry) => boolean = () => false;
let consoleFrom = 0;

beforeAll(async () => {
  // The browser first: without Chromium the suite stops at once, with the sentence saying how to get it.
  b = await openBrowser({ suite: 'code-search' });
  page = b.page;
  ({ fake, svc, stop } = await startFakeAndService({ reachable: true }));
  fake.setCurrentUser(DEMO.user);
  fake.addWorkspace({ slug: 'srch', members: [{ nickname: DEMO.user, administrator: true }] });
  await fake.addRepo({ workspace: 'srch', slug: 'alpha', files: ALPHA, owner: DEMO.user });
  await fake.addRepo({ workspace: 'srch', slug: 'beta', files: BETA, owner: DEMO.user });
  ({ token } = await createAccount(svc, 'Searchers'));
  await connect(svc, token);
  for (const slug of ['alpha', 'beta']) {
    const res = await svc.request('POST', '/v1/repos', { token, body: { bitbucket: `srch/${slug}` } });
    expect(res.status).toBe(202);
    ids[slug] = res.body.repo.id;
  }
  for (const slug of ['alpha', 'beta']) await waitForRepo(svc, token, ids[slug], isReadyAt());
}, 180_000);

afterAll(async () => {
  await b?.close();
  await stop?.();
});

beforeEach(() => {
  consoleFrom = b?.console.length ?? 0;
  expectedConsole = () => false;
});

/** After every step: no console error on our pages, every control named, only the API token kept. */
afterEach(async () => {
  if (!b || !svc) return; // the set-up failed: its error is the one to read
  await expectCleanPages(b, svc.url, [[page, token]], consoleFrom, expectedConsole);
});

const box = () => page.getByLabel('Search code in every repo', { exact: true });
const repoGroup = (name: string) => page.locator(`section.result-repo[data-repo="${name}"]`);
const fileGroup = (scope: Locator | Page, path: string) => scope.locator(`.result-file[data-path="${path}"]`);
const marks = (scope: Locator) => scope.locator('mark').allTextContents();
const query = () => new URL(page.url()).searchParams;
/** The element that has the focus: its id (a function, not a string: the page's CSP refuses eval). */
const focusedId = () => page.evaluate(() => (globalThis as unknown as { document: { activeElement: { id?: string } | null } }).document.activeElement?.id ?? '');

/** Types the query into the Repos page's box and presses Enter; waits for the results' heading. */
async function searchAll(q: string) {
  await box().fill(q);
  await box().press('Enter');
  await page.getByRole('heading', { name: new RegExp(`^(No|\\d+) results? for “${q.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}”$`) }).waitFor();
}

it('searches every repo from the Repos page: grouped by repo and file, matches marked where the server says, file-name matches, stats', async () => {
  await page.goto(svc.url);
  await page.getByLabel('API token').fill(token);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Repos' }).waitFor();
  await page.locator('tr[data-repo="srch/beta"] .status', { hasText: 'ready' }).waitFor();
  // The box is reached by the keyboard and says its syntax.
  await tabTo(page, box());
  const hint = page.locator('#search-all-syntax');
  expect(await box().getAttribute('aria-describedby')).toBe('search-all-syntax');
  for (const word of ['/regex/', 'case:yes', 'file:\\.ts$', '-file:test', 'lang:go', 'repo:api', 'sym:Name']) expect(await hint.locator('code', { hasText: word }).count()).toBe(1);
  await page.keyboard.type('needle');
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: /^\d+ results for “needle”$/ }).waitFor();
  // The query is the page's place, as the rest of the UI's is; the list of repos makes way.
  expect(page.url()).toBe(`${svc.url}/repos?q=needle`);
  expect(await page.locator('table.repos').count()).toBe(0);

  // What the server answered, to hold the page to.
  const api = (await svc.request('GET', '/v1/search?q=needle&limit=100', { token })).body;
  expect(api.stats.truncated).toBe(false);
  await page.getByRole('heading', { name: `${api.results.length} results for “needle”` }).waitFor();
  expect(await page.locator('.search-stats').textContent()).toBe(`In 2 repos, 3 files · ${api.stats.files} files of ${api.stats.repos} repos searched`);

  // By repo, the best-ranked first (beta's file-name match ranks before every line), then by file.
  expect(await page.locator('section.result-repo').evaluateAll((els) => els.map((e) => e.getAttribute('data-repo')))).toEqual(['srch/beta', 'srch/alpha']);
  expect(await repoGroup('srch/alpha').locator('.result-file').evaluateAll((els) => els.map((e) => e.getAttribute('data-path')))).toEqual(['README.md', 'src/emoji.ts']);
  expect(await repoGroup('srch/beta').locator('.result-file').evaluateAll((els) => els.map((e) => e.getAttribute('data-path')))).toEqual(['docs/needle.md']);
  expect(await repoGroup('srch/alpha').getByRole('heading', { name: /^srch\/alpha/ }).textContent()).toBe('srch/alpha2 results');

  // A file-name match: the path on the file's heading with the match marked, said to be one.
  const named = fileGroup(repoGroup('srch/beta'), 'docs/needle.md');
  const heading = named.getByRole('heading', { level: 4 });
  expect(await heading.getByRole('link').textContent()).toBe('docs/needle.md');
  expect(await marks(heading)).toEqual(['needle']);
  await heading.getByText('file name matches').waitFor();
  // Then its lines, each with its number.
  expect(await named.locator('ol.result-lines .ln').allTextContents()).toEqual(['1', '3']);
  expect(await named.locator('ol.result-lines code').allTextContents()).toEqual(['# Needle', 'A file named after the needle.']);
  expect(await marks(named.locator('ol.result-lines'))).toEqual(['Needle', 'needle']);

  // After 👩‍💻 (three code points, five code units), 𝔘𝔫𝔦 and 👋🏽, the marks are still on the words.
  const emoji = fileGroup(repoGroup('srch/alpha'), 'src/emoji.ts');
  expect(await emoji.locator('ol.result-lines code').allTextContents()).toEqual([EMOJI_TEXT]);
  expect(await emoji.locator('ol.result-lines .ln').allTextContents()).toEqual([String(EMOJI_LINE)]);
  expect(await marks(emoji)).toEqual(['needle', 'Needle']);
  // Every mark on the page is what the server matched, no more, no less.
  const all = await marks(page.locator('.code-results'));
  expect(all.length).toBe(api.results.reduce((n: number, r: any) => n + r.matches.length, 0));
  expect(all.every((m) => m.toLowerCase() === 'needle')).toBe(true);
  expect(await page.locator('.truncated').count()).toBe(0);
  await b.shot('search-all-repos');
  expect(await unnamedControls(page)).toEqual([]);
});

it('ranks file names before lines, and groups by where the best result is', async () => {
  await searchAll('greet');
  expect(await page.locator('section.result-repo').evaluateAll((els) => els.map((e) => e.getAttribute('data-repo')))).toEqual(['srch/beta', 'srch/alpha']);
  const beta = repoGroup('srch/beta');
  expect(await beta.locator('.result-file').evaluateAll((els) => els.map((e) => e.getAttribute('data-path')))).toEqual(['tools/greeter.py']);
  expect(await marks(fileGroup(beta, 'tools/greeter.py').getByRole('heading'))).toEqual(['greet']);
  expect(await fileGroup(beta, 'tools/greeter.py').locator('ol.result-lines .ln').allTextContents()).toEqual(['1', '2']);
  const alpha = repoGroup('srch/alpha');
  expect(await alpha.locator('.result-file').evaluateAll((els) => els.map((e) => e.getAttribute('data-path')))).toEqual(['src/geometry.test.ts', 'src/geometry.ts']);
  expect(await fileGroup(alpha, 'src/geometry.ts').locator('ol.result-lines .ln').allTextContents()).toEqual(['1', '2']);
  expect(await page.locator('.badge-name').count()).toBe(1);
  const all = await marks(page.locator('.code-results'));
  expect(all).toHaveLength(6);
  expect(all.every((m) => m.toLowerCase() === 'greet')).toBe(true);
  await b.shot('search-all-repos-ranked');
});

it('says when more results were left out (the limit of 100 reached)', async () => {
  // src/emoji.ts has 159 filler lines.
  await searchAll('filler line');
  await page.getByRole('heading', { name: '100 results for “filler line”' }).waitFor();
  expect(await page.locator('.truncated').textContent()).toMatch(/^More results were left out .*: narrow the query with file:, lang:, repo: or a longer text\.$/);
});

it('a regular expression narrowed by file: finds only what it says, marked whole', async () => {
  const q = '/fo+\\.bar\\(\\d/ file:\\.(go|py)$';
  await searchAll(q);
  expect(query().get('q')).toBe(q);
  expect(await page.locator('section.result-repo').evaluateAll((els) => els.map((e) => e.getAttribute('data-repo')))).toEqual(['srch/beta']);
  const beta = repoGroup('srch/beta');
  expect(await beta.locator('.result-file').evaluateAll((els) => els.map((e) => e.getAttribute('data-path')))).toEqual(['main.go', 'tools/greeter.py']);
  expect(await marks(fileGroup(beta, 'main.go'))).toEqual(['fooooo.bar(4']);
  expect(await fileGroup(beta, 'main.go').locator('ol.result-lines code').textContent()).toBe('func main() { s := "Ünïcödé"; fooooo.bar(4) }');
  expect(await marks(fileGroup(beta, 'tools/greeter.py'))).toEqual(['foo.bar(3']);
  expect(await page.locator('.badge-name').count()).toBe(0);
  expect(await page.locator('.search-stats').textContent()).toMatch(/^In 1 repo, 2 files · \d+ files? of \d+ repos? searched$/);
  await b.shot('search-regex-file');

  // case:yes and sym: are words of the same language.
  await searchAll('case:yes Foo.Bar');
  expect(await marks(page.locator('.code-results'))).toEqual(['Foo.Bar']);
  await searchAll('sym:greeter');
  expect(await page.locator('section.result-repo').evaluateAll((els) => els.map((e) => e.getAttribute('data-repo')))).toEqual(['srch/alpha', 'srch/beta']);
  await page.getByRole('link', { name: /^src\/geometry\.ts:1\s+export class Greeter/ }).waitFor();
  await page.getByRole('link', { name: /^tools\/greeter\.py:1\s+class Greeter:/ }).waitFor();
  await searchAll('repo:beta$ greet');
  expect(await page.locator('section.result-repo').evaluateAll((els) => els.map((e) => e.getAttribute('data-repo')))).toEqual(['srch/beta']);
});

it("says in the server's words why a query is invalid, under the box, and keeps the query", async () => {
  expectedConsole = (e) => /status of 400/.test(e.text) && e.url.includes('/v1/search');
  const bad = '/(/';
  const answer = await svc.request('GET', `/v1/search?q=${encodeURIComponent(bad)}`, { token });
  expect(answer.body.error.code).toBe('invalid_query');
  await box().fill(bad);
  await box().press('Enter');
  const alert = page.locator('form.all-repos-search').getByRole('alert');
  await alert.waitFor();
  expect(await alert.textContent()).toBe(answer.body.error.message);
  expect(await box().inputValue()).toBe(bad);
  expect(await box().getAttribute('aria-invalid')).toBe('true');
  expect(query().get('q')).toBe(bad);
  expect(await page.locator('.code-results').count()).toBe(0);
  await b.shot('search-invalid-query');

  // Mended, it searches; the message goes.
  await searchAll('/ne+dle/');
  expect(await alert.count()).toBe(0);
  expect(await box().getAttribute('aria-invalid')).toBeNull();
});

it('a result opens the file in the navigator at its line — scrolled to, marked, focused — and Back returns to the results', async () => {
  await searchAll('needle');
  const link = fileGroup(repoGroup('srch/alpha'), 'src/emoji.ts').getByRole('link', { name: new RegExp(`^src/emoji\\.ts:${EMOJI_LINE}\\s+export const banner`) });
  await link.click();
  await page.getByRole('heading', { name: 'srch/alpha' }).waitFor();
  const file = page.getByRole('article', { name: 'src/emoji.ts' });
  await file.waitFor();
  const target = page.locator(`#L${EMOJI_LINE}.target`);
  await target.waitFor();
  expect(await target.textContent()).toBe(`${EMOJI_LINE}${EMOJI_TEXT}`);
  expect(Object.fromEntries(query())).toEqual({ repo: ids.alpha, path: 'src/emoji.ts', line: String(EMOJI_LINE) });
  // In view (the page is 800 pixels high; line 81 is far below the first screen), and focused.
  const boxOf = (await target.boundingBox())!;
  expect(boxOf.y).toBeGreaterThan(0);
  expect(boxOf.y + boxOf.height).toBeLessThan(800);
  expect(await page.evaluate(() => (globalThis as unknown as { scrollY: number }).scrollY)).toBeGreaterThan(0);
  expect(await focusedId()).toBe(`L${EMOJI_LINE}`);
  await b.shot('search-result-opened');

  // Back: the search again, its query in the box.
  await page.goBack();
  await page.getByRole('heading', { name: /^\d+ results for “needle”$/ }).waitFor();
  expect(await box().inputValue()).toBe('needle');

  // By the keyboard: Tab to a file-name match and press Enter; it opens the file at its top.
  const named = fileGroup(repoGroup('srch/beta'), 'docs/needle.md').getByRole('link', { name: 'docs/needle.md', exact: true });
  await tabTo(page, named);
  await page.keyboard.press('Enter');
  await page.getByRole('article', { name: 'docs/needle.md' }).waitFor();
  expect(Object.fromEntries(query())).toEqual({ repo: ids.beta, path: 'docs/needle.md' });
  expect(await page.locator('ol.code li.target').count()).toBe(0);

  // Clear search brings the repo list back.
  await page.goBack();
  await page.getByRole('button', { name: 'Clear search' }).click();
  await page.locator('table.repos').waitFor();
  expect(page.url()).toBe(`${svc.url}/repos`);
  expect(await box().inputValue()).toBe('');
});

it("the navigator's search speaks the same language: regex and filters, marks, file-name matches opening the file, errors", async () => {
  expectedConsole = (e) => /status of 400/.test(e.text) && e.url.includes('/search');
  await page.goto(`${svc.url}/repos?repo=${ids.alpha}`);
  await page.getByRole('heading', { name: 'srch/alpha' }).waitFor();
  const navBox = page.getByLabel('Search code', { exact: true });
  expect(await navBox.getAttribute('aria-describedby')).toBe('code-search-syntax');
  expect(await page.locator('#code-search-syntax code', { hasText: 'repo:' }).count()).toBe(0); // one repo: no repo:
  const search = async (q: string) => {
    await navBox.fill(q);
    await navBox.press('Enter');
    await page.getByRole('heading', { name: new RegExp(`^(No|\\d+) results? for “${q.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}”$`) }).waitFor();
  };

  await search('case:yes Foo.Bar');
  expect(await marks(page.locator('.code-results'))).toEqual(['Foo.Bar']);
  await page.getByRole('link', { name: /^src\/geometry\.ts:8\s/ }).waitFor();

  await search('/ne+dle/ -file:README');
  expect(await page.locator('.result-file').evaluateAll((els) => els.map((e) => e.getAttribute('data-path')))).toEqual(['src/emoji.ts']);
  expect(await marks(page.locator('.code-results'))).toEqual(['needle', 'Needle']);
  expect(await page.locator('.search-stats').textContent()).toMatch(/^In 1 file · \d+ files? searched$/);
  await b.shot('navigator-search-regex');

  // A file-name match is the file's heading; it opens the file at its top.
  await search('geometry');
  const names = page.locator('.result-file:has(.badge-name)');
  expect(await names.evaluateAll((els) => els.map((e) => e.getAttribute('data-path')))).toEqual(['src/geometry.test.ts', 'src/geometry.ts']);
  expect(await marks(names.first().getByRole('heading'))).toEqual(['geometry']);
  await b.shot('navigator-search-file-names');
  await page.getByRole('link', { name: 'src/geometry.ts', exact: true }).click();
  await page.getByRole('article', { name: 'src/geometry.ts' }).waitFor();
  expect(query().get('line')).toBeNull();

  await navBox.fill('case:maybe x');
  await navBox.press('Enter');
  const alert = page.locator('form.search-form').filter({ has: navBox }).getByRole('alert');
  await alert.waitFor();
  const answer = await svc.request('GET', `/v1/repos/${ids.alpha}/search?q=${encodeURIComponent('case:maybe x')}`, { token });
  expect(answer.body.error.code).toBe('invalid_query');
  expect(await alert.textContent()).toBe(answer.body.error.message);
  expect(await navBox.inputValue()).toBe('case:maybe x');
});
