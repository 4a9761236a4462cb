// The per-delivery costs the webhook receiver's lean path removed (or kept), each measured on its
// own in the bench process: the old way and the new, as CPU time per delivery. Run by
// bench/webhook-bench.ts after the load rounds, so nothing else of the bench is busy meanwhile.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { PassThrough } from 'node:stream';
import pino from 'pino';
import client from 'prom-client';
import type { DataSource } from 'typeorm';
import { createLogger, redactUrl } from '../src/logger';
import { DeliveryRecorder } from '../src/webhooks/delivery-recorder';
import { readPushDelivery } from '../src/webhooks/push-payload';
import { verifySignature } from '../src/webhooks/signature';
import { cpuSecondsOf, median } from './support';

export interface Cost {
  what: string;
  /** µs of CPU per delivery, the way it was. */
  before: number;
  /** µs the way it is now (0 = not done any more). */
  after: number;
  note?: string;
}

/** µs of this process's CPU per call of `fn`, median of 5 runs of `n` calls. */
async function perCall(n: number, fn: (i: number) => unknown): Promise<number> {
  const runs: number[] = [];
  for (let r = 0; r < 5; r++) {
    const started = process.cpuUsage();
    for (let i = 0; i < n; i++) {
      const out = fn(i);
      if (out instanceof Promise) await out;
    }
    const used = process.cpuUsage(started);
    runs.push((used.user + used.system) / n);
  }
  return median(runs);
}

/** The costs measured in this process. `body` is one real delivery body and `secret` its account's secret. */
export async function measureCosts(body: Buffer, secret: string, url: string): Promise<Cost[]> {
  const costs: Cost[] = [];

  // The access line the Koa middleware wrote for every request (a child logger, then the line),
  // with the service's logger (its redaction of credential keys at any depth, its mixin) writing
  // to a file descriptor as it writes stdout (synchronously).
  const devNull = fs.openSync('/dev/null', 'w');
  const log = createLogger('info', pino.destination({ fd: devNull, sync: true }));
  const logged = await perCall(20_000, () => log.child({ requestId: crypto.randomUUID() }).info({ method: 'POST', url: redactUrl(url), status: 202, ms: 3 }, 'request'));
  costs.push({ what: 'access log line per delivery (pino child + JSON line + write); now debug for 2xx', before: logged, after: 0 });

  // Metrics: the latency histogram and the outcome counter with their labels looked up on every
  // delivery, against children bound once.
  const registry = new client.Registry();
  const histogram = new client.Histogram({ name: 'h', help: 'h', labelNames: ['method', 'route', 'status'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry] });
  const counter = new client.Counter({ name: 'c', help: 'c', labelNames: ['outcome'], registers: [registry] });
  const labelled = await perCall(50_000, () => {
    histogram.observe({ method: 'POST', route: '/v1/webhooks/bitbucket/:accountId', status: '202' }, 0.003);
    counter.inc({ outcome: 'accepted' });
  });
  const boundHistogram = histogram.labels('POST', '/v1/webhooks/bitbucket/:accountId', '202');
  const boundCounter = counter.labels('accepted');
  const bound = await perCall(50_000, () => {
    boundHistogram.observe(0.003);
    boundCounter.inc();
  });
  costs.push({ what: 'latency histogram + outcome counter: labels per delivery → bound once', before: labelled, after: bound });

  // The body: Koa's path read it through the stream's async iterator and copied it with
  // Buffer.concat; the lean path takes the one chunk as it is.
  const iterated = await perCall(20_000, async () => {
    const s = new PassThrough();
    s.end(body);
    const chunks: Buffer[] = [];
    for await (const chunk of s as AsyncIterable<Buffer>) chunks.push(chunk);
    return Buffer.concat(chunks);
  });
  const evented = await perCall(20_000, () => new Promise<Buffer>((resolve) => {
    const s = new PassThrough();
    let first: Buffer | null = null;
    s.on('data', (c: Buffer) => (first ??= c));
    s.once('end', () => resolve(first!));
    s.end(body);
  }));
  costs.push({ what: `reading the ${body.length}-byte body: async iterator + copy → 'data' events, no copy`, before: iterated, after: evented, note: 'both on an in-memory stream' });

  // The HMAC: keyed by the secret string each time, or by a KeyObject made once per account.
  const header = `sha256=${crypto.createHmac('sha256', secret).update(body).digest('hex')}`;
  const key = crypto.createSecretKey(Buffer.from(secret, 'utf8'));
  const byString = await perCall(20_000, () => verifySignature(body, header, secret));
  const byKey = await perCall(20_000, () => verifySignature(body, header, key));
  costs.push({ what: 'HMAC-SHA256 check: secret string → KeyObject (a bare server does this too)', before: byString, after: byKey });

  // Every byte is still checked (a malformed body must get 400, CONTRACT §8), but only the
  // fields read are built, not the whole document.
  const parsed = await perCall(20_000, () => JSON.parse(body.toString('utf8')));
  const scanned = await perCall(20_000, () => readPushDelivery(body));
  costs.push({ what: 'the body read: JSON.parse of all of it → checked whole, only the fields read built (json-scan)', before: parsed, after: scanned });
  fs.closeSync(devNull);
  return costs;
}

/**
 * Per-row SQL: the DeliveryRecorder's batched INSERT (32 deliveries at once, as 32 connections
 * send them) against one INSERT per delivery; CPU of this process and of PostgreSQL per row.
 */
export async function measureInsertCosts(ds: DataSource, pgPid: number, accountId: string, repoId: string): Promise<Cost> {
  const prefix = `cost-${crypto.randomBytes(3).toString('hex')}-`;
  const recorder = new DeliveryRecorder(ds, prefix, () => undefined);
  const row = () => ({ requestUuid: crypto.randomUUID(), accountId, repoId, eventKey: 'repo:push', outcome: 'other_ref' as const, commit: null, branch: null });
  const cpu = async (n: number, run: () => Promise<unknown>) => {
    const pg0 = cpuSecondsOf(pgPid);
    const me0 = process.cpuUsage();
    await run();
    const me = process.cpuUsage(me0);
    return ((cpuSecondsOf(pgPid) - pg0) * 1e6 + me.user + me.system) / n;
  };
  const rounds = 100;
  const batched = await cpu(rounds * 32, async () => {
    for (let r = 0; r < rounds; r++) await Promise.all(Array.from({ length: 32 }, () => recorder.record(row())));
  });
  const single = await cpu(rounds * 4, async () => {
    for (let r = 0; r < rounds * 4; r++) await recorder.record(row());
  });
  await ds.query(`DELETE FROM webhook_deliveries WHERE task_queue_prefix = $1`, [prefix]);
  return { what: 'recording a delivery (node + PostgreSQL CPU per row): one INSERT each → batches of 32', before: single, after: batched, note: 'answered only after its commit, either way' };
}
