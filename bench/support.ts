// Shared by the service benchmarks (webhooks, onboarding, tokens): their own embedded PostgreSQL
// and Temporal dev server (the dev stack's modules, loopback only, in a temp dir removed at the
// end), a config for them, child processes, percentiles, and the printed report. Figures only:
// nothing here asserts a time.
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, type Config } from '../src/config';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../src/dev/postgres';
import { freePort, startSideBySide } from '../src/dev/processes';
import { resolveTemporalCli } from '../src/dev/temporal-cli';
import { startTemporalOnFreePort, type TemporalDevServer } from '../src/dev/temporal-server';
import { INDEXING_PROCESS_ENV } from '../src/indexer/process-memory';
import { BITBUCKET_REST_LIMIT, type RestLimit } from '../test/fakes/bitbucket/server';

export const ADMIN_TOKEN = `bench-admin-${crypto.randomBytes(12).toString('hex')}`;
export const ENCRYPTION_KEY = crypto.randomBytes(32).toString('base64');

export interface BenchServers {
  dir: string;
  pg: EmbeddedPostgres;
  temporal: TemporalDevServer | null;
  stop(): Promise<void>;
}

export const say = (line = '') => process.stdout.write(`${line}\n`);

/** PostgreSQL (and, unless `temporal: false`, a headless Temporal dev server) for one bench run. */
export async function startBenchServers(name: string, opts: { temporal?: boolean; temporalStore?: 'file' | 'memory' } = {}): Promise<BenchServers> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `lettuce-bench-${name}-`));
  fs.chmodSync(dir, 0o755);
  const [pg, temporal] = await startSideBySide([
    freePort().then((port) => startEmbeddedPostgres({ dir: path.join(dir, 'postgres'), port, password: crypto.randomBytes(12).toString('hex'), database: 'bench' })),
    opts.temporal === false
      ? null
      : resolveTemporalCli({ log: say }).then((cliPath) =>
          startTemporalOnFreePort({ cliPath, uiPort: null, dbFile: opts.temporalStore === 'memory' ? undefined : path.join(dir, 'temporal.db'), logFile: path.join(dir, 'temporal.log') }),
        ),
  ]);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await temporal?.stop().catch(() => undefined);
    await pg.stop().catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stop().then(() => process.exit(130)));
  return { dir, pg, temporal, stop };
}

export function benchEnv(servers: BenchServers, extra: Record<string, string> = {}): Record<string, string> {
  return {
    CODEWAZE_ADMIN_TOKEN: ADMIN_TOKEN,
    TOKEN_ENCRYPTION_KEY: ENCRYPTION_KEY,
    DATABASE_URL: servers.pg.url,
    ...(servers.temporal ? { TEMPORAL_ADDRESS: servers.temporal.address } : { TEMPORAL_ADDRESS: '127.0.0.1:1' }),
    DATA_DIR: path.join(servers.dir, 'data'),
    LOG_LEVEL: 'warn',
    PORT: '0',
    // The benches measure the service, not the hourly REST budget (a bench about it sets its own).
    BITBUCKET_REST_BUDGET: '1000000/1h',
    ...extra,
  };
}

export function benchConfig(servers: BenchServers, extra: Record<string, string> = {}): Config {
  return loadConfig(benchEnv(servers, extra));
}

/**
 * Runs a compiled entry point of this project (e.g. src/api/main.js) until `readyUrl` answers
 * (any HTTP status). Its output is kept (the last 64 KiB) for the error message only.
 */
export async function startNode(script: string, env: Record<string, string>, readyUrl: string, opts: { nodeArgs?: string[]; timeoutMs?: number } = {}): Promise<{ child: ChildProcess; stop(): Promise<void> }> {
  const timeoutMs = opts.timeoutMs ?? 120_000;
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), path.resolve(__dirname, '..', script)], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (d: Buffer) => (output = (output + d.toString()).slice(-65_536));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${script} did not start: ${output.slice(-2000)}`);
    }
    try {
      await fetch(readyUrl, { signal: AbortSignal.timeout(1_000) });
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    child,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/**
 * One worker process (`src/temporal/worker-main.js`) polling `queue`, ready once its metrics
 * endpoint answers — on `metricsPort`, or a free port when none is given.
 */
export async function startWorkerNode(
  env: Record<string, string>,
  queue: string,
  opts: { metricsPort?: number; nodeArgs?: string[] } = {},
): Promise<{ child: ChildProcess; stop(): Promise<void>; metricsUrl: string }> {
  const address = `127.0.0.1:${opts.metricsPort ?? (await freePort())}`;
  const metricsUrl = `http://${address}/metrics`;
  // A worker that indexes starts as docker-compose.yml starts one (src/indexer/process-memory.ts).
  const memory = queue.split(',').includes('lettuce-indexing') ? INDEXING_PROCESS_ENV : {};
  const node = await startNode('src/temporal/worker-main.js', { ...env, ...memory, WORKER_TASK_QUEUES: queue, WORKER_METRICS_ADDRESS: address }, metricsUrl, { nodeArgs: opts.nodeArgs });
  return { ...node, metricsUrl };
}

export function pct(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

export function median(values: number[]): number {
  return pct(values, 50);
}

export interface Row {
  figure: string;
  value: string;
  target?: string;
  baseline?: string;
  ratio?: string;
  met?: boolean | null;
}

/** Prints the figures as a table (the README's Performance table is pasted from this). */
export function printReport(title: string, rows: Row[], notes: string[] = []): void {
  const cols = ['figure', 'value', 'target', 'baseline (same run)', 'ratio', 'met'];
  const table = rows.map((r) => [r.figure, r.value, r.target ?? '', r.baseline ?? '', r.ratio ?? '', r.met === undefined || r.met === null ? '' : r.met ? 'yes' : 'NO']);
  const widths = cols.map((c, i) => Math.max(c.length, ...table.map((t) => t[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  say();
  say(`== ${title}`);
  say(line(cols));
  say(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const t of table) say(line(t));
  for (const n of notes) say(`  ${n}`);
  say();
}

export const fmtMs = (n: number) => `${n.toFixed(n < 10 ? 1 : 0)} ms`;

/** One JSON request to the service (redirects not followed), with its latency. */
export async function requestJson(method: string, url: string, token: string | null, body?: unknown): Promise<{ status: number; body: any; ms: number }> {
  const started = performance.now();
  const res = await fetch(url, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
    redirect: 'manual',
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, ms: performance.now() - started };
}

/**
 * Repository and webhook REST calls one repo add costs today, counted high: a lookup, a hook listing
 * and a hook creation, and one more for a retry or a webhook recheck.
 */
export const REST_CALLS_PER_REPO_ADD = 4;

/**
 * The fake Bitbucket's REST rate limit for a bench that does not measure it: Bitbucket's own (the
 * fake's default, `undefined` here) while the run's repository and webhook calls fit in its 1,000 an
 * hour, else off (null), so a large run measures what it is meant to and not the limiter's 429s.
 */
export function restLimitFor(restCalls: number): RestLimit | null | undefined {
  return restCalls > BITBUCKET_REST_LIMIT.calls ? null : undefined;
}

/** A new account connected to the (auto-approving) fake Bitbucket; returns its API token. */
export async function connectedAccount(serviceUrl: string, ownerEmail: string): Promise<string> {
  const account = await requestJson('POST', `${serviceUrl}/v1/admin/accounts`, ADMIN_TOKEN, { name: 'Bench', ownerEmail });
  const token = account.body.token as string;
  const install = await requestJson('POST', `${serviceUrl}/v1/integrations/bitbucket/install`, token);
  const authorize = await fetch(install.body.authorizeUrl, { redirect: 'manual' });
  const callback = await fetch(authorize.headers.get('location')!, { redirect: 'manual' });
  if (!callback.headers.get('location')?.includes('bitbucket=connected')) throw new Error(`connect failed: ${callback.headers.get('location')}`);
  return token;
}

/** A workflow history event's time, ms since the epoch. */
export function eventTime(e: { eventTime?: { seconds?: unknown; nanos?: number | null } | null }): number {
  return Number(e.eventTime!.seconds) * 1000 + (e.eventTime!.nanos ?? 0) / 1e6;
}

/** Runs a bench's main and exits: 0 when it printed its report, 1 with the reason otherwise. */
export function runBench(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err: Error) => {
      process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
      process.exit(1);
    },
  );
}

/** CPU seconds (user + system) a process and its live descendants have used so far, from /proc (Linux). */
export function cpuSecondsOf(rootPid: number): number {
  const ticks = 100; // USER_HZ on Linux
  const stat = (pid: number): { ppid: number; cpu: number } | null => {
    try {
      const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
      // fields after the name: state ppid … utime(12) stime(13) cutime(14) cstime(15)
      return { ppid: Number(f[1]), cpu: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]) };
    } catch {
      return null;
    }
  };
  const all = new Map<number, { ppid: number; cpu: number }>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = stat(Number(name));
    if (s) all.set(Number(name), s);
  }
  let total = 0;
  const visit = (pid: number) => {
    const s = all.get(pid);
    if (!s) return;
    total += s.cpu;
    for (const [child, c] of all) if (c.ppid === pid) visit(child);
  };
  visit(rootPid);
  return total / ticks;
}

/** The postmaster's pid of an embedded PostgreSQL started by startBenchServers. */
export function postgresPid(servers: BenchServers): number {
  return Number(fs.readFileSync(path.join(servers.dir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
}

/** The machine's load average, for every figure a bench prints (the 2 cores are shared). */
export function loadAverage(): string {
  return os.loadavg().map((l) => l.toFixed(2)).join(' / ');
}

