// Issue 20, hostile clients: nothing secret reaches the logs, whatever query parameter it comes
// in. A real API token is sent in the query string under many names (and percent-encoded, and in
// the odd shapes a query string can take) to an authenticated /v1 route, the OAuth callback, the
// webhook receiver and an unknown path, with the real service logging at debug level: the token
// appears on no line at all, while the harmless `q` and `path` values stay readable.
import crypto from 'node:crypto';
import http from 'node:http';
import { createLogger } from '../../src/logger';
import { createAccount, startTestService, type TestService } from '../support/service';

let svc: TestService;
const chunks: string[] = [];
const logText = () => chunks.join('');
const requestLines = () =>
  logText()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { msg: string; url?: string; status?: number })
    .filter((l) => l.msg === 'request');

beforeAll(async () => {
  const log = createLogger('debug', { write: (s: string) => void chunks.push(s) });
  svc = await startTestService({ log }); // with workers: the SDK runtime that forwards to `log` shuts down with them
}, 120_000);
afterAll(() => svc?.stop());

/** One request with the path sent byte for byte as given (fetch would normalise it, and drop a fragment). */
function send(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${svc.url}/`, { method, path, agent: false, headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) } });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Every byte as %XX, in upper or lower case hex. */
const percentEncoded = (s: string, lower = false) =>
  [...Buffer.from(s)].map((b) => `%${b.toString(16).padStart(2, '0')[lower ? 'toLowerCase' : 'toUpperCase']()}`).join('');

it('keeps a token sent in any query parameter out of every log line', async () => {
  const { token, accountId } = await createAccount(svc);
  const names = ['api_key', 'apikey', 'api_token', 'access_token', 'token', 'key', 'auth', 'jwt', 'private_token', 'secret', 'password', 'code', 'state', 'x'];
  const encodedNames = ['api%5Fkey', '%71', '%70%61%74%68']; // api_key, and the allow-listed q and path spelt encoded
  const values = [token, percentEncoded(token), percentEncoded(token, true)];
  // The odd shapes: alone without `=`, repeated, after `;`, in a fragment, as the name itself,
  // next to malformed percent-encoding.
  const oddQueries = [
    `${token}`,
    `q=harmless&token=${token}&token=${token}`,
    `q=harmless;api_key=${token}`,
    `q=harmless#${token}`,
    `#access_token=${token}`,
    `${token}=1`,
    `path=%zz&key=%E0%A4&jwt=${token}`,
  ];
  const queries = [...[...names, ...encodedNames].flatMap((n) => values.map((v) => `${n}=${v}`)), ...oddQueries];

  const routes: Array<{ method: string; path: string; headers?: Record<string, string>; body?: string }> = [
    { method: 'GET', path: '/v1/me', headers: { authorization: `Bearer ${token}` } }, // authenticated: 200
    { method: 'GET', path: '/v1/me' }, // the token only in the query: 401
    { method: 'GET', path: '/v1/integrations/bitbucket/callback' }, // the OAuth callback: 302
    {
      method: 'POST',
      path: `/v1/webhooks/bitbucket/${accountId}`, // the webhook receiver (outside Koa): 401
      headers: { 'content-type': 'application/json', 'x-event-key': 'repo:push', 'x-request-uuid': crypto.randomUUID(), 'x-hub-signature': `sha256=${'0'.repeat(64)}` },
      body: '{}',
    },
    { method: 'GET', path: '/v1/no/such/route' }, // unknown: 404
  ];

  const sent: string[] = [];
  for (const route of routes) {
    for (const query of queries) {
      const path = `${route.path}${query.startsWith('#') ? '' : '?'}${query}`;
      await send(route.method, path, route.headers, route.body);
      sent.push(path);
    }
  }
  // Harmless parameters stay readable.
  const harmlessQ = `needle-${crypto.randomBytes(4).toString('hex')}`;
  const harmlessPath = `src/dir-${crypto.randomBytes(4).toString('hex')}/main.ts`;
  const repoId = crypto.randomUUID();
  expect(await send('GET', `/v1/repos/${repoId}/search?q=${harmlessQ}&limit=5&api_key=${token}`, { authorization: `Bearer ${token}` })).toBe(404);
  expect(await send('GET', `/v1/repos/${repoId}/tree?path=${harmlessPath}&token=${token}`, { authorization: `Bearer ${token}` })).toBe(404);
  sent.push('search', 'tree');

  // Access lines are written when the answer is; give the last one a moment.
  const deadline = Date.now() + 5_000;
  while (requestLines().length < sent.length + 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const lines = requestLines();
  expect(lines.length).toBeGreaterThanOrEqual(sent.length + 1); // + the account creation

  // The token in no form, on no line (access lines or any other).
  const text = logText();
  for (const form of [token, token.slice(3), encodeURIComponent(token), percentEncoded(token), percentEncoded(token, true), Buffer.from(token).toString('base64')]) {
    expect(text.includes(form) ? form : null).toBeNull();
  }

  // Every route and status is there, with the parameter names readable.
  for (const status of [200, 401, 302, 404]) expect(lines.some((l) => l.status === status)).toBe(true);
  expect(lines.some((l) => l.url?.startsWith(`/v1/webhooks/bitbucket/${accountId}?`))).toBe(true);
  expect(lines.some((l) => l.url === '/v1/integrations/bitbucket/callback?code=[redacted]')).toBe(true);
  expect(lines.some((l) => l.url === '/v1/me?api_key=[redacted]')).toBe(true);
  expect(lines.some((l) => l.url === '/v1/no/such/route?q=harmless;api_key=[redacted]')).toBe(true);
  expect(lines.some((l) => l.url === '/v1/me?%71=[redacted]')).toBe(true);
  expect(lines.some((l) => l.url === '/v1/me?[redacted]=[redacted]')).toBe(true); // the token as a name
  expect(lines.some((l) => l.url === '/v1/me?q=harmless#[redacted]')).toBe(true);
  expect(lines.some((l) => l.url === '/v1/me#[redacted]')).toBe(true);
  expect(lines.find((l) => l.url?.includes(harmlessQ))?.url).toBe(`/v1/repos/${repoId}/search?q=${harmlessQ}&limit=5&api_key=[redacted]`);
  expect(lines.find((l) => l.url?.includes(harmlessPath))?.url).toBe(`/v1/repos/${repoId}/tree?path=${harmlessPath}&token=[redacted]`);
}, 60_000);
