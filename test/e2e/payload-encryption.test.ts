// Payload encryption end to end (TEMPORAL_PAYLOAD_KEY): workflows run through the API as usual,
// Temporal stores only ciphertext (inputs, results, summaries, failure messages), and the codec
// server gives the Temporal UI the clear payloads — to the admin token and the UI's origin only.
import { Client as TemporalClient, Connection } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import { temporalDataConverter } from '../../src/temporal/data-converter';
import { connectTemporal } from '../../src/temporal/client';
import { followCallback, startFakeAndService, type FakeBitbucket } from '../support/bitbucket';
import { ADMIN_TOKEN, createAccount, startTestService, type TestService } from '../support/service';

const KEY_ID = 'test-2026';
const PAYLOAD_KEY = `${KEY_ID}:${Buffer.alloc(32, 11).toString('base64')}`;
const UI_ORIGIN = 'http://localhost:8233';

let fake: FakeBitbucket;
let svc: TestService;
let stop: () => Promise<void>;
let plain: { client: TemporalClient; connection: Connection };

beforeAll(async () => {
  ({ fake, svc, stop } = await startFakeAndService({ env: { TEMPORAL_PAYLOAD_KEY: PAYLOAD_KEY } }));
  // A client WITHOUT the codec: it sees what Temporal stores.
  const connection = await Connection.connect({ address: process.env.TEST_TEMPORAL_ADDRESS });
  plain = { client: new TemporalClient({ connection }), connection };
}, 120_000);
afterAll(async () => {
  await plain?.connection.close();
  await stop?.();
});

const utf8 = (b: Uint8Array | null | undefined) => Buffer.from(b ?? new Uint8Array()).toString('utf8');
const b64 = (b: Uint8Array | null | undefined) => Buffer.from(b ?? new Uint8Array()).toString('base64');
const toJson = (p: Payload) => ({ metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, b64(v)])), data: b64(p.data) });

/** Every payload-shaped object in a history (inputs, results, memo, user metadata, failure attributes). */
function payloadsIn(node: unknown, found: Payload[] = []): Payload[] {
  if (!node || typeof node !== 'object' || node instanceof Uint8Array) return found;
  const o = node as Record<string, unknown>;
  if (o.metadata && typeof o.metadata === 'object' && o.data instanceof Uint8Array) found.push(o as Payload);
  else for (const v of Object.values(o)) payloadsIn(v, found);
  return found;
}

/** The history as text, bytes read as UTF-8, so any plain JSON payload would show. */
const historyText = (history: unknown) => JSON.stringify(history, (_k, v) => (v instanceof Uint8Array ? utf8(v) : v));

async function decode(payloads: Payload[]) {
  const res = await svc.request('POST', '/codec/decode', { token: ADMIN_TOKEN, body: { payloads: payloads.map(toJson) } });
  expect(res.status).toBe(200);
  return (res.body.payloads as Array<{ metadata: Record<string, string>; data: string }>).map((p) => ({
    encoding: Buffer.from(p.metadata.encoding, 'base64').toString(),
    value: JSON.parse(Buffer.from(p.data, 'base64').toString()),
  }));
}

describe('with TEMPORAL_PAYLOAD_KEY', () => {
  it('runs the diagnostics workflow through the API while Temporal stores only ciphertext', async () => {
    const res = await svc.request('POST', '/v1/admin/diagnostics', { token: ADMIN_TOKEN });
    expect(res.status).toBe(200);
    expect(res.body.queues.map((q: { ok: boolean }) => q.ok)).toEqual([true, true]);

    const history = await plain.client.workflow.getHandle(res.body.workflowId).fetchHistory();
    const payloads = payloadsIn(history);
    expect(payloads.length).toBeGreaterThanOrEqual(3); // input, summary, activity results, result
    for (const p of payloads) {
      expect(utf8(p.metadata!.encoding)).toBe('binary/encrypted');
      expect(utf8(p.metadata!['encryption-key-id'])).toBe(KEY_ID);
    }
    const text = historyText(history);
    for (const clear of ['Worker diagnostics', 'taskQueues', 'timeoutSeconds', 'databaseTime', 'json/plain']) expect(text).not.toContain(clear);

    // The codec server opens them: the input and the result, as the workflow saw them.
    const started = history.events!.find((e) => e.workflowExecutionStartedEventAttributes)!.workflowExecutionStartedEventAttributes!;
    const completed = history.events!.find((e) => e.workflowExecutionCompletedEventAttributes)!.workflowExecutionCompletedEventAttributes!;
    const [input] = await decode(started.input!.payloads!);
    expect(input.encoding).toBe('json/plain');
    expect(input.value).toEqual({ taskQueues: [`${svc.config.taskQueuePrefix}lettuce-control`, `${svc.config.taskQueuePrefix}lettuce-indexing`], timeoutSeconds: 10 });
    const [result] = await decode(completed.result!.payloads!);
    expect(result.value).toEqual(res.body.queues);

    // A client with the same data converter reads it as usual.
    const withCodec = await connectTemporal(process.env.TEST_TEMPORAL_ADDRESS!, 'default', temporalDataConverter(svc.config));
    try {
      expect(await withCodec.client.workflow.getHandle(res.body.workflowId).result()).toEqual(res.body.queues);
    } finally {
      await withCodec.close();
    }
  });

  it('encrypts failure messages and stack traces (activity and workflow failures)', async () => {
    const { token, accountId } = await createAccount(svc);
    const install = await svc.request('POST', '/v1/integrations/bitbucket/install', { token });
    const authorize = await fetch(install.body.authorizeUrl, { redirect: 'manual' });
    const callback = new URL(authorize.headers.get('location')!);
    callback.searchParams.set('code', 'a-code-bitbucket-never-issued');
    expect(await followCallback(callback.toString())).toBe('http://lettuce.test/repos?bitbucket_error=exchange_failed');

    const runs = [];
    for await (const wf of plain.client.workflow.list({ query: `WorkflowType = 'installBitbucket' AND LettuceAccountId = '${accountId}'` })) runs.push(wf);
    expect(runs).toHaveLength(1);
    const [run] = runs;
    const history = await plain.client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
    const failures = history.events!.flatMap((e) => [e.activityTaskFailedEventAttributes?.failure, e.workflowExecutionFailedEventAttributes?.failure].filter(Boolean));
    expect(failures.length).toBeGreaterThanOrEqual(2);
    const chain = failures.flatMap((f) => {
      const all = [];
      for (let cur = f; cur; cur = cur.cause) all.push(cur);
      return all;
    });
    for (const f of chain) {
      expect(f!.message).toBe('Encoded failure');
      expect(f!.stackTrace).toBe('');
      expect(utf8(f!.encodedAttributes!.metadata!.encoding)).toBe('binary/encrypted');
    }
    const opened = await decode(chain.map((f) => f!.encodedAttributes!));
    const messages = opened.map((o) => o.value.message as string);
    expect(messages.every((m) => m.length > 0)).toBe(true);
    const text = historyText(history);
    for (const m of messages) expect(text).not.toContain(m);
    expect(fake).toBeDefined();
  });
});

describe('the codec server', () => {
  it('refuses a missing, wrong or user token with 401 in the contract shape', async () => {
    const { token } = await createAccount(svc);
    const body = { payloads: [] };
    for (const auth of [undefined, 'not-the-admin-token', token]) {
      const res = await svc.request('POST', '/codec/decode', { token: auth, body });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
    }
    expect((await svc.request('POST', '/codec/encode', { body })).status).toBe(401);
  });

  it("answers the Temporal UI's CORS preflight, and only for its origin", async () => {
    const preflight = (origin: string) =>
      svc.request('OPTIONS', '/codec/decode', { headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace,authorization' } });
    const ok = await preflight(UI_ORIGIN);
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN);
    expect(ok.headers.get('access-control-allow-headers')).toBe('content-type, x-namespace, authorization');
    expect(ok.headers.get('access-control-allow-methods')).toContain('POST');
    expect(ok.headers.get('access-control-allow-credentials')).toBe('true');
    expect((await preflight('http://127.0.0.1:8233')).headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:8233');
    const evil = await preflight('https://evil.example');
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();

    // The real request carries the header too (else the browser hides the answer), even a 401.
    const post = await svc.request('POST', '/codec/encode', { token: ADMIN_TOKEN, headers: { origin: UI_ORIGIN, 'x-namespace': 'default' }, body: { payloads: [] } });
    expect([post.status, post.headers.get('access-control-allow-origin')]).toEqual([200, UI_ORIGIN]);
    const refused = await svc.request('POST', '/codec/decode', { headers: { origin: UI_ORIGIN }, body: { payloads: [] } });
    expect([refused.status, refused.headers.get('access-control-allow-origin')]).toEqual([401, UI_ORIGIN]);
  });

  it('encodes and decodes round trip; refuses malformed bodies and tampered payloads', async () => {
    const value = { hello: 'codec' };
    const clear = { metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: Buffer.from(JSON.stringify(value)).toString('base64') };
    const encoded = await svc.request('POST', '/codec/encode', { token: ADMIN_TOKEN, body: { payloads: [clear] } });
    expect(encoded.status).toBe(200);
    const [sealed] = encoded.body.payloads;
    expect(Buffer.from(sealed.metadata.encoding, 'base64').toString()).toBe('binary/encrypted');
    expect(Buffer.from(sealed.metadata['encryption-key-id'], 'base64').toString()).toBe(KEY_ID);
    const decoded = await svc.request('POST', '/codec/decode', { token: ADMIN_TOKEN, body: { payloads: [sealed, clear] } });
    expect(decoded.body.payloads).toEqual([clear, clear]); // unencrypted payloads pass through

    const tampered = { ...sealed, data: Buffer.from(Buffer.from(sealed.data, 'base64').map((b: number, i: number) => (i === 20 ? b ^ 1 : b))).toString('base64') };
    const bad = await svc.request('POST', '/codec/decode', { token: ADMIN_TOKEN, body: { payloads: [tampered] } });
    expect([bad.status, bad.body.error.code]).toEqual([400, 'decode_failed']);
    for (const body of [{}, { payloads: [{ data: 'not base64!' }] }, { payloads: 'x' }]) {
      const res = await svc.request('POST', '/codec/decode', { token: ADMIN_TOKEN, body });
      expect([res.status, res.body.error.code]).toEqual([400, 'invalid_request']);
    }
    expect((await svc.request('POST', '/codec/decode', { token: ADMIN_TOKEN, rawBody: '{nope' })).body.error.code).toBe('invalid_json');
  });

  it('answers 404 codec_disabled when encryption is off', async () => {
    const off = await startTestService({ workers: false });
    try {
      const res = await off.request('POST', '/codec/decode', { token: ADMIN_TOKEN, body: { payloads: [] } });
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('codec_disabled');
    } finally {
      await off.stop();
    }
  });
});
