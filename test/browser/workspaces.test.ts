// Whole workspaces (CONTRACT §13) in a real browser against the real service (API, workers,
// Temporal, PostgreSQL) and the fake Bitbucket: an owner opens Add repo and, by the keyboard alone,
// chooses "Add every repo in orgwide" with the exclude pattern `legacy-*`; the Bitbucket tab shows
// the workspace syncing up to "3 of 3 ready" under one workspace webhook (and a workspace where the
// connected user is a plain member, with per-repo hooks and the reason one is missing); the repos
// appear in the list "synced from orgwide". A workspace the user has left gives the contract's
// error in the dialog. A member sees the workspaces but neither "Add every repo in …" nor "Stop
// syncing". "Stop syncing" removes the workspace from the tab and the repos stay. Screenshots in
// test-output/browser/workspaces/. After every step: no console error, every control named, only
// the user's API token kept.
import type { Page } from 'playwright-core';
import { DEMO } from '../fakes/bitbucket/seed';
import { connect, startFakeAndService, type FakeBitbucket } from '../support/bitbucket';
import { expectCleanPages, openBrowser, recorded, recordTexts, tabTo, unnamedControls, type BrowserSession, type ConsoleEntry } from '../support/browser';
import { ADMIN_TOKEN, createAccount, type TestService } from '../support/service';

jest.setTimeout(120_000);

/** The workspace the owner syncs: the connected user (demo) is one of its admins. */
const WS = 'orgwide';
const SLUGS = ['alpha', 'beta', 'gamma', 'legacy-api', 'legacy-web'];
const KEPT = ['alpha', 'beta', 'gamma'];
/** A workspace demo leaves between the picker's listing and the POST. */
const LEFT = 'leftorg';

let fake: FakeBitbucket;
let svc: TestService;
let stop: () => Promise<void>;
let b: BrowserSession;
let page: Page;
let owner: string;
let member: string;
let memberPage: Page | null = null;
/** Console entries expected by the current test (Chromium logs every 4xx answer as an error). */
let expectedConsole: (e: ConsoleEntry) => boolean = () => false;
let consoleFrom = 0;

const files = (slug: string) => ({ 'README.md': `# ${slug}\n`, 'src/index.ts': `export function ${slug.replace(/\W/g, '_')}(): number {\n  return 1;\n}\n` });

beforeAll(async () => {
  // The browser first: without Chromium the suite stops at once, with the sentence saying how to get it.
  b = await openBrowser({ suite: 'workspaces' });
  page = b.page;
  ({ fake, svc, stop } = await startFakeAndService({ reachable: true }));
  fake.addWorkspace({ slug: WS, name: 'Org Wide', members: [{ nickname: DEMO.user, administrator: true }] });
  for (const slug of SLUGS) await fake.addRepo({ workspace: WS, slug, files: files(slug), owner: DEMO.otherUser });
  fake.addWorkspace({ slug: LEFT, name: 'Left Org', members: [{ nickname: DEMO.user, administrator: true }] });
  await fake.addRepo({ workspace: LEFT, slug: 'solo', files: files('solo'), owner: DEMO.otherUser });
  let accountId: string;
  ({ token: owner, accountId } = await createAccount(svc, 'Org Inc'));
  expect((await connect(svc, owner)).location).toContain('bitbucket=connected');
  const m = await svc.request('POST', `/v1/admin/accounts/${accountId}/users`, { token: ADMIN_TOKEN, body: { email: 'member@org.test', role: 'member' } });
  expect(m.status).toBe(201);
  member = m.body.token;
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
  await expectCleanPages(b, svc.url, [[page, owner], ...(memberPage ? [[memberPage, member]] : [])] as Array<[Page, string]>, consoleFrom, expectedConsole);
});

async function signIn(p: Page, token: string, role: 'owner' | 'member') {
  await p.goto(svc.url);
  await p.getByLabel('API token').fill(token);
  await p.keyboard.press('Enter');
  await p.getByRole('heading', { name: 'Repos' }).waitFor();
  // The role decides what the page offers: wait until it is known.
  await p.getByText(`(${role})`).waitFor();
}

const workspaceRow = (p: Page, ws: string) => p.locator(`tr[data-workspace="${ws}"]`);
const repoRow = (p: Page, name: string) => p.locator(`tr[data-repo="${name}"]`);
const getWorkspace = (ws: string) => svc.request('GET', `/v1/integrations/bitbucket/workspaces/${ws}`, { token: owner });

/** Opens Add repo by the keyboard and waits for the picker's list, the filter focused. */
async function openPicker(p: Page) {
  await p.getByRole('tab', { name: 'Repos' }).click();
  await tabTo(p, p.getByRole('button', { name: 'Add repo' }));
  await p.keyboard.press('Enter');
  const dialog = p.getByRole('dialog', { name: 'Add repo' });
  await dialog.getByRole('button', { name: new RegExp(`^${WS}/alpha`) }).waitFor();
  // A function, not a string: a string predicate is eval'd at each poll, which the page's CSP refuses.
  await p.waitForFunction(() => (globalThis as unknown as { document: { activeElement: { id?: string } | null } }).document.activeElement?.id === 'picker-filter');
  return dialog;
}

it('an owner adds every repo of a workspace from the Add-repo dialog by keyboard, leaving out legacy-*', async () => {
  await signIn(page, owner, 'owner');
  const dialog = await openPicker(page);
  // One offer per workspace the list shows; the filter narrows them with the repos.
  const offers = dialog.getByRole('group', { name: 'Whole workspaces' }).getByRole('button');
  // In the list's order (repos sorted by full name).
  expect(await offers.allTextContents()).toEqual(['acme', 'demo', LEFT, WS, 'oss-lab'].map((ws) => `Add every repo in ${ws}`));
  await page.keyboard.type(`${WS}/`);
  await dialog.getByText(new RegExp(`^${SLUGS.length} of \\d+ repos$`)).waitFor();
  expect(await offers.allTextContents()).toEqual([`Add every repo in ${WS}`]);
  await b.shot('add-dialog-workspace-offer');

  await tabTo(page, dialog.getByRole('button', { name: `Add every repo in ${WS}` }));
  await page.keyboard.press('Enter');
  await dialog.getByRole('heading', { name: `Add every repo in ${WS}` }).waitFor();
  // The patterns field has the focus; the preview says what the patterns leave out.
  await page.waitForFunction(() => (globalThis as unknown as { document: { activeElement: { id?: string } | null } }).document.activeElement?.id === 'workspace-exclude');
  await page.keyboard.type('legacy-*');
  await dialog.getByText(`3 of the 5 repos of ${WS} listed for you now: leaves out legacy-api and legacy-web.`).waitFor();
  await b.shot('workspace-add-form');
  expect(await unnamedControls(page)).toEqual([]);

  await recordTexts(page, `tr[data-workspace="${WS}"] .status`);
  const submit = dialog.getByRole('button', { name: `Add every repo in ${WS}`, exact: true });
  await tabTo(page, submit);
  await page.keyboard.press('Enter');
  await dialog.waitFor({ state: 'detached' });
  await page.getByRole('status').filter({ hasText: `Adding every repo in ${WS}` }).waitFor();
  const synced = await getWorkspace(WS);
  expect(synced.status).toBe(200);
  expect(synced.body.workspace).toMatchObject({ workspace: WS, name: 'Org Wide', exclude: ['legacy-*'] });
});

it('the Bitbucket tab shows the workspace syncing up to "3 of 3 ready" under one workspace webhook; the repos appear, synced from it', async () => {
  // A workspace where the connected user is a plain member, for the per-repo hooks' row.
  expect((await svc.request('POST', '/v1/integrations/bitbucket/workspaces', { token: owner, body: { workspace: 'acme' } })).status).toBe(202);
  await page.getByRole('tab', { name: 'Bitbucket' }).click();
  const row = workspaceRow(page, WS);
  await row.waitFor();
  expect(await row.locator('th').textContent()).toContain('Org Wide');
  expect(await row.locator('th').textContent()).toContain('leaves out legacy-*');
  await b.shot('workspace-syncing');
  await row.getByText('3 of 3 ready').waitFor({ timeout: 90_000 });
  await row.locator('.status', { hasText: 'synced' }).waitFor({ timeout: 30_000 });
  await row.getByText('one workspace webhook').waitFor();
  await row.locator('time').waitFor(); // last synced
  const statuses = await recorded(page);
  expect(statuses.filter((s, i) => s !== statuses[i - 1])).toEqual(['syncing', 'synced']);
  expect(fake.workspaceHooksOf(WS)).toHaveLength(1);

  const acme = workspaceRow(page, 'acme');
  await acme.locator('.status', { hasText: 'synced' }).waitFor({ timeout: 90_000 });
  await acme.getByText(/^per-repo webhooks: .*no push webhook/).waitFor({ timeout: 30_000 });
  await acme.getByText('3 of 3 ready').waitFor();
  for (const close of await page.getByRole('button', { name: 'Dismiss' }).all()) await close.click();
  await b.shot('workspaces-synced');
  expect(await unnamedControls(page)).toEqual([]);

  await page.getByRole('tab', { name: 'Repos' }).click();
  for (const slug of KEPT) {
    await repoRow(page, `${WS}/${slug}`).getByText(`synced from ${WS}`).waitFor();
    await repoRow(page, `${WS}/${slug}`).locator('.status', { hasText: 'ready' }).waitFor({ timeout: 30_000 });
  }
  for (const slug of SLUGS.filter((s) => !KEPT.includes(s))) expect(await repoRow(page, `${WS}/${slug}`).count()).toBe(0);
  await b.shot('repos-synced-from');

  // The picker now marks them added, and the workspace's offer says it is synced.
  const dialog = await openPicker(page);
  await dialog.getByRole('button', { name: `${WS}/alpha, private, already added` }).waitFor();
  await dialog.getByRole('button', { name: `Add every repo in ${WS}, already synced` }).waitFor();
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
});

it("says in the contract's words why a workspace cannot be synced: the connected user left it", async () => {
  expectedConsole = (e) => /status of 404/.test(e.text) && e.url.endsWith('/v1/integrations/bitbucket/workspaces');
  const dialog = await openPicker(page);
  await page.keyboard.type(`${LEFT}/`);
  const offer = dialog.getByRole('button', { name: `Add every repo in ${LEFT}` });
  await offer.click();
  fake.removeMember(LEFT, DEMO.user);
  await dialog.getByRole('button', { name: `Add every repo in ${LEFT}`, exact: true }).click();
  const alert = dialog.getByRole('alert');
  await alert.getByText(`Bitbucket has no workspace ${LEFT} that the connected user is a member of`).waitFor();
  await b.shot('workspace-add-error');
  expect((await getWorkspace(LEFT)).status).toBe(404);
  // Back to the list: the focus returns to the offer that opened the form.
  await dialog.getByRole('button', { name: 'Back to the list' }).click();
  await page.waitForFunction((id) => (globalThis as unknown as { document: { activeElement: { id?: string } | null } }).document.activeElement?.id === id, `add-workspace-${LEFT}`);
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
});

it('a member sees the synced workspaces, but neither "Add every repo in …" nor "Stop syncing"', async () => {
  memberPage = await b.newPage();
  const p = memberPage;
  await signIn(p, member, 'member');
  const dialog = await openPicker(p);
  expect(await dialog.getByRole('group', { name: 'Whole workspaces' }).count()).toBe(0);
  expect(await dialog.getByRole('button', { name: /^Add every repo/ }).count()).toBe(0);
  await b.shot('member-add-dialog', p);
  await p.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });

  await p.getByRole('tab', { name: 'Bitbucket' }).click();
  await workspaceRow(p, WS).getByText('3 of 3 ready').waitFor();
  await workspaceRow(p, WS).getByText('one workspace webhook').waitFor();
  expect(await p.getByRole('button', { name: /Stop syncing/ }).count()).toBe(0);
  await p.getByText('Only an owner of the account can sync a whole workspace or stop syncing one.').waitFor();
  await b.shot('member-workspaces', p);
});

it('"Stop syncing" (owner, after a confirmation) removes the workspace from the tab; its repos stay', async () => {
  await page.getByRole('tab', { name: 'Bitbucket' }).click();
  await workspaceRow(page, WS).getByRole('button', { name: `Stop syncing ${WS}` }).click();
  const confirm = page.getByRole('dialog', { name: `Stop syncing ${WS}?` });
  await confirm.getByText('Its 3 repos stay as ordinary repos').waitFor();
  await b.shot('stop-syncing-confirm');
  expect(await unnamedControls(page)).toEqual([]);
  await confirm.getByRole('button', { name: 'Stop syncing' }).click();
  await workspaceRow(page, WS).waitFor({ state: 'detached' });
  await page.getByRole('status').filter({ hasText: `${WS} no longer syncs; its repos stay` }).waitFor();
  await workspaceRow(page, 'acme').waitFor();
  expect((await getWorkspace(WS)).status).toBe(404);
  await b.shot('workspace-stopped');

  await page.getByRole('tab', { name: 'Repos' }).click();
  for (const slug of KEPT) {
    const row = repoRow(page, `${WS}/${slug}`);
    await row.locator('.status', { hasText: 'ready' }).waitFor();
    expect(await row.getByText('synced from').count()).toBe(0);
  }
  await b.shot('repos-after-stop');
});
