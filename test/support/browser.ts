// A real browser for the UI tests: Debian's Chromium (or CHROME_PATH) driven by playwright-core,
// headless, with a fresh profile and none of Chromium's own network traffic (the network here is
// closed). Collects console messages and page errors, takes numbered screenshots, and moves the
// keyboard focus as a keyboard-only user does.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';

/** Chromium's background services all want the internet: off. */
export const CHROMIUM_FLAGS = [
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
  '--disable-dev-shm-usage',
];

const DEBIAN_CHROMIUM = '/usr/bin/chromium';
const INSTALL_HINT = "The browser tests need Chromium: install Debian's package (apt-get install chromium) or set CHROME_PATH to a Chromium or Chrome binary.";

function findChromium(): string | null {
  const configured = process.env.CHROME_PATH;
  if (configured) return fs.existsSync(configured) ? configured : null;
  return fs.existsSync(DEBIAN_CHROMIUM) ? DEBIAN_CHROMIUM : null;
}

/**
 * The Chromium binary. When it is missing and this is root on a machine with apt-get (CI, a
 * container), Debian's `chromium` is installed once (a lock keeps parallel test files from
 * running apt-get twice); anywhere else the suite stops with one sentence saying what to install.
 */
export function ensureChromium(): string {
  const found = findChromium();
  if (found) return found;
  if (process.env.CHROME_PATH) throw new Error(`CHROME_PATH is ${process.env.CHROME_PATH}, which does not exist: point it at a Chromium or Chrome binary, or unset it to use Debian's ${DEBIAN_CHROMIUM}.`);
  const canInstall = process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
  if (!canInstall) throw new Error(INSTALL_HINT);
  const lock = path.join(os.tmpdir(), 'lettuce-chromium-install.lock');
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      break;
    } catch {
      if (findChromium()) return findChromium()!;
      if (Date.now() > deadline) throw new Error(`${INSTALL_HINT} (another test's install still holds ${lock})`);
      spawnSync('sleep', ['1']);
    }
  }
  try {
    if (!findChromium()) {
      process.stderr.write("Installing Debian's chromium for the browser tests (apt-get install chromium)...\n");
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
      const run = spawnSync('sh', ['-c', 'apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium fonts-liberation'], { env, encoding: 'utf8', timeout: 9 * 60_000 });
      if (run.status !== 0) throw new Error(`${INSTALL_HINT} (apt-get install chromium failed: ${(run.stderr || run.stdout || '').trim().split('\n').slice(-2).join(' ')})`);
    }
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
  const installed = findChromium();
  if (!installed) throw new Error(INSTALL_HINT);
  return installed;
}

export interface ConsoleEntry {
  type: string;
  text: string;
  url: string;
}

export interface BrowserSession {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Every console message and page error of every page, in order. */
  console: ConsoleEntry[];
  /** Writes `NN-name.png` of the page (or `target`) into the suite's output folder. */
  shot(name: string, target?: Page): Promise<string>;
  /** A new browser context (its own session storage), e.g. for a second user. */
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

/** The suite's screenshot folder: test-output/browser/<suite>/, emptied first. */
export function outputDir(suite: string): string {
  const dir = path.resolve(__dirname, '..', '..', 'test-output', 'browser', suite);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

export async function openBrowser(opts: { suite: string }): Promise<BrowserSession> {
  const executablePath = ensureChromium();
  const dir = outputDir(opts.suite);
  const browser = await chromium.launch({ executablePath, headless: true, chromiumSandbox: false, args: CHROMIUM_FLAGS });
  const consoleLog: ConsoleEntry[] = [];
  const contexts: BrowserContext[] = [];
  const watch = (page: Page) => {
    page.on('console', (m) => consoleLog.push({ type: m.type(), text: m.text(), url: m.location().url || page.url() }));
    page.on('pageerror', (e) => consoleLog.push({ type: 'pageerror', text: e.message, url: page.url() }));
  };
  const newContextPage = async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
    contexts.push(context);
    context.on('page', watch);
    const page = await context.newPage();
    return { context, page };
  };
  const { context, page } = await newContextPage();
  let shots = 0;
  return {
    browser,
    context,
    page,
    console: consoleLog,
    async shot(name, target = page) {
      const file = path.join(dir, `${String(++shots).padStart(2, '0')}-${name}.png`);
      await target.screenshot({ path: file });
      return file;
    },
    async newPage() {
      return (await newContextPage()).page;
    },
    async close() {
      for (const c of contexts) await c.close().catch(() => {});
      await browser.close();
    },
  };
}

/** Presses Tab (at most `max` times) until `target` has the focus, as a keyboard-only user does. */
export async function tabTo(page: Page, target: Locator, max = 60): Promise<number> {
  for (let presses = 1; presses <= max; presses++) {
    await page.keyboard.press('Tab');
    if (await target.evaluate((el) => el === el.ownerDocument.activeElement).catch(() => false)) return presses;
  }
  throw new Error(`${max} presses of Tab never reached ${target}`);
}

// Code that runs in the page is given as text: the tests' type check has no DOM library.

/** What the page keeps: its URL, local and session storage, cookies. */
export function browserState(page: Page): Promise<{ url: string; localStorage: Record<string, string>; sessionStorage: Record<string, string>; cookie: string }> {
  return page.evaluate(`({
    url: location.href,
    localStorage: Object.fromEntries(Object.entries(localStorage)),
    sessionStorage: Object.fromEntries(Object.entries(sessionStorage)),
    cookie: document.cookie,
  })`);
}

/** Starts recording every text the element at `selector` shows, in order (read with `recorded`). */
export function recordTexts(page: Page, selector: string): Promise<void> {
  return page.evaluate(`(() => {
    const seen = (window.__recorded = []);
    const take = () => {
      const text = document.querySelector(${JSON.stringify(selector)})?.textContent?.trim();
      if (text && seen[seen.length - 1] !== text) seen.push(text);
    };
    take();
    new MutationObserver(take).observe(document.body, { subtree: true, childList: true, characterData: true });
  })()`);
}

export const recorded = (page: Page): Promise<string[]> => page.evaluate('window.__recorded');

/** Waits until the address bar has no query left. */
// A function predicate: a string one is eval'd again at every poll, which the pages' CSP refuses.
export const waitForNoQuery = (page: Page) => page.waitForFunction(() => (globalThis as unknown as { location: { search: string } }).location.search === '');


/**
 * Controls without an accessible name on the page (from Chromium's accessibility tree, as
 * Playwright's ARIA snapshot shows it): a button, link, field or tab a screen reader cannot name.
 */
export async function unnamedControls(page: Page): Promise<string[]> {
  const snapshot = await page.locator('body').ariaSnapshot();
  const roles = 'button|link|textbox|searchbox|tab|combobox|checkbox|radio|slider|spinbutton|switch|menuitem|option|progressbar|dialog|tabpanel';
  return snapshot.split('\n').filter((line) => new RegExp(`^\\s*- (${roles})(?: \\[[^\\]]*\\])*:?$`).test(line));
}

/** Console errors and page errors of our own pages (the fake Bitbucket's pages are not ours). */
export function errorsOf(entries: ConsoleEntry[], origin: string): ConsoleEntry[] {
  return entries.filter((e) => (e.type === 'error' || e.type === 'pageerror') && e.url.startsWith(origin));
}

/**
 * What every step of a browser test leaves, checked after it: no console error from our pages (but
 * those the step expected, from `from` on), every control named, and nothing kept but the API token
 * of the page's user (sessionStorage only: no cookie, no localStorage).
 */
export async function expectCleanPages(
  session: BrowserSession,
  origin: string,
  pages: Array<[page: Page, token: string]>,
  from: number,
  expected: (e: ConsoleEntry) => boolean,
): Promise<void> {
  expect(errorsOf(session.console.slice(from), origin).filter((e) => !expected(e))).toEqual([]);
  for (const [p, token] of pages) {
    const state = await browserState(p);
    if (!state.url.startsWith(origin)) continue;
    expect(await unnamedControls(p)).toEqual([]);
    expect(state.localStorage).toEqual({});
    expect(state.cookie).toBe('');
    for (const [k, v] of Object.entries(state.sessionStorage)) expect([k, v]).toEqual(['lettuce.apiToken', token]);
  }
}
