// API fuzzing with fast-check: more than 10,000 generated requests against every route of
// src/api/routes and the webhook receiver — malformed and wrong-typed JSON, huge strings, unicode,
// path tricks (.., %2e%2e, %00, very long paths), header tricks (missing, duplicate and odd
// Authorization; odd Content-Type) — plus a few hundred raw-socket requests for what an HTTP
// client library refuses to send (NUL and control bytes, conflicting Content-Length, broken
// chunked bodies, oversized request lines).
//
// Every answer must be < 500; every 4xx must be exactly {"error":{"code","message"}}; 2xx/3xx are
// fine where valid. At the end the process is still healthy (/healthz and /readyz 200) and still
// serves a normal request. Traffic: 127.0.0.1 only (the service, and the fake Bitbucket it talks
// to); pasted URLs are generated with IP literals or refused forms, so nothing is looked up in DNS.
// Reproduce a run with FUZZ_SEED=<seed printed on failure>.
import crypto from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import fc from 'fast-check';
import { DEMO } from '../fakes/bitbucket/seed';
import { connect, startFakeAndService, type FakeBitbucket } from '../support/bitbucket';
import { isReadyAt, waitForRepo } from '../support/repos';
import { ADMIN_TOKEN, ENCRYPTION_KEY, createAccount, type TestService } from '../support/service';
import { SecretBox } from '../../src/security/secret-box';
import { Client } from 'pg';

/** The route groups generated below: every route of src/api/routes, unknown routes, and the receiver. */
const ROUTE_LABELS = ['health', 'admin accounts', 'admin users', 'admin diagnostics', 'admin repo', 'me', 'integration', 'install', 'callback', 'picker', 'disconnect', 'add repo', 'list repos', 'get repo', 'patch repo', 'reindex', 'delete repo', 'tree', 'file', 'search', 'symbols', 'unknown', 'webhook'];
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 10_500);
const CONCURRENCY = 12;
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);

let fake: FakeBitbucket;
let svc: TestService;
let stop: () => Promise<void>;

interface World {
  owner: string;
  member: string;
  other: string;
  accountId: string;
  otherAccountId: string;
  repoId: string;
  victimRepoId: string;
  otherRepoId: string;
  webhookSecret: string;
}
let w: World;

beforeAll(async () => {
  ({ fake, svc, stop } = await startFakeAndService({ env: { GIT_ALLOW_PRIVATE_HOSTS: 'false' } }));
  const a = await createAccount(svc, 'Fuzz A');
  const b = await createAccount(svc, 'Fuzz B');
  const member = await svc.request('POST', `/v1/admin/accounts/${a.accountId}/users`, { token: ADMIN_TOKEN, body: { email: `member-${crypto.randomBytes(3).toString('hex')}@fuzz.test`, role: 'member' } });
  expect((await connect(svc, a.token)).location).toContain('bitbucket=connected');
  expect((await connect(svc, b.token)).location).toContain('bitbucket=connected');
  const repoId = (await svc.request('POST', '/v1/repos', { token: a.token, body: { bitbucket: DEMO.repos.hello } })).body.repo.id;
  const victimRepoId = (await svc.request('POST', '/v1/repos', { token: a.token, body: { bitbucket: DEMO.repos.worker } })).body.repo.id;
  const otherRepoId = (await svc.request('POST', '/v1/repos', { token: b.token, body: { bitbucket: DEMO.repos.api } })).body.repo.id;
  await waitForRepo(svc, a.token, repoId, isReadyAt(await fake.headOf('demo', 'hello-ts')), 90_000);
  const db = new Client({ connectionString: process.env.TEST_DATABASE_URL });
  await db.connect();
  const sealed = (await db.query('SELECT webhook_secret FROM accounts WHERE id = $1', [a.accountId])).rows[0].webhook_secret;
  await db.end();
  w = {
    owner: a.token,
    member: member.body.token,
    other: b.token,
    accountId: a.accountId,
    otherAccountId: b.accountId,
    repoId,
    victimRepoId,
    otherRepoId,
    webhookSecret: new SecretBox(Buffer.from(ENCRYPTION_KEY, 'base64')).open(sealed),
  };
}, 180_000);
afterAll(() => stop?.());

// ------------------------------------------------------------------ generators

const hex = (length: number) => fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: length, maxLength: length });

interface FuzzRequest {
  method: string;
  path: string;
  headers: Array<[string, string]>;
  body?: Buffer;
  label: string;
}

/** Path segments and query values that try to escape or confuse routing. */
const trickySegment = fc.oneof(
  fc.constantFrom('..', '%2e%2e', '%2E%2E', '.%2e', '%2e.', '....//', '..%2f..%2f', '%252e%252e', '%00', 'a%00b', '%', '%zz', '%c0%ae%c0%ae', '~', '.', '%2f', ';', ',', '%20', '*', 'null', 'undefined', '[]', '{}', '-1', '0', '1e400'),
  fc.string({ maxLength: 40 }).map(encodeURIComponent),
  fc.string({ unit: 'grapheme', maxLength: 20 }).map(encodeURIComponent),
  fc.string({ unit: 'binary', maxLength: 20 }).map(encodeURIComponent),
  fc.integer({ min: 300, max: 12_000 }).map((n) => 'a'.repeat(n)),
  fc.integer({ min: 50, max: 2_000 }).map((n) => '../'.repeat(n).slice(0, -1)),
  fc.uuid().map((u) => u.toUpperCase()),
  fc.uuid(),
);

/** Header values Node's client can send (no CR/LF/NUL), including latin-1 bytes. */
const headerText = fc.oneof(
  fc.string({ maxLength: 60 }),
  fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).filter((c) => c !== 0x7f).map((c) => String.fromCharCode(c)), maxLength: 60 }),
  fc.integer({ min: 1_000, max: 12_000 }).map((n) => 'x'.repeat(n)),
).map((s) => s.replace(/[^\t\x20-\x7e\x80-\xff]/g, '?'));

function authVariants(): fc.Arbitrary<Array<[string, string]>> {
  const tokens = () => [w.owner, w.member, w.other];
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...tokens()).map((t): Array<[string, string]> => [['authorization', `Bearer ${t}`]]) },
    { weight: 1, arbitrary: fc.constant([] as Array<[string, string]>) },
    { weight: 1, arbitrary: fc.constant([['authorization', `Bearer ${ADMIN_TOKEN}`]] as Array<[string, string]>) },
    {
      weight: 3,
      arbitrary: fc
        .oneof(
          headerText.map((t) => `Bearer ${t}`),
          headerText,
          fc.constantFrom(...tokens()).map((t) => `bearer   ${t}   `),
          fc.constantFrom(...tokens()).map((t) => `Basic ${Buffer.from(`x:${t}`).toString('base64')}`),
          fc.constantFrom(...tokens()).map((t) => `Bearer ${t}x`),
          fc.constantFrom(...tokens()).map((t) => `Bearer ${t} ${t}`),
          fc.constantFrom(...tokens()).map((t) => `Token ${t}`),
          fc.constant('Bearer'),
          fc.constant('Bearer '),
          fc.constant(`Bearer ${'a'.repeat(513)}`),
        )
        .map((v): Array<[string, string]> => [['authorization', v]]),
    },
    {
      weight: 1,
      // Duplicate Authorization headers: a valid one and another.
      arbitrary: fc.tuple(fc.constantFrom(...tokens()), headerText).map(([t, other]): Array<[string, string]> => [
        ['authorization', `Bearer ${t}`],
        ['authorization', other],
      ]),
    },
  );
}

const contentType = fc.option(
  fc.oneof(
    fc.constantFrom('application/json', 'application/json; charset=utf-8', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=----x', 'application/json; charset=utf-16', 'application/xml', '*/*', '', ';;;', 'application/json, text/plain'),
    headerText,
  ),
  { freq: 3 },
);

/** Bodies: well-formed JSON of wrong shapes and types, malformed JSON, huge and unicode strings. */
function jsonBodies(validish: fc.Arbitrary<unknown>): fc.Arbitrary<Buffer | undefined> {
  return fc.oneof(
    { weight: 50, arbitrary: validish.map((v) => Buffer.from(JSON.stringify(v))) },
    { weight: 30, arbitrary: fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? 'null')) },
    { weight: 20, arbitrary: fc.tuple(validish, fc.nat()).map(([v, n]) => { const t = JSON.stringify(v) ?? '{}'; return Buffer.from(t.slice(0, n % Math.max(1, t.length))); }) },
    { weight: 20, arbitrary: fc.constantFrom('{', '}', '[', '{"a":', '{"a":1,}', "{'a':1}", 'NaN', 'undefined', '\u0000', '\ufeff{}', '{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{"x":1}}}', '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]').map((s) => Buffer.from(s)) },
    { weight: 10, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }).map((s) => Buffer.from(s)) },
    { weight: 10, arbitrary: fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)) },
    { weight: 10, arbitrary: fc.integer({ min: 10_000, max: 200_000 }).map((n) => Buffer.from('['.repeat(n) + ']'.repeat(n))) },
    { weight: 10, arbitrary: fc.constant(undefined) },
    // Strings just under and over the 1 MiB body limit.
    { weight: 3, arbitrary: fc.integer({ min: 600_000, max: 1_000_000 }).map((n) => Buffer.from(JSON.stringify({ name: 'é'.repeat(n / 2), ownerEmail: 'a@b.c', url: 'x'.repeat(n / 2), bitbucket: 'a/b' }))) },
    { weight: 3, arbitrary: fc.integer({ min: 1_048_577, max: 1_300_000 }).map((n) => Buffer.alloc(n, 0x61)) },
  );
}

const anyValue = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.string()), fc.dictionary(fc.string(), fc.string()), fc.integer({ min: 5_000, max: 100_000 }).map((n) => 'ü'.repeat(n)));

/** Pasted URLs that never need a DNS lookup: IP literals (all private/loopback: refused), refused schemes, junk. */
const pastedUrl = fc.oneof(
  fc
    .record({
      scheme: fc.constantFrom('https', 'http', 'git', 'HTTPS', 'HtTp'),
      user: fc.option(fc.string({ maxLength: 20 }).map((s) => `${encodeURIComponent(s)}:${encodeURIComponent(s)}@`), { nil: '' }),
      host: fc.constantFrom('127.0.0.1', '10.1.2.3', '192.168.1.1', '172.16.0.1', '169.254.169.254', '[::1]', '[fe80::1]', '[::ffff:127.0.0.1]', '0.0.0.0', '2130706433', '127.1', '0x7f.0.0.1', '100.64.0.1', '[fc00::1]'),
      port: fc.option(fc.integer({ min: 0, max: 70_000 }).map((p) => `:${p}`), { nil: '' }),
      path: fc.oneof(trickySegment, fc.string({ maxLength: 80 })).map((p) => `/${p}`),
    })
    .map(({ scheme, user, host, port, path }) => `${scheme}://${user}${host}${port}${path}`),
  fc.constantFrom('file:///etc/passwd', 'ext::sh -c id', 'ssh://git@127.0.0.1/x.git', 'git@127.0.0.1:a/b.git', '--upload-pack=id', '-oProxyCommand=id', 'https://127.0.0.1/--upload-pack=x', 'fd::x', ' \t', ''),
  fc.string({ maxLength: 300 }).map((s) => s.replace(/:/g, '')),
  fc.integer({ min: 2_000, max: 5_000 }).map((n) => `https://10.0.0.1/${'a'.repeat(n)}`),
);

function routes(): fc.Arbitrary<FuzzRequest> {
  const ownIds = [w.repoId, w.victimRepoId];
  const repoId = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...ownIds) },
    { weight: 2, arbitrary: fc.constant(w.otherRepoId) },
    { weight: 3, arbitrary: trickySegment },
  );
  const readRepoId = fc.oneof({ weight: 3, arbitrary: fc.constant(w.repoId) }, { weight: 2, arbitrary: fc.constant(w.otherRepoId) }, { weight: 3, arbitrary: trickySegment });
  const accountId = fc.oneof(fc.constantFrom(w.accountId, w.otherAccountId), trickySegment);
  const q = (pairs: Array<[string, fc.Arbitrary<string>]>) =>
    fc
      .tuple(...pairs.map(([k, v]) => fc.option(fc.tuple(fc.constant(k), v, fc.boolean()), { freq: 4 })))
      .map((items) => {
        const parts: string[] = [];
        for (const item of items) if (item) {
          const [k, v, twice] = item;
          parts.push(`${k}=${v}`);
          if (twice) parts.push(`${k}=${v}x`); // repeated parameter: an array in ctx.query
        }
        return parts.length ? `?${parts.join('&')}` : '';
      });
  const qv = fc.oneof(fc.string({ maxLength: 30 }).map(encodeURIComponent), fc.string({ unit: 'grapheme', maxLength: 30 }).map(encodeURIComponent), trickySegment, fc.integer({ min: -5, max: 500 }).map(String), fc.constantFrom('', '1e3', 'NaN', '-0', '0x10', 'Infinity', '%', '.*', '\\', '%27%20OR%201%3D1--', 'src', 'src/index.ts', 'README.md', '/etc/passwd', 'src/../../../etc/passwd', 'src%2F..%2F..%2Fetc%2Fpasswd'));

  const r = (label: string, method: fc.Arbitrary<string>, path: fc.Arbitrary<string>, body: fc.Arbitrary<Buffer | undefined> = fc.constant(undefined), auth = authVariants()) =>
    fc.record({ method, path, auth, contentType, body, extra: fc.option(fc.tuple(fc.constantFrom('x-request-id', 'accept', 'accept-encoding', 'x-forwarded-for', 'x-forwarded-proto', 'host', 'origin', 'cookie', 'expect'), headerText), { freq: 4 }) }).map(
      ({ method, path, auth, contentType: ct, body, extra }): FuzzRequest => {
        const headers: Array<[string, string]> = [...auth];
        if (ct !== null) headers.push(['content-type', ct]);
        if (extra && !(extra[0] === 'expect')) headers.push(extra);
        return { method, path, headers, body, label };
      },
    );
  const methods = (main: string) => fc.oneof({ weight: 6, arbitrary: fc.constant(main) }, { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'TRACE', 'PROPFIND') });

  const adminAuth = fc.oneof({ weight: 3, arbitrary: fc.constant([['authorization', `Bearer ${ADMIN_TOKEN}`]] as Array<[string, string]>) }, { weight: 2, arbitrary: authVariants() });
  const accountBody = fc.record({ name: anyValue, ownerEmail: fc.oneof(fc.emailAddress(), anyValue) }, { requiredKeys: [] });
  const userBody = fc.record({ email: fc.oneof(fc.emailAddress(), anyValue), role: fc.oneof(fc.constantFrom('owner', 'member', 'admin', 'OWNER', ''), anyValue) }, { requiredKeys: [] });
  const addBody = fc.oneof(
    fc.record({ bitbucket: fc.oneof(fc.constantFrom('acme/nope', 'demo/hello-ts', 'acme/infra', 'a/b', '../..', 'acme/api/extra'), fc.tuple(fc.stringMatching(/^[A-Za-z0-9_.-]{1,20}$/), fc.stringMatching(/^[A-Za-z0-9_.-]{1,20}$/)).map(([a, b]) => `${a}/${b}`), anyValue) }, { requiredKeys: [] }),
    fc.record({ url: fc.oneof(pastedUrl, anyValue) }, { requiredKeys: [] }),
    fc.record({ url: pastedUrl, bitbucket: fc.string(), extra: anyValue }, { requiredKeys: [] }),
  );
  const patchBody = fc.record({ url: fc.oneof(pastedUrl, anyValue), other: anyValue }, { requiredKeys: [] });

  return fc.oneof(
    r('health', methods('GET'), fc.constantFrom('/healthz', '/readyz', '/metrics', '/healthz/', '//healthz', '/HEALTHZ', '/healthz?x=%00')),
    r('admin accounts', methods('POST'), fc.constant('/v1/admin/accounts'), jsonBodies(accountBody), adminAuth),
    r('admin users', methods('POST'), accountId.map((id) => `/v1/admin/accounts/${id}/users`), jsonBodies(userBody), adminAuth),
    r('admin diagnostics', fc.constant('POST'), fc.constant('/v1/admin/diagnostics'), jsonBodies(anyValue), authVariants()),
    r('admin repo', methods('GET'), readRepoId.map((id) => `/v1/admin/repos/${id}`), fc.constant(undefined), adminAuth),
    r('me', methods('GET'), fc.constantFrom('/v1/me', '/v1/me/', '/v1//me', '/v1/me/..', '/v1/%6de')),
    r('integration', methods('GET'), fc.constant('/v1/integrations/bitbucket')),
    r('install', methods('POST'), fc.constant('/v1/integrations/bitbucket/install'), jsonBodies(anyValue)),
    r('callback', fc.constant('GET'), q([['code', qv], ['state', fc.oneof(qv, fc.base64String({ maxLength: 200 }).map(encodeURIComponent))], ['error', fc.oneof(qv, fc.constant('access_denied'))]]).map((s) => `/v1/integrations/bitbucket/callback${s}`), fc.constant(undefined), fc.constant([])),
    r('picker', methods('GET'), q([['q', qv]]).map((s) => `/v1/integrations/bitbucket/repos${s}`)),
    r('disconnect', fc.constant('DELETE'), fc.constant('/v1/integrations/bitbucket'), fc.constant(undefined), fc.constant([['authorization', `Bearer ${w.member}`]] as Array<[string, string]>)),
    r('add repo', methods('POST'), fc.constantFrom('/v1/repos', '/v1/repos/'), jsonBodies(addBody)),
    r('list repos', methods('GET'), fc.constantFrom('/v1/repos', '/v1/repos?limit=-1', '/v1/repos?%00=1')),
    r('get repo', methods('GET'), readRepoId.map((id) => `/v1/repos/${id}`)),
    r('patch repo', methods('PATCH'), repoId.map((id) => `/v1/repos/${id}`), jsonBodies(patchBody)),
    r('reindex', methods('POST'), repoId.map((id) => `/v1/repos/${id}/reindex`), jsonBodies(anyValue)),
    r('delete repo', fc.constant('DELETE'), fc.oneof(fc.constant(w.victimRepoId), fc.constant(w.otherRepoId), trickySegment).map((id) => `/v1/repos/${id}`)),
    r('tree', methods('GET'), fc.tuple(readRepoId, q([['path', qv]])).map(([id, s]) => `/v1/repos/${id}/tree${s}`)),
    r('file', methods('GET'), fc.tuple(readRepoId, q([['path', qv]])).map(([id, s]) => `/v1/repos/${id}/file${s}`)),
    r('search', methods('GET'), fc.tuple(readRepoId, q([['q', qv], ['limit', qv]])).map(([id, s]) => `/v1/repos/${id}/search${s}`)),
    r('symbols', methods('GET'), fc.tuple(readRepoId, q([['q', qv], ['limit', qv]])).map(([id, s]) => `/v1/repos/${id}/symbols${s}`)),
    r('unknown', methods('GET'), fc.oneof(trickySegment.map((s) => `/${s}`), trickySegment.map((s) => `/v1/${s}`), trickySegment.map((s) => `/v1/repos/${w.repoId}/${s}`), fc.constantFrom('/', '/v2/repos', '/v1', '/v1/', '/.env', '/.git/config', '/v1/repos/../admin/accounts', '/v1/repos/%2e%2e/admin/accounts'))),
    webhooks(),
  );
}

/** Deliveries to the receiver: valid and invalid signatures over random, malformed and push-like bodies. */
function webhooks(): fc.Arbitrary<FuzzRequest> {
  const change = fc.record(
    { new: fc.oneof(fc.constant(null), fc.record({ type: fc.oneof(fc.constantFrom('branch', 'tag'), anyValue), name: fc.oneof(fc.constantFrom('main', 'feature'), anyValue), target: fc.oneof(fc.record({ hash: fc.oneof(hex(40), anyValue) }), anyValue) }, { requiredKeys: [] })) },
    { requiredKeys: [] },
  );
  const payload = fc.record(
    {
      repository: fc.oneof(fc.record({ full_name: fc.oneof(fc.constantFrom(DEMO.repos.hello, DEMO.repos.api, 'DEMO/HELLO-TS'), anyValue), uuid: fc.oneof(fc.uuid().map((u) => `{${u}}`), anyValue) }, { requiredKeys: [] }), anyValue),
      push: fc.oneof(fc.record({ changes: fc.oneof(fc.array(change, { maxLength: 5 }), anyValue) }, { requiredKeys: [] }), anyValue),
    },
    { requiredKeys: [] },
  );
  const bodies = fc.oneof({ weight: 4, arbitrary: payload.map((p) => Buffer.from(JSON.stringify(p))) }, { weight: 2, arbitrary: jsonBodies(payload).map((b) => b ?? Buffer.alloc(0)) });
  return fc
    .record({
      target: fc.oneof({ weight: 5, arbitrary: fc.constant(w.accountId) }, { weight: 1, arbitrary: fc.constant(w.otherAccountId) }, { weight: 2, arbitrary: trickySegment }),
      body: bodies,
      signature: fc.oneof({ weight: 5, arbitrary: fc.constant('valid') }, { weight: 1, arbitrary: fc.constant('valid-upper') }, { weight: 2, arbitrary: headerText.map((t) => `sha256=${t}`) }, { weight: 1, arbitrary: hex(64).map((h) => `sha256=${h}`) }, { weight: 1, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constant('sha1=abc') }),
      eventKey: fc.oneof({ weight: 5, arbitrary: fc.constant('repo:push') }, { weight: 1, arbitrary: fc.constantFrom('repo:updated', 'pullrequest:created', '', 'REPO:PUSH', 'repo:push ') }, { weight: 1, arbitrary: headerText }),
      requestUuid: fc.oneof(fc.uuid(), headerText, fc.constant('')),
      duplicateSignature: fc.boolean(),
      method: fc.oneof({ weight: 9, arbitrary: fc.constant('POST') }, { weight: 1, arbitrary: fc.constantFrom('GET', 'PUT', 'DELETE') }),
    })
    .map(({ target, body, signature, eventKey, requestUuid, duplicateSignature, method }): FuzzRequest => {
      const mac = crypto.createHmac('sha256', w.webhookSecret).update(body).digest('hex');
      const sig = signature === 'valid' ? `sha256=${mac}` : signature === 'valid-upper' ? `SHA256=${mac.toUpperCase()}` : signature;
      const headers: Array<[string, string]> = [['content-type', 'application/json'], ['x-event-key', eventKey], ['x-request-uuid', requestUuid]];
      if (sig) headers.push(['x-hub-signature', sig]);
      if (duplicateSignature) headers.push(['x-hub-signature', `sha256=${'0'.repeat(64)}`]);
      return { method, path: `/v1/webhooks/bitbucket/${target}`, headers, body, label: 'webhook' };
    });
}

// ------------------------------------------------------------------ runner

interface Outcome {
  req: FuzzRequest;
  status: number;
  text: string;
  problem: string | null;
  ms: number;
}

function send(agent: http.Agent, base: URL, req: FuzzRequest): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of req.headers) headers[k] = k in headers ? ([] as string[]).concat(headers[k], v) : v;
    if (req.body) headers['content-length'] = String(req.body.length);
    const r = http.request({ host: base.hostname, port: base.port, method: req.method, path: req.path, headers, agent, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    r.on('timeout', () => r.destroy(new Error('no answer within 30 s')));
    r.on('error', reject);
    r.end(req.body);
  });
}

function judge(req: FuzzRequest, status: number, text: string): string | null {
  if (status >= 500) return `server error ${status}`;
  if (status < 400 || req.method === 'HEAD') return null;
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    return `error ${status} without a JSON body`;
  }
  const ok =
    body && typeof body === 'object' && Object.keys(body).length === 1 &&
    body.error && typeof body.error === 'object' && Object.keys(body.error).sort().join(',') === 'code,message' &&
    typeof body.error.code === 'string' && /^[a-z][a-z0-9_]*$/.test(body.error.code) &&
    typeof body.error.message === 'string' && body.error.message.length > 0;
  return ok ? null : `error ${status} not in the contract shape`;
}

async function runAll(requests: FuzzRequest[]): Promise<Outcome[]> {
  const base = new URL(svc.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const outcomes: Outcome[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < requests.length) {
        const req = requests[next++];
        const started = performance.now();
        try {
          const { status, text } = await send(agent, base, req);
          outcomes.push({ req, status, text, problem: judge(req, status, text), ms: performance.now() - started });
        } catch (err) {
          // A request Node's client refuses to build is skipped; anything else is a failure.
          if ((err as NodeJS.ErrnoException).code?.startsWith('ERR_INVALID') || (err as NodeJS.ErrnoException).code === 'ERR_UNESCAPED_CHARACTERS') continue;
          outcomes.push({ req, status: 0, text: '', problem: `transport error: ${(err as Error).message}`, ms: performance.now() - started });
        }
      }
    }),
  );
  agent.destroy();
  return outcomes;
}

function describeFailure(o: Outcome): string {
  const body = o.req.body ? `${o.req.body.length} bytes: ${o.req.body.subarray(0, 200).toString('utf8')}` : '(none)';
  return `${o.problem} — ${o.req.label}: ${o.req.method} ${o.req.path.slice(0, 300)} headers=${JSON.stringify(o.req.headers).slice(0, 300)} body=${body} → ${o.status} ${o.text.slice(0, 300)}`;
}

/** Raw bytes over a socket: what http.request refuses to send. Resolves with the status line's code (0 = closed without an answer). */
function raw(base: URL, bytes: Buffer | string): Promise<{ status: number; text: string }> {
  return new Promise((resolve) => {
    const socket = net.connect(Number(base.port), base.hostname);
    let data = '';
    const done = () => {
      socket.destroy();
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(data);
      const bodyStart = data.indexOf('\r\n\r\n');
      resolve({ status: m ? Number(m[1]) : 0, text: bodyStart >= 0 ? data.slice(bodyStart + 4) : '' });
    };
    socket.setTimeout(5_000, done);
    socket.on('data', (d) => {
      data += d.toString('latin1');
      // One answer is enough (a keep-alive connection would stay open).
      const headerEnd = data.indexOf('\r\n\r\n');
      if (headerEnd >= 0) {
        const len = /content-length: (\d+)/i.exec(data.slice(0, headerEnd));
        if (len && data.length >= headerEnd + 4 + Number(len[1])) done();
      }
    });
    socket.on('end', done);
    socket.on('error', done);
    socket.write(bytes);
  });
}

// ------------------------------------------------------------------ the test

it(`${REQUESTS} generated requests: no 5xx, every error in the contract shape, still healthy`, async () => {
  const requests = fc.sample(routes(), { numRuns: REQUESTS, seed: SEED });
  const started = Date.now();
  const outcomes = await runAll(requests);
  const seconds = (Date.now() - started) / 1000;
  const failures = outcomes.filter((o) => o.problem);
  const byStatus: Record<number, number> = {};
  for (const o of outcomes) byStatus[o.status] = (byStatus[o.status] ?? 0) + 1;
  const byLabel = new Set(outcomes.map((o) => o.req.label));
  const timeByLabel: Record<string, number> = {};
  for (const o of outcomes) timeByLabel[o.req.label] = (timeByLabel[o.req.label] ?? 0) + o.ms;
  const slowest = Object.entries(timeByLabel).sort((x, y) => y[1] - x[1]).slice(0, 5).map(([l, t]) => `${l} ${(t / 1000).toFixed(1)} s`);
  process.stdout.write(`fuzz: seed ${SEED}, ${outcomes.length} requests in ${seconds.toFixed(1)} s, statuses ${JSON.stringify(byStatus)}; most request time: ${slowest.join(', ')}\n`);
  expect(failures.slice(0, 10).map(describeFailure)).toEqual([]);
  expect(outcomes.length).toBeGreaterThanOrEqual(10_000);
  // Every route group was reached, and valid requests really got through somewhere.
  expect([...byLabel].sort()).toEqual([...ROUTE_LABELS].sort());
  expect(Object.keys(byStatus).some((s) => Number(s) >= 200 && Number(s) < 300)).toBe(true);

  // Raw HTTP tricks no client library sends.
  const base = new URL(svc.url);
  const auth = `Authorization: Bearer ${w.owner}\r\n`;
  const rawCases: Array<[string, string | Buffer]> = [
    ['NUL in path', `GET /v1/repos/\0 HTTP/1.1\r\nHost: x\r\n${auth}\r\n`],
    ['NUL in path, encoded twice', `GET /v1/repos/%2500 HTTP/1.1\r\nHost: x\r\n${auth}\r\n`],
    ['control bytes in header', Buffer.from(`GET /v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \x01\x02\r\n\r\n`, 'latin1')],
    ['two Content-Lengths', `POST /v1/repos HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: 2\r\nContent-Length: 5\r\n\r\n{}`],
    ['negative Content-Length', `POST /v1/repos HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: -1\r\n\r\n{}`],
    ['non-numeric Content-Length', `POST /v1/repos HTTP/1.1\r\nHost: x\r\n${auth}Content-Length: abc\r\n\r\n{}`],
    ['huge declared Content-Length', `POST /v1/repos HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: 99999999999\r\n\r\n{}`],
    ['broken chunked body', `POST /v1/repos HTTP/1.1\r\nHost: x\r\n${auth}Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`],
    ['chunked and Content-Length', `POST /v1/repos HTTP/1.1\r\nHost: x\r\n${auth}Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n2\r\n{}\r\n0\r\n\r\n`],
    ['request line too long', `GET /v1/repos/${'a'.repeat(70_000)} HTTP/1.1\r\nHost: x\r\n\r\n`],
    ['header too long', `GET /v1/me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${'a'.repeat(70_000)}\r\n\r\n`],
    ['bad method', `G\x7fT /v1/me HTTP/1.1\r\nHost: x\r\n\r\n`],
    ['bad version', `GET /v1/me HTTP/9.9\r\nHost: x\r\n\r\n`],
    ['HTTP/1.0 without Host', `GET /v1/me HTTP/1.0\r\n${auth}\r\n`],
    ['absolute-form target', `GET http://127.0.0.1/v1/me HTTP/1.1\r\nHost: x\r\n${auth}\r\n`],
    ['header without colon', `GET /v1/me HTTP/1.1\r\nHost: x\r\nnonsense\r\n\r\n`],
    ['unicode raw in path', Buffer.from(`GET /v1/repos/\u00e9\u00ff HTTP/1.1\r\nHost: x\r\n${auth}\r\n`, 'latin1')],
    ['utf-8 raw in path', Buffer.concat([Buffer.from('GET /v1/repos/'), Buffer.from('日本', 'utf8'), Buffer.from(` HTTP/1.1\r\nHost: x\r\n${auth}\r\n`)])],
    ['webhook with odd content-type and NUL body', Buffer.concat([Buffer.from(`POST /v1/webhooks/bitbucket/${w.accountId} HTTP/1.1\r\nHost: x\r\nContent-Type: \x7f\r\nX-Event-Key: repo:push\r\nContent-Length: 3\r\n\r\n`, 'latin1'), Buffer.from([0, 0, 0])])],
  ];
  const rawProblems: string[] = [];
  for (let round = 0; round < 10; round++) {
    for (const [label, bytes] of rawCases) {
      const { status, text } = await raw(base, bytes);
      if (status === 0) continue; // the server closed the connection without answering (allowed for garbage)
      const problem = judge({ method: 'RAW', path: label, headers: [], label }, status, text);
      if (problem) rawProblems.push(`${label}: ${problem}: ${status} ${text.slice(0, 200)}`);
    }
  }
  expect([...new Set(rawProblems)]).toEqual([]);

  // Still healthy, and still serving.
  expect((await svc.request('GET', '/healthz')).status).toBe(200);
  expect((await svc.request('GET', '/readyz')).status).toBe(200);
  const me = await svc.request('GET', '/v1/me', { token: w.owner });
  expect([me.status, me.body.account.id]).toEqual([200, w.accountId]);
  // (the fuzz may have deleted the owner's repos: any method goes to any route now and then)
  const repos = await svc.request('GET', '/v1/repos', { token: w.owner });
  expect([repos.status, Array.isArray(repos.body.repos)]).toEqual([200, true]);
}, 170_000);
