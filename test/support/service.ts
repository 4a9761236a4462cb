// Starts the real service (API and workers) inside a test file, against the run's PostgreSQL
// and Temporal, with task queues of its own, and gives a small HTTP client for it.
import crypto from 'node:crypto';
import path from 'node:path';
import { loadConfig, type Config } from '../../src/config';
import { createLogger, type Logger } from '../../src/logger';
import { startService, type RunningService } from '../../src/service';
import { installWorkerRuntime } from '../../src/temporal/runtime';

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';
export const ENCRYPTION_KEY = Buffer.alloc(32, 7).toString('base64');

export function testConfig(overrides: Record<string, string> = {}, prefix = `t${crypto.randomBytes(4).toString('hex')}-`): Config {
  const config = loadConfig({
    CODEWAZE_ADMIN_TOKEN: ADMIN_TOKEN,
    TOKEN_ENCRYPTION_KEY: ENCRYPTION_KEY,
    DATABASE_URL: process.env.TEST_DATABASE_URL,
    TEMPORAL_ADDRESS: process.env.TEST_TEMPORAL_ADDRESS,
    PORT: '0',
    DATA_DIR: path.join(process.env.TEST_TMP_DIR ?? '/tmp', `data-${prefix}`),
    LOG_LEVEL: 'silent',
    WORKER_SHUTDOWN_GRACE_SECONDS: '1',
    ...overrides,
  });
  return { ...config, taskQueuePrefix: prefix };
}

/** One answer `request()` got: the OpenAPI test checks each against the spec. */
export interface RecordedResponse {
  method: string;
  path: string;
  status: number;
  contentType: string | null;
  body: unknown;
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  rawBody?: string | Buffer;
  headers?: Record<string, string>;
}

/** One HTTP request to the API as a client sends it: bearer token, JSON body, no redirects followed. */
export async function sendRequest(url: string, method: string, route: string, o: RequestOptions = {}): Promise<{ res: Response; parsed: any }> {
  const headers: Record<string, string> = { ...o.headers };
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  let body: string | Buffer | undefined;
  if (o.rawBody !== undefined) body = o.rawBody;
  else if (o.body !== undefined) {
    body = JSON.stringify(o.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(url + route, { method, headers, body, redirect: 'manual' });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON: keep the text */
  }
  return { res, parsed };
}

export interface TestService extends RunningService {
  config: Config;
  url: string;
  /** Every answer of `request()`, in order. */
  responses: RecordedResponse[];
  request(method: string, route: string, opts?: RequestOptions): Promise<{ status: number; body: any; headers: Headers }>;
}

export async function startTestService(opts: { env?: Record<string, string>; log?: Logger; workers?: boolean; config?: Config; clock?: () => Date } = {}): Promise<TestService> {
  const config = opts.config ?? testConfig(opts.env);
  installWorkerRuntime({ log: opts.log, metricsAddress: config.workerMetricsAddress });
  const service = await startService({
    config,
    log: opts.log ?? createLogger('silent'),
    host: '127.0.0.1',
    workers: opts.workers,
    workflowBundlePath: process.env.TEST_WORKFLOW_BUNDLE,
    clock: opts.clock,
  });
  const url = service.url!;
  const responses: RecordedResponse[] = [];
  return {
    ...service,
    config,
    url,
    responses,
    async request(method, route, o = {}) {
      const { res, parsed } = await sendRequest(url, method, route, o);
      responses.push({ method, path: route.split('?')[0], status: res.status, contentType: res.headers.get('content-type'), body: parsed });
      return { status: res.status, body: parsed, headers: res.headers };
    },
  };
}

/** Creates an account through the admin API; returns the owner's token and ids. */
export async function createAccount(svc: TestService, name = 'Acme') {
  const res = await svc.request('POST', '/v1/admin/accounts', {
    token: ADMIN_TOKEN,
    body: { name, ownerEmail: `owner-${crypto.randomBytes(4).toString('hex')}@acme.test` },
  });
  if (res.status !== 201) throw new Error(`account creation failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { accountId: res.body.account.id as string, userId: res.body.user.id as string, token: res.body.token as string };
}
