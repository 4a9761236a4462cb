// What the UI tells people, in a real browser against the real service and the fake Bitbucket:
// each of the OAuth callback's error toasts (CONTRACT §5, §12) once and gone from the address bar,
// the banner naming a permission the grant lacks,
// a member's view of Disconnect, a server without a consumer (greyed-out Connect with the reason),
// a private repo added by pasting a git URL with credentials, a disconnected private Bitbucket repo
// switched to a git URL, and proof that the page's CSP blocks inline scripts and framing. Screenshots in test-output/browser/messages/.
import type { Page } from 'playwright-core';
import { DEMO } from '../fakes/bitbucket/seed';
import { connect, startFakeAndService, type FakeBitbucket } from '../support/bitbucket';
import { browserState, errorsOf, openBrowser, unnamedControls, waitForNoQuery, type BrowserSession, type ConsoleEntry } from '../support/browser';
import { waitForRepo } from '../support/repos';
import { ADMIN_TOKEN, createAccount, startTestService, type TestService } from '../support/service';

jest.setTimeout(120_000);

/** The fake consumer's permissions, all that Lettuce asks for (as Bitbucket lists them: the highest level of each). */
const FULL_SCOPES = 'account team project repository:write webhook';

let fake: FakeBitbucket;
let svc: TestService;
let bare: TestService;
let stop: () => Promise<void>;
let b: BrowserSession;
let page: Page;
let owner: string;
let accountId: string;
/** Console entries expected by the current test (the CSP proof provokes some on purpose). */
let expectedConsole: (e: ConsoleEntry) => boolean = () => false;
let consoleFrom = 0;

beforeAll(async () => {
  // The browser first: without Chromium the suite stops at once, with the sentence saying how to get it.
  b = await openBrowser({ suite: 'messages' });
  page = b.page;
  ({ fake, svc, stop } = await startFakeAndService({ reachable: true }));
  fake.setAuthorizeMode('consent-page');
  bare = await startTestService({ workers: false });
  ({ token: owner, accountId } = await createAccount(svc, 'Acme'));
}, 180_000);

afterAll(async () => {
  await b?.close();
  await bare?.stop();
  await stop?.();
});

beforeEach(() => {
  consoleFrom = b?.console.length ?? 0;
  expectedConsole = () => false;
});
afterEach(async () => {
  if (!b || !svc) return; // the set-up failed: its error is the one to read
  const fresh = b.console.slice(consoleFrom);
  expect([...errorsOf(fresh, svc.url), ...errorsOf(fresh, bare.url)].filter((e) => !expectedConsole(e))).toEqual([]);
  if (page.url().startsWith(svc.url)) expect(await unnamedControls(page)).toEqual([]);
});

async function signIn(p: Page, base: string, token: string) {
  await p.goto(base);
  await p.getByLabel('API token').fill(token);
  await p.getByRole('button', { name: 'Sign in' }).click();
  await p.getByRole('heading', { name: 'Repos' }).waitFor();
}

/** Connect → the fake's consent page → `decision` → back on the UI. */
async function connectAndDecide(decision: 'Grant access' | 'Cancel') {
  await page.getByRole('tab', { name: 'Bitbucket' }).click();
  await Promise.all([page.waitForURL(`${fake.siteUrl}/site/oauth2/authorize**`), page.getByRole('button', { name: /^(Connect|Reconnect) Bitbucket →$/ }).first().click()]);
  await Promise.all([page.waitForURL(`${svc.url}/repos**`), page.getByRole('button', { name: decision }).click()]);
}

const alertWith = (text: string) => page.getByRole('alert').filter({ hasText: text });

async function dismissToasts() {
  for (const close of await page.getByRole('button', { name: 'Dismiss' }).all()) await close.click();
}

it('a token Lettuce does not know is refused at sign-in, and a 401 later returns to sign-in', async () => {
  expectedConsole = (e) => /status of 401/.test(e.text); // Chromium logs every 401 answer
  await page.goto(svc.url);
  await page.getByLabel('API token').fill('not-a-real-token');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'Lettuce does not know that token' }).waitFor();
  expect((await browserState(page)).sessionStorage).toEqual({});
  await b.shot('sign-in-refused');
  // A token that stops working (revoked) mid-session: the page's next request (its first loads, or
  // the next poll) is refused, and the page returns to sign-in saying why. No reload here: this
  // page may still be starting its first loads (effects run after the next frame), so a reload
  // would race its 401, which signs it out and leaves the next page nothing to refuse.
  const ended = page.getByText('Your session has ended: sign in with your API token again.');
  await signIn(page, svc.url, owner);
  await page.evaluate(`sessionStorage.setItem('lettuce.apiToken', 'revoked-token')`);
  await ended.waitFor();
  expect(new URL(page.url()).pathname).toBe('/');
  expect((await browserState(page)).sessionStorage).toEqual({});
  // A link opened with a token that no longer works (another server's) ends there too. The page is
  // signed out now (it sends nothing), and a 401 still on its way for 'revoked-token' is not about this token.
  await page.evaluate(`sessionStorage.setItem('lettuce.apiToken', 'another-servers-token')`);
  await page.goto(`${svc.url}/repos?tab=bitbucket`);
  await ended.waitFor();
  expect(new URL(page.url()).pathname).toBe('/');
  expect((await browserState(page)).sessionStorage).toEqual({});
  await signIn(page, svc.url, owner);
});

it('Cancel on Bitbucket: "Bitbucket access was denied"', async () => {
  await connectAndDecide('Cancel');
  await alertWith('Bitbucket access was denied').waitFor();
  await waitForNoQuery(page);
  expect(page.url()).toBe(`${svc.url}/repos`);
  await b.shot('toast-access-denied');
  await dismissToasts();
});

it('Bitbucket refuses the code: "the code exchange failed"', async () => {
  fake.injectFault({ method: 'POST', path: '/site/oauth2/access_token', status: 400, body: JSON.stringify({ error: 'invalid_grant', error_description: 'The authorization code is invalid.' }) });
  await connectAndDecide('Grant access');
  await alertWith('the code exchange failed').waitFor();
  await waitForNoQuery(page);
  expect((await svc.request('GET', '/v1/integrations/bitbucket', { token: owner })).body.connected).toBe(false);
  await b.shot('toast-exchange-failed');
  await dismissToasts();
});

it('a used install state again: "Invalid or expired install state — restart the install from the Add-repo dialog"', async () => {
  const callbacks: string[] = [];
  const onRequest = (r: { url(): string }) => r.url().includes('/v1/integrations/bitbucket/callback') && callbacks.push(r.url());
  page.on('request', onRequest);
  await connectAndDecide('Grant access');
  page.off('request', onRequest);
  await page.getByRole('status').filter({ hasText: 'Bitbucket connected' }).waitFor();
  await dismissToasts();
  expect(callbacks).toHaveLength(1);
  // The browser's back button (or a reload of the callback) sends the same state once more.
  await page.goto(callbacks[0]);
  await alertWith('Invalid or expired install state — restart the install from the Add-repo dialog').waitFor();
  await waitForNoQuery(page);
  expect(page.url()).toBe(`${svc.url}/repos`);
  await b.shot('toast-invalid-state');
  await dismissToasts();
});

it('a public consumer: "Lettuce\'s Bitbucket OAuth consumer must be private"', async () => {
  fake.setConsumer({ privateConsumer: false }); // Bitbucket then issues no refresh token
  try {
    await connectAndDecide('Grant access');
  } finally {
    fake.setConsumer({ privateConsumer: true });
  }
  await alertWith("Lettuce's Bitbucket OAuth consumer must be private: ask your operator to tick 'This is a private consumer'.").waitFor();
  await waitForNoQuery(page);
  await b.shot('toast-consumer-not-private');
  await dismissToasts();
});

it('a grant without the Webhooks permission: a banner names it; reconnecting with it clears the banner', async () => {
  fake.setConsumer({ scopes: 'account team project repository:write' });
  try {
    await connectAndDecide('Grant access');
    await page.getByRole('status').filter({ hasText: 'Bitbucket connected' }).waitFor();
    const banner = page.getByRole('status').filter({ hasText: "Lettuce's Bitbucket consumer lacks Webhooks: Read and write: pushes will not refresh your repos." });
    await banner.waitFor();
    expect(await banner.textContent()).toContain('Ask your operator to tick Webhooks: Read and write on Lettuce\'s OAuth consumer, then reconnect.');
    await dismissToasts();
    await b.shot('banner-missing-webhook-permission');
    // The operator ticks the permission; the user reconnects from the banner.
    fake.setConsumer({ scopes: FULL_SCOPES });
    await Promise.all([page.waitForURL(`${fake.siteUrl}/site/oauth2/authorize**`), banner.getByRole('button', { name: 'Reconnect Bitbucket →' }).click()]);
    await Promise.all([page.waitForURL(`${svc.url}/repos**`), page.getByRole('button', { name: 'Grant access' }).click()]);
    await page.getByRole('status').filter({ hasText: 'Bitbucket connected' }).waitFor();
    await page.getByRole('tab', { name: 'Repos' }).waitFor();
    expect(await page.getByText("Lettuce's Bitbucket consumer lacks").count()).toBe(0);
    await dismissToasts();
  } finally {
    fake.setConsumer({ scopes: FULL_SCOPES });
  }
});

it('adds a private repo by pasting its git URL with credentials, which never show again', async () => {
  const secret = fake.issueTokens(DEMO.user).access_token;
  const url = `${fake.siteUrl}/acme/worker-py.git`;
  await page.getByRole('tab', { name: 'Repos' }).click();
  await page.getByRole('button', { name: 'Add repo' }).click();
  const dialog = page.getByRole('dialog', { name: 'Add repo' });
  await dialog.getByRole('tab', { name: 'Paste a git URL' }).click();
  await dialog.getByLabel('Git URL', { exact: true }).fill(url);
  await dialog.getByLabel('Username').fill('x-token-auth');
  await dialog.getByLabel('Password or access token').fill(secret);
  await b.shot('add-repo-url');
  expect(await unnamedControls(page)).toEqual([]);
  await dialog.getByRole('button', { name: 'Add repo' }).click();
  await dialog.waitFor({ state: 'detached' });
  const name = `${new URL(fake.siteUrl).host}/acme/worker-py`;
  const row = page.locator(`tr[data-repo="${name}"]`);
  await row.locator('.status', { hasText: 'ready' }).waitFor({ timeout: 60_000 });
  await row.getByText('git URL · private').waitFor();
  await b.shot('repo-from-url-ready');
  expect(await page.content()).not.toContain(secret);
  expect(JSON.stringify(await browserState(page))).not.toContain(secret);
});

it('a member sees why they cannot disconnect', async () => {
  const member = await svc.request('POST', `/v1/admin/accounts/${accountId}/users`, { token: ADMIN_TOKEN, body: { email: `bob-${Date.now()}@acme.test`, role: 'member' } });
  expect(member.status).toBe(201);
  const memberPage = await b.newPage();
  await signIn(memberPage, svc.url, member.body.token);
  await memberPage.getByRole('tab', { name: 'Bitbucket' }).click();
  const disconnect = memberPage.getByRole('button', { name: 'Disconnect' });
  await disconnect.waitFor();
  expect(await disconnect.isDisabled()).toBe(true);
  expect(await disconnect.getAttribute('aria-describedby')).toBe('disconnect-reason');
  expect(await memberPage.locator('#disconnect-reason').textContent()).toBe('Only an owner of the account can disconnect Bitbucket.');
  await b.shot('member-cannot-disconnect', memberPage);
  await memberPage.close();
});

it('a server without an OAuth consumer greys out Connect and says why', async () => {
  const { token } = await createAccount(bare, 'Bare');
  const barePage = await b.newPage();
  await signIn(barePage, bare.url, token);
  await barePage.getByRole('tab', { name: 'Bitbucket' }).click();
  const connect = barePage.getByRole('button', { name: 'Connect Bitbucket →' });
  await connect.waitFor();
  expect(await connect.isDisabled()).toBe(true);
  const reason = barePage.locator(`#${await connect.getAttribute('aria-describedby')}`);
  expect(await reason.textContent()).toContain("the operator has not configured Lettuce's OAuth consumer");
  await b.shot('not-configured', barePage);
  // The Add-repo dialog opens on the pasted-URL tab.
  await barePage.getByRole('tab', { name: 'Repos' }).click();
  await barePage.getByRole('button', { name: 'Add repo' }).click();
  expect(await barePage.getByRole('tab', { name: 'Paste a git URL' }).getAttribute('aria-selected')).toBe('true');
  await barePage.close();
});

it("the page's Content-Security-Policy blocks inline scripts, inline handlers and framing", async () => {
  expectedConsole = (e) => /Content Security Policy|frame-ancestors|Refused to/.test(e.text);
  await page.goto(`${svc.url}/repos`);
  await page.getByRole('heading', { name: 'Repos' }).waitFor();
  // An inline <script> and an inline handler, as an injected payload would bring them.
  const outcome = await page.evaluate(`new Promise((resolve) => {
    const violations = [];
    document.addEventListener('securitypolicyviolation', (e) => violations.push(e.violatedDirective));
    const s = document.createElement('script');
    s.textContent = 'window.__inlineRan = true';
    document.body.append(s);
    const button = document.createElement('button');
    button.setAttribute('onclick', 'window.__handlerRan = true');
    document.body.append(button);
    button.click();
    button.remove();
    setTimeout(() => resolve({ inlineRan: !!window.__inlineRan, handlerRan: !!window.__handlerRan, violations }), 200);
  })`);
  expect(outcome).toEqual({ inlineRan: false, handlerRan: false, violations: expect.arrayContaining(['script-src-elem', 'script-src-attr']) });
  // Another site framing the page gets nothing.
  const framer = await b.newPage();
  await framer.goto(`${fake.siteUrl}/_fake/state`);
  const blocked = framer.waitForEvent('console', { predicate: (m) => m.text().includes("frame-ancestors 'none'"), timeout: 10_000 });
  await framer.setContent(`<iframe src="${svc.url}/repos"></iframe>`);
  expect((await blocked).type()).toBe('error');
  await framer.close();
});

it('after a disconnect, a private Bitbucket repo that failed is switched to a git URL with credentials', async () => {
  // Connected (through the API: the browser part starts after the disconnect).
  fake.setAuthorizeMode('auto-approve');
  if (!(await svc.request('GET', '/v1/integrations/bitbucket', { token: owner })).body.connected) await connect(svc, owner);
  fake.setAuthorizeMode('consent-page');
  const added = await svc.request('POST', '/v1/repos', { token: owner, body: { bitbucket: DEMO.repos.hello } });
  expect(added.status).toBe(202);
  const id = added.body.repo.id;
  await waitForRepo(svc, owner, id, (r) => r.status === 'ready', 60_000);
  expect((await svc.request('DELETE', '/v1/integrations/bitbucket', { token: owner })).status).toBe(204);
  expect((await svc.request('POST', `/v1/repos/${id}/reindex`, { token: owner })).status).toBe(202);
  const { repo: failed } = await waitForRepo(svc, owner, id, (r) => r.status === 'failed', 60_000);
  expect(['not_connected', 'needs_reauth']).toContain(failed.error.code);

  await page.goto(`${svc.url}/repos`);
  const row = page.locator(`tr[data-repo="${DEMO.repos.hello}"]`);
  await row.getByRole('button', { name: `Use a git URL with credentials for ${DEMO.repos.hello}` }).click();
  const dialog = page.getByRole('dialog', { name: `Clone ${DEMO.repos.hello} from a git URL` });
  expect(await dialog.getByLabel('Git URL', { exact: true }).inputValue()).toBe(`${fake.siteUrl}/demo/hello-ts.git`);
  const secret = fake.issueTokens(DEMO.user).access_token;
  await dialog.getByLabel('Username').fill('x-token-auth');
  await dialog.getByLabel('Password or access token').fill(secret);
  await b.shot('switch-to-url');
  expect(await unnamedControls(page)).toEqual([]);
  await dialog.getByRole('button', { name: 'Switch and re-index' }).click();
  await page.getByRole('status').filter({ hasText: `${DEMO.repos.hello} now clones from its git URL` }).waitFor();
  // A URL repo is named after its URL.
  const switched = page.locator(`tr[data-repo="${new URL(fake.siteUrl).host}/demo/hello-ts"]`);
  await switched.getByText('git URL · private').waitFor();
  await switched.locator('.status', { hasText: 'ready' }).waitFor({ timeout: 60_000 });
  expect(await row.count()).toBe(0);
  await b.shot('switched-ready');
  expect(await page.content()).not.toContain(secret);
});
