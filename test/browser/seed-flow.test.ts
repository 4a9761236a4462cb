// The seed's user flow in a real browser (Chromium via playwright-core) against the real service
// (API, workers, Temporal, PostgreSQL) and the fake Bitbucket: sign in → Connect → Grant access →
// green toast → Add-repo dialog, filter, add → pending → indexing → ready → search and open a file
// → push → new content → disconnect, reconnect, the reconnect banner → delete. Connect, the dialog
// and Add are driven by the keyboard alone. Every step leaves a screenshot in
// test-output/browser/seed-flow/. Throughout: no console error, no secret in the URL or in storage
// (only the user's API token, in session storage), none in the service's logs.
import { Writable } from 'node:stream';
import type { Page } from 'playwright-core';
import { createLogger } from '../../src/logger';
import { DEMO } from '../fakes/bitbucket/seed';
import { startFakeAndService, type FakeBitbucket } from '../support/bitbucket';
import { browserState, errorsOf, openBrowser, recorded, recordTexts, tabTo, unnamedControls, waitForNoQuery, type BrowserSession } from '../support/browser';
import { findLeaks } from '../support/secrets-scan';
import { ADMIN_TOKEN, createAccount, ENCRYPTION_KEY, type TestService } from '../support/service';

jest.setTimeout(120_000);

let fake: FakeBitbucket;
let svc: TestService;
let stop: () => Promise<void>;
let b: BrowserSession;
let page: Page;
let token: string;
let logText = '';
/** Every URL of our own origin the tab was at. */
const visited: string[] = [];
const API_REPO = DEMO.repos.api;
let webhookSecrets: string[] = [];

/** Files enough for the index to take a few seconds, so its progress can be watched. */
const BULK = Object.fromEntries(Array.from({ length: 2400 }, (_, i) => [`src/generated/module-${String(i).padStart(4, '0')}.ts`, `export const value${i} = ${i};\n`]));

beforeAll(async () => {
  // The browser first: without Chromium the suite stops at once, with the sentence saying how to get it.
  b = await openBrowser({ suite: 'seed-flow' });
  page = b.page;
  const sink = new Writable({
    write(chunk, _enc, done) {
      logText += chunk.toString();
      done();
    },
  });
  ({ fake, svc, stop } = await startFakeAndService({ reachable: true, log: createLogger('info', sink) }));
  fake.setAuthorizeMode('consent-page');
  await fake.commit('acme', 'api', BULK, { message: 'Generated modules' });
  ({ token } = await createAccount(svc, 'Acme'));
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame() && frame.url().startsWith(svc.url)) visited.push(frame.url());
  });
}, 180_000);

afterAll(async () => {
  await b?.close();
  await stop?.();
});

const row = () => page.locator(`tr[data-repo="${API_REPO}"]`);

/**
 * After every step: no console error on our pages, every control named for a screen reader, the
 * token only in session storage and nothing else kept.
 */
afterEach(async () => {
  if (!b || !svc) return; // the set-up failed: its error is the one to read
  expect(errorsOf(b.console, svc.url)).toEqual([]);
  const state = await browserState(page);
  if (state.url.startsWith(svc.url)) {
    expect(await unnamedControls(page)).toEqual([]);
    expect(state.localStorage).toEqual({});
    expect(state.cookie).toBe('');
    for (const [k, v] of Object.entries(state.sessionStorage)) expect([k, v]).toEqual(['lettuce.apiToken', token]);
  }
});

it('signs in with an API token', async () => {
  await page.goto(svc.url);
  await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  await b.shot('sign-in');
  await page.getByLabel('API token').fill(token);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Repos' }).waitFor();
  await page.getByText('No repos yet').waitFor();
  expect(new URL(page.url()).pathname).toBe('/repos');
  await b.shot('repos-empty');
});

it('connects Bitbucket with the keyboard: Connect → Grant access → green toast, and the query leaves the address bar', async () => {
  await page.getByRole('tab', { name: 'Bitbucket' }).click();
  const connect = page.getByRole('button', { name: 'Connect Bitbucket →' });
  await connect.waitFor();
  await b.shot('bitbucket-tab-not-connected');
  await tabTo(page, connect);
  await Promise.all([page.waitForURL(`${fake.siteUrl}/site/oauth2/authorize**`), page.keyboard.press('Enter')]);
  await page.getByRole('button', { name: 'Grant access' }).waitFor();
  await b.shot('bitbucket-consent');
  await Promise.all([page.waitForURL(`${svc.url}/repos**`), page.getByRole('button', { name: 'Grant access' }).click()]);
  const toast = page.getByRole('status').filter({ hasText: 'Bitbucket connected' });
  await toast.waitFor();
  await waitForNoQuery(page);
  expect(page.url()).toBe(`${svc.url}/repos`);
  // The callback's redirect carried the query; the page took it away before anything else.
  expect(visited).toContain(`${svc.url}/repos?bitbucket=connected`);
  await b.shot('connected-toast');
  await page.getByRole('tab', { name: 'Bitbucket' }).click();
  await page.getByText(`Connected as ${DEMO.displayName}`).waitFor();
  await b.shot('bitbucket-tab-connected');
  expect(await unnamedControls(page)).toEqual([]);
});

it('adds a repo from the Add-repo dialog with the keyboard: filter, then Enter on the repo', async () => {
  await page.getByRole('tab', { name: 'Repos' }).click();
  await tabTo(page, page.getByRole('button', { name: 'Add repo' }));
  await page.keyboard.press('Enter');
  const dialog = page.getByRole('dialog', { name: 'Add repo' });
  await dialog.getByRole('button', { name: /^demo\/hello-ts/ }).waitFor();
  // The filter has the focus as soon as the list is there.
  // A function, not a string: Playwright evaluates a string predicate again at each poll, which the page's CSP (no 'unsafe-eval') refuses.
  await page.waitForFunction(() => (globalThis as unknown as { document: { activeElement: { id?: string } | null } }).document.activeElement?.id === 'picker-filter');
  await b.shot('add-repo-dialog');
  expect(await unnamedControls(page)).toEqual([]);
  const listed = await dialog.getByRole('listitem').allTextContents();
  expect(listed.map((t) => t.replace(/(private|public|added).*$/, ''))).toEqual([DEMO.repos.api, DEMO.repos.contributorOnly, DEMO.repos.worker, DEMO.repos.hello, DEMO.repos.public]);
  await page.keyboard.type('ACME/');
  await dialog.getByText('3 of 5 repos').waitFor();
  await b.shot('add-repo-dialog-filtered');
  const target = dialog.getByRole('button', { name: `${API_REPO}, private` });
  await tabTo(page, target);
  // Watch the status cell from now on: every text it shows, in order.
  await recordTexts(page, `tr[data-repo="${API_REPO}"] .status`);
  await page.keyboard.press('Enter');
  await dialog.waitFor({ state: 'detached' });
  await row().waitFor();
  await b.shot('repo-added');
});

it('shows the repo move pending → indexing (n of m files) → ready without a reload, with its webhook and last commit', async () => {
  await row().locator('.status', { hasText: /indexing \(\d+ of \d+ files\)/ }).waitFor({ timeout: 60_000 });
  await b.shot('repo-indexing');
  expect(await unnamedControls(page)).toEqual([]);
  await row().locator('.status', { hasText: 'ready' }).waitFor({ timeout: 90_000 });
  const head = (await fake.headOf('acme', 'api'))!;
  await row().getByText(head.slice(0, 7)).waitFor();
  await row().getByText('active').waitFor();
  await b.shot('repo-ready');
  const statuses = await recorded(page);
  const kinds = statuses.map((s) => s.replace(/ \(.*\)$/, ''));
  expect(kinds[0]).toBe('pending');
  expect(kinds[kinds.length - 1]).toBe('ready');
  expect(kinds.filter((k, i) => k !== kinds[i - 1])).toEqual(['pending', 'indexing', 'ready']);
  expect(statuses.some((s) => /^indexing \(\d+ of \d{4} files\)$/.test(s))).toBe(true);
  webhookSecrets = fake.hooksOf('acme', 'api').map((h) => h.secret ?? '');
  expect(webhookSecrets).toHaveLength(1);

  // The dialog now marks it as added (and Escape closes it).
  await page.getByRole('button', { name: 'Add repo' }).click();
  const added = page.getByRole('dialog', { name: 'Add repo' }).getByRole('button', { name: `${API_REPO}, private, already added` });
  await added.waitFor();
  expect(await added.isDisabled()).toBe(true);
  await b.shot('add-repo-dialog-added');
  await page.keyboard.press('Escape');
  await page.getByRole('dialog', { name: 'Add repo' }).waitFor({ state: 'detached' });
});

it('browses the repo in the navigator: tree, file with line numbers, code search, symbol search', async () => {
  await row().getByRole('link', { name: `Open ${API_REPO} in the navigator` }).click();
  await page.getByRole('heading', { name: API_REPO }).waitFor();
  await page.getByRole('button', { name: 'src/' }).click();
  await page.getByRole('link', { name: 'routes.ts' }).click();
  const file = page.getByRole('article', { name: 'src/routes.ts' });
  await file.waitFor();
  expect(await file.locator('li').count()).toBe(12);
  expect(await file.locator('#L5').textContent()).toBe("5export function routes(req: IncomingMessage, res: ServerResponse): void {");
  await b.shot('navigator-file');

  await page.getByLabel('Search code').fill('NOT FOUND');
  await page.getByLabel('Search code').press('Enter');
  await page.getByRole('heading', { name: "1 result for “NOT FOUND”" }).waitFor();
  const marks = await page.locator('.results mark').allTextContents();
  expect(marks.length).toBeGreaterThan(0);
  expect(marks.every((m) => m.toLowerCase() === 'not found')).toBe(true);
  await b.shot('navigator-search');
  expect(await unnamedControls(page)).toEqual([]);
  await page.getByRole('link', { name: /^src\/routes\.ts:11/ }).click();
  await page.locator('#L11.target').waitFor();
  expect(new URL(page.url()).searchParams.get('line')).toBe('11');
  await b.shot('navigator-search-result-opened');

  await page.getByLabel('Find symbol').fill('NotF');
  await page.getByLabel('Find symbol').press('Enter');
  await page.getByRole('link', { name: /^src\/routes\.ts:3/ }).click();
  await page.locator('#L3.target').waitFor();
  expect(await page.locator('#L3').textContent()).toContain('export class NotFound extends Error {}');
  await b.shot('navigator-symbol-opened');
});

it('follows a push at Bitbucket: the new commit is indexed and its content is found, without a reload', async () => {
  const sha = await fake.commit('acme', 'api', { 'src/health.ts': 'export const healthCheck = "lettuce-push-canary";\n' }, { message: 'Health check' });
  const [delivery] = await fake.deliverPush('acme', 'api');
  expect(delivery.status).toBe(202);
  // The navigator follows the new index by itself.
  await page.locator('.sub code', { hasText: sha.slice(0, 12) }).waitFor({ timeout: 60_000 });
  await page.getByLabel('Search code').fill('lettuce-push-canary');
  await page.getByLabel('Search code').press('Enter');
  await page.getByRole('link', { name: /^src\/health\.ts:1/ }).click();
  await page.getByRole('article', { name: 'src/health.ts' }).getByText('lettuce-push-canary').waitFor();
  await b.shot('navigator-after-push');
  await page.getByRole('link', { name: '← All repos' }).click();
  await row().getByText(sha.slice(0, 7)).waitFor();
  await b.shot('repo-after-push');
});

it('disconnects (owner, after a confirmation), then reconnects from the Bitbucket tab', async () => {
  await page.getByRole('tab', { name: 'Bitbucket' }).click();
  await page.getByRole('button', { name: 'Disconnect' }).click();
  const confirm = page.getByRole('dialog', { name: 'Disconnect Bitbucket?' });
  await confirm.waitFor();
  await b.shot('disconnect-confirm');
  expect(await unnamedControls(page)).toEqual([]);
  await confirm.getByRole('button', { name: 'Disconnect' }).click();
  await page.getByRole('status').filter({ hasText: 'Bitbucket disconnected' }).waitFor();
  await page.getByRole('button', { name: 'Connect Bitbucket →' }).waitFor();
  await b.shot('disconnected');
  await Promise.all([page.waitForURL(`${fake.siteUrl}/site/oauth2/authorize**`), page.getByRole('button', { name: 'Connect Bitbucket →' }).click()]);
  await Promise.all([page.waitForURL(`${svc.url}/repos**`), page.getByRole('button', { name: 'Grant access' }).click()]);
  await page.getByRole('status').filter({ hasText: 'Bitbucket connected' }).waitFor();
  await waitForNoQuery(page);
});

it('shows the reconnect banner when Bitbucket revoked the grant, and a reconnect brings the repo back', async () => {
  fake.revokeGrants(DEMO.user);
  await page.getByRole('tab', { name: 'Repos' }).click();
  await row().getByRole('button', { name: `Re-index ${API_REPO}` }).click();
  await row().locator('.status', { hasText: 'failed' }).waitFor({ timeout: 60_000 });
  const banner = page.getByRole('status').filter({ hasText: 'Bitbucket needs to be reconnected' });
  await banner.waitFor({ timeout: 15_000 });
  await row().getByRole('button', { name: `Reconnect Bitbucket for ${API_REPO}` }).waitFor();
  await b.shot('needs-reauth-banner');
  await Promise.all([page.waitForURL(`${fake.siteUrl}/site/oauth2/authorize**`), banner.getByRole('button', { name: 'Reconnect Bitbucket →' }).click()]);
  await Promise.all([page.waitForURL(`${svc.url}/repos**`), page.getByRole('button', { name: 'Grant access' }).click()]);
  await page.getByRole('status').filter({ hasText: 'Bitbucket connected' }).waitFor();
  await banner.waitFor({ state: 'detached', timeout: 15_000 });
  await row().locator('.status', { hasText: 'ready' }).waitFor({ timeout: 60_000 });
  await b.shot('reconnected-ready');
});

it('deletes the repo after a confirmation', async () => {
  await row().getByRole('button', { name: `Delete ${API_REPO}` }).click();
  const confirm = page.getByRole('dialog', { name: `Delete ${API_REPO}?` });
  await confirm.waitFor();
  await b.shot('delete-confirm');
  await confirm.getByRole('button', { name: 'Delete repo' }).click();
  await row().waitFor({ state: 'detached' });
  await page.getByText('No repos yet').waitFor();
  await b.shot('deleted');
});

it('kept every secret out of the address bar, the storage and the logs', async () => {
  const secrets = [...fake.issuedSecrets(), ...webhookSecrets, ADMIN_TOKEN, ENCRYPTION_KEY];
  expect(secrets.length).toBeGreaterThan(5);
  for (const url of visited) {
    expect(findLeaks(url, [...secrets, token])).toEqual([]);
    expect(new URL(url).searchParams.has('code') && !url.includes('/v1/integrations/bitbucket/callback')).toBe(false);
  }
  const state = await browserState(page);
  expect(findLeaks(JSON.stringify(state), secrets)).toEqual([]);
  expect(findLeaks(JSON.stringify(b.console), [...secrets, token])).toEqual([]);
  expect(logText).toContain('"msg":"request"');
  expect(findLeaks(logText, [...secrets, token])).toEqual([]);
});
