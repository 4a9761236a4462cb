// Shared helpers for the fake Bitbucket's own tests.
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FakeBitbucket, TokenResponse } from '../fakes/bitbucket/server';

export function basic(user: string, pass: string): string {
  return `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
}

/** Follows the authorize redirect by hand and returns the callback URL it points to. */
export async function authorize(fake: FakeBitbucket, state = 'st-1'): Promise<URL> {
  const res = await fetch(fake.authorizeUrl(state), { redirect: 'manual' });
  if (res.status !== 302) throw new Error(`authorize answered ${res.status}: ${await res.text()}`);
  return new URL(res.headers.get('location') ?? '');
}

export async function tokenRequest(fake: FakeBitbucket, form: Record<string, string>,
  auth: string | null = basic(fake.clientId, fake.clientSecret)): Promise<Response> {
  const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded' };
  if (auth) headers.Authorization = auth;
  return fetch(`${fake.siteUrl}/site/oauth2/access_token`, { method: 'POST', headers, body: new URLSearchParams(form).toString() });
}

/** The full browser + code exchange flow for the fake's current user. */
export async function connect(fake: FakeBitbucket): Promise<TokenResponse> {
  const cb = await authorize(fake);
  const code = cb.searchParams.get('code');
  if (!code) throw new Error(`no code in ${cb.toString()}`);
  const res = await tokenRequest(fake, { grant_type: 'authorization_code', code });
  if (res.status !== 200) throw new Error(`exchange answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as TokenResponse;
}

export async function api(fake: FakeBitbucket, pathOrUrl: string, token: string | null,
  init: { method?: string; body?: unknown } = {}): Promise<{ status: number; body: unknown; headers: Headers; text: string }> {
  const url = pathOrUrl.startsWith('http') ? pathOrUrl : `${fake.apiUrl}${pathOrUrl}`;
  const headers: Record<string, string> = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (init.body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(url, { method: init.method ?? 'GET', headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = text;
  }
  return { status: res.status, body, headers: res.headers, text };
}

export function gitEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH, HOME: process.env.HOME, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: '', SSH_ASKPASS: '',
  };
}

export function runGit(args: string[], cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('git', args, { cwd, env: gitEnv(), timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

export function tokenHeader(accessToken: string): string {
  return `http.extraHeader=Authorization: ${basic('x-token-auth', accessToken)}`;
}

export interface Received {
  headers: http.IncomingHttpHeaders;
  raw: Buffer;
}

/** A local webhook receiver; `respond` picks the status per request (default 200). */
export async function startReceiver(respond: (n: number, r: Received) => number | 'hang' = () => 200):
  Promise<{ url: string; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { headers: req.headers, raw: Buffer.concat(chunks) };
      received.push(r);
      const s = respond(received.length, r);
      if (s === 'hang') return;
      res.writeHead(s, { 'Content-Type': 'text/plain' });
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1/webhooks/bitbucket`,
    received,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
