// The soak (`npm run soak -- --minutes 60`): the compose stack (src/stack: the Temporal server on
// PostgreSQL, the set-up jobs, the API, WORKERS workers) under an hour of what users and operators do,
// with faults: REPOS repos of a synced workspace at the fake Bitbucket, pushes at PUSH_RATE a second,
// picker calls, searches across every repo, repo lists, re-indexes, adds and deletes; a random worker
// `kill -9`ed every few minutes, Temporal restarted once and PostgreSQL once. At the end every repo
// must be at its pushed head. Printed: pushes sent / indexed / lost, deliveries Bitbucket gave up on,
// 5xx on user routes, p50/p95 of each route, the memory (PSS) of every process over time with its slope,
// PostgreSQL connections, Temporal history lengths, and with TEMPORAL_PPROF_PORT set the Temporal
// server's live Go heap a minute. Figures only; it exits 1 if a push was lost.
import fs from 'node:fs';
import { Client } from '@temporalio/client';
import { Client as PgClient } from 'pg';
import { seedWorkspace } from '../test/fakes/bitbucket/seed';
import { connect } from '../test/support/bitbucket';
import { createAccount } from '../test/support/service';
import { startStackUnderTest, stopOnSignals, type StackUnderTest } from '../test/stack/stack-under-test';
import { loadAverage, pct, runBench, say } from './support';

function option(name: string, fallback: number): number {
  const args = process.argv.slice(2);
  const i = args.findIndex((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (i < 0) return fallback;
  const value = Number(args[i].includes('=') ? args[i].split('=')[1] : args[i + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} needs a positive number`);
  return value;
}

const MINUTES = option('minutes', 60);
const REPOS = option('repos', 200);
const WORKERS = option('workers', 2);
const PUSH_RATE = option('push-rate', 2);
/** A worker is killed every KILL_EVERY_MIN minutes (±30 %). */
const KILL_EVERY_MIN = option('kill-every', 4);
const EXTRA_REPOS = 30;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rand = <T>(items: T[]): T => items[Math.floor(Math.random() * items.length)];
const minutes = (ms: number) => `${(ms / 60_000).toFixed(1)} min`;

/** Latencies and statuses per route, as the users' clients saw them. */
class RouteStats {
  private readonly ms = new Map<string, number[]>();
  private readonly statuses = new Map<string, Map<string, number>>();

  record(route: string, status: number | 'error', ms: number): void {
    if (!this.ms.has(route)) {
      this.ms.set(route, []);
      this.statuses.set(route, new Map());
    }
    this.ms.get(route)!.push(ms);
    const key = status === 'error' ? 'no answer' : String(status);
    this.statuses.get(route)!.set(key, (this.statuses.get(route)!.get(key) ?? 0) + 1);
  }

  fiveHundreds(): number {
    let n = 0;
    for (const counts of this.statuses.values()) for (const [status, c] of counts) if (status.startsWith('5')) n += c;
    return n;
  }

  rows(): string[] {
    return [...this.ms.entries()].map(([route, ms]) => {
      const statuses = [...this.statuses.get(route)!.entries()].map(([s, c]) => `${s}×${c}`).join(' ');
      return `  ${route.padEnd(44)} ${String(ms.length).padStart(6)}  p50 ${pct(ms, 50).toFixed(0).padStart(5)} ms  p95 ${pct(ms, 95).toFixed(0).padStart(6)} ms  ${statuses}`;
    });
  }
}

/**
 * Memory of a process and its descendants (a worker's parse processes, PostgreSQL's backends), MB:
 * the sum of their PSS (each shared page counted once across them, in shares) — summing RSS would
 * count PostgreSQL's shared buffers once per backend that touched them.
 */
function memoryTreeMb(rootPid: number): number {
  const children = new Map<number, number[]>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      /* gone */
    }
  }
  let kb = 0;
  const visit = (pid: number) => {
    try {
      kb += Number(/^Pss:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
    } catch {
      /* gone */
    }
    for (const c of children.get(pid) ?? []) visit(c);
  };
  visit(rootPid);
  return kb / 1024;
}

/** Least-squares slope of (t ms, y) in y per hour. */
function slopePerHour(points: Array<[number, number]>): number {
  if (points.length < 3) return NaN;
  const n = points.length;
  const mt = points.reduce((s, [t]) => s + t, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const num = points.reduce((s, [t, y]) => s + (t - mt) * (y - my), 0);
  const den = points.reduce((s, [t]) => s + (t - mt) ** 2, 0);
  return den === 0 ? 0 : (num / den) * 3_600_000;
}

/**
 * The Temporal server's Go memory, when its pprof port is open (TEMPORAL_PPROF_PORT): the live heap
 * after a collection forced by the request (gc=1), what the runtime holds from the OS, and the
 * collector's share of the CPU. PSS alone cannot tell a heap that grows from one the runtime keeps.
 */
async function temporalGoMemory(port: number): Promise<{ liveMb: number; sysMb: number; gcCpu: number } | null> {
  const text = await fetch(`http://127.0.0.1:${port}/debug/pprof/heap?gc=1&debug=1`, { signal: AbortSignal.timeout(10_000) }).then(
    (r) => r.text(),
    () => '',
  );
  const stat = (name: string) => Number(new RegExp(`^# ${name} = ([\\d.e+-]+)`, 'm').exec(text)?.[1] ?? NaN);
  const live = stat('HeapAlloc');
  return Number.isFinite(live) ? { liveMb: live / 2 ** 20, sysMb: stat('Sys') / 2 ** 20, gcCpu: stat('GCCPUFraction') } : null;
}

interface Push {
  repo: string;
  seq: number;
  head: string;
}

async function main(): Promise<void> {
  const started = Date.now();
  say(`Soak — ${MINUTES} min, ${REPOS} repos, ${WORKERS} workers, ${PUSH_RATE} pushes/s, a worker kill -9 every ~${KILL_EVERY_MIN} min, load average ${loadAverage()} at the start`);
  const t: StackUnderTest = await startStackUnderTest({
    workers: WORKERS,
    build: !process.argv.includes('--no-build'),
    env: { REPO_RECONCILE_INTERVAL: '5m', LOG_LEVEL: 'warn' },
    say: (line) => say(`  [stack] ${line.trim()}`),
  });
  stopOnSignals(t);
  /** A client of our own, for pg_stat_activity: PostgreSQL's restart ends it (an 'error' event, handled). */
  const openPg = () => {
    const c = new PgClient({ connectionString: 'postgres://lettuce:lettuce@127.0.0.1:5432/lettuce' });
    c.on('error', () => undefined);
    return c;
  };
  const pg = openPg();
  const routes = new RouteStats();
  const api = async (label: string, method: string, route: string, token: string, body?: unknown) => {
    const t0 = performance.now();
    try {
      const res = await t.api.request(method, route, { token, body });
      routes.record(label, res.status, performance.now() - t0);
      return res;
    } catch {
      routes.record(label, 'error', performance.now() - t0);
      return null;
    }
  };
  try {
    // ── Set-up: a connected owner of a workspace of REPOS repos, synced whole; more repos to add and delete ──
    const { token, accountId } = await createAccount(t.api, 'Soak');
    await seedWorkspace(t.fake, { workspace: 'soak', count: REPOS });
    await seedWorkspace(t.fake, { workspace: 'extra', count: EXTRA_REPOS });
    if (!(await connect(t.api, token)).location.includes('bitbucket=connected')) throw new Error('connect failed');
    const t0 = Date.now();
    const sync = await t.api.request('POST', '/v1/integrations/bitbucket/workspaces', { token, body: { workspace: 'soak' } });
    if (sync.status !== 202 && sync.status !== 200) throw new Error(`workspace sync: ${sync.status} ${JSON.stringify(sync.body)}`);
    const ids = new Map<string, string>(); // full name → repo id
    for (;;) {
      const list = await t.api.request('GET', '/v1/repos', { token });
      const ready = (list.body.repos as Array<{ id: string; name: string; status: string }>).filter((r) => r.status === 'ready');
      if (ready.length >= REPOS) {
        for (const r of list.body.repos) ids.set(r.name, r.id);
        break;
      }
      if (Date.now() - t0 > 30 * 60_000) throw new Error(`only ${ready.length} of ${REPOS} repos ready after 30 min`);
      await sleep(2_000);
    }
    say(`set-up: ${REPOS} repos synced and ready in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    await pg.connect();

    // ── The load ────────────────────────────────────────────────────────────────────────────────
    const loadStart = Date.now();
    const loadEnd = loadStart + MINUTES * 60_000;
    const running = () => Date.now() < loadEnd;
    /** A pause that ends with the load. */
    const nap = (ms: number) => sleep(Math.max(0, Math.min(ms, loadEnd - Date.now())));
    const pushes: Push[] = [];
    const lastSeq = new Map<string, number>();
    const seqOfHead = new Map<string, number>();
    const events: string[] = [];
    const note = (line: string) => (events.push(`${minutes(Date.now() - loadStart).padStart(8)}  ${line}`), say(`  ${events[events.length - 1]}`));
    const live = () => [...ids.keys()];
    const deletedRepos = new Set<string>();

    const pusher = async () => {
      let seq = 0;
      while (running()) {
        const full = rand(live());
        const [ws, slug] = full.split('/');
        const n = ++seq;
        try {
          const head = await t.fake.commit(ws, slug, { [`soak/${n % 50}.txt`]: `soak push ${n} soakmark${n}z\n` }, { message: `soak ${n}` });
          pushes.push({ repo: full, seq: n, head });
          lastSeq.set(full, n);
          seqOfHead.set(head, n);
          void t.fake.deliverPush(ws, slug).catch(() => undefined);
        } catch (err) {
          if (!deletedRepos.has(full)) note(`push to ${full} failed at the fake: ${(err as Error).message}`);
        }
        await nap(1000 / PUSH_RATE);
      }
    };
    const searcher = async () => {
      while (running()) {
        const old = pushes.filter((p) => p.seq % 7 === 0).slice(-200, -50);
        const q = old.length ? `soakmark${rand(old).seq}z` : 'README';
        await api('GET /v1/search', 'GET', `/v1/search?q=${q}`, token);
        const id = rand([...ids.values()]);
        await api('GET /v1/repos/{id}/search', 'GET', `/v1/repos/${id}/search?q=${encodeURIComponent('/soak push \\d+/ file:soak/')}`, token);
        await nap(2_000);
      }
    };
    const browser = async () => {
      let i = 0;
      while (running()) {
        await api('GET /v1/repos', 'GET', '/v1/repos', token);
        // The picker lists every workspace's repos from Bitbucket (3 budgeted REST calls for 230 repos):
        // opened every 5 minutes. Every 30 s (as before) it spent ~360 of the consumer's 900 calls an
        // hour on top of the set-up's hooks, and the added repos' webhooks (background work, which
        // leaves user calls the room) waited past the end of the run.
        if (i % 60 === 0) await api('GET /v1/integrations/bitbucket/repos (picker)', 'GET', '/v1/integrations/bitbucket/repos', token);
        if (i % 3 === 0) await api('GET /v1/repos/{id}', 'GET', `/v1/repos/${rand([...ids.values()])}`, token);
        i++;
        await nap(5_000);
      }
    };
    const gardener = async () => {
      let extra = 1;
      const added: string[] = [];
      while (running()) {
        await nap(60_000);
        if (!running()) break;
        const id = rand([...ids.values()]);
        await api('POST /v1/repos/{id}/reindex', 'POST', `/v1/repos/${id}/reindex`, token);
        if (extra <= EXTRA_REPOS) {
          const full = `extra/repo-${String(extra++).padStart(4, '0')}`;
          const res = await api('POST /v1/repos', 'POST', '/v1/repos', token, { bitbucket: full });
          if (res?.status === 202) {
            ids.set(full, res.body.repo.id);
            added.push(full);
          }
        }
        if (added.length > 3) {
          const full = added.shift()!;
          const id2 = ids.get(full)!;
          ids.delete(full);
          deletedRepos.add(full);
          await api('DELETE /v1/repos/{id}', 'DELETE', `/v1/repos/${id2}`, token);
        }
      }
    };
    const chaos = async () => {
      const temporalAt = loadStart + MINUTES * 60_000 * 0.35;
      const postgresAt = loadStart + MINUTES * 60_000 * 0.65;
      let nextKill = loadStart + KILL_EVERY_MIN * 60_000 * (0.7 + Math.random() * 0.6);
      let temporalDone = false;
      let postgresDone = false;
      while (running()) {
        const now = Date.now();
        if (now >= nextKill) {
          const victim = rand(t.stack.replicas('worker').filter((w) => w.pid));
          if (victim) {
            note(`kill -9 ${victim.spec.name} (pid ${victim.pid})`);
            victim.kill('SIGKILL');
          }
          nextKill = now + KILL_EVERY_MIN * 60_000 * (0.7 + Math.random() * 0.6);
        }
        if (!temporalDone && now >= temporalAt) {
          temporalDone = true;
          note('restarting the Temporal server');
          await t.stack.restart('temporal');
          note('Temporal server back');
        }
        if (!postgresDone && now >= postgresAt) {
          postgresDone = true;
          note('restarting PostgreSQL');
          await pg.end().catch(() => undefined);
          await t.stack.restart('postgres');
          note('PostgreSQL back');
        }
        await nap(1_000);
      }
    };
    // Memory of every process, PostgreSQL's connections, every 15 s.
    const pss = new Map<string, Array<{ t: number; pid: number; mb: number }>>();
    const connections: Array<[number, number]> = [];
    let pgc: PgClient | null = pg;
    const sampler = async () => {
      while (running()) {
        const now = Date.now() - loadStart;
        for (const p of t.stack.pids()) {
          if (!pss.has(p.name)) pss.set(p.name, []);
          pss.get(p.name)!.push({ t: now, pid: p.pid, mb: memoryTreeMb(p.pid) });
        }
        try {
          if (!pgc) {
            pgc = openPg();
            await pgc.connect();
          }
          const [row] = (await pgc.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE backend_type = 'client backend'`)).rows;
          connections.push([now, row.n]);
        } catch {
          await pgc?.end().catch(() => undefined);
          pgc = null;
        }
        await nap(15_000);
      }
    };
    const pprofPort = Number(process.env.TEMPORAL_PPROF_PORT ?? 0);
    const goMemory: Array<{ t: number; pid: number; liveMb: number; sysMb: number; gcCpu: number }> = [];
    const goSampler = async () => {
      while (pprofPort > 0 && running()) {
        const pid = t.stack.pids().find((p) => p.name === 'temporal')?.pid ?? 0;
        const m = await temporalGoMemory(pprofPort);
        if (m) goMemory.push({ t: Date.now() - loadStart, pid, ...m });
        await nap(60_000);
      }
    };
    const progress = async () => {
      while (running()) {
        await nap(5 * 60_000);
        // The memory timeline: each process's latest PSS, so a curve can be told from a line.
        const memory = [...pss].map(([name, samples]) => `${name} ${samples[samples.length - 1].mb.toFixed(0)}`).join(', ');
        if (running()) say(`  ${minutes(Date.now() - loadStart)}: ${pushes.length} pushes sent, ${routes.fiveHundreds()} 5xx so far, load average ${loadAverage()}; PSS MB: ${memory}`);
      }
    };
    await Promise.all([pusher(), searcher(), browser(), gardener(), chaos(), sampler(), goSampler(), progress()]);
    note('load stopped');

    // ── The end: every repo at its pushed head ─────────────────────────────────────────────────
    const settleStart = Date.now();
    const indexedSeq = new Map<string, number>();
    for (;;) {
      const list = await t.api.request('GET', '/v1/repos', { token }).catch(() => null);
      if (list?.status === 200) {
        for (const r of list.body.repos as Array<{ name: string; lastIndexedCommit: string | null }>) indexedSeq.set(r.name, r.lastIndexedCommit ? (seqOfHead.get(r.lastIndexedCommit) ?? 0) : 0);
        const behind = [...lastSeq.entries()].filter(([full, seq]) => ids.has(full) && (indexedSeq.get(full) ?? 0) < seq);
        if (behind.length === 0) break;
        if (Date.now() - settleStart > 15 * 60_000) {
          note(`${behind.length} repos still behind their pushed head after 15 min: ${behind.slice(0, 5).map(([f]) => f).join(', ')}`);
          break;
        }
      }
      await sleep(5_000);
    }
    const settledS = (Date.now() - settleStart) / 1000;
    const counted = pushes.filter((p) => ids.has(p.repo));
    const indexed = counted.filter((p) => p.seq <= (indexedSeq.get(p.repo) ?? 0)).length;
    const lost = counted.length - indexed;
    const gaveUp = t.fake.deliveries().filter((d) => typeof d.status !== 'number' || d.status >= 300);

    // ── Temporal history lengths ───────────────────────────────────────────────────────────────
    const client: Client = t.temporal;
    const lengths: number[] = [];
    for (const id of ids.values()) {
      const d = await client.workflow.getHandle(`repo:${id}`).describe().catch(() => null);
      if (d) lengths.push(d.historyLength);
    }
    const syncLength = (await client.workflow.getHandle(`workspace-sync:${accountId}:soak`).describe().catch(() => null))?.historyLength;

    // ── Report ─────────────────────────────────────────────────────────────────────────────────
    say('');
    say(`Soak report — ${MINUTES} min of load, ${REPOS} + ${EXTRA_REPOS} repos, ${WORKERS} workers (${((Date.now() - started) / 60_000).toFixed(0)} min in all, load average now ${loadAverage()})`);
    say(`pushes: ${counted.length} sent to live repos (${pushes.length} in all), ${indexed} indexed, ${lost} lost; every repo at its pushed head ${settledS.toFixed(0)} s after the load stopped${lost ? ' — NOT all' : ''}`);
    say(`deliveries Bitbucket gave up on (all 3 attempts failed; the reconcile or a later push covers them): ${gaveUp.length} of ${t.fake.deliveries().length}`);
    say(`5xx on user routes: ${routes.fiveHundreds()}`);
    // The consumer's REST budget (counted in PostgreSQL, so the API's /metrics has every process's calls).
    const text = await fetch(`${t.stack.apiUrl}/metrics`).then((r) => r.text(), () => '');
    const metric = (name: string, labels = '') => text.split('\n').find((l) => l.startsWith(`${name}${labels} `))?.split(' ')[1] ?? '?';
    say(
      `Bitbucket REST calls (BITBUCKET_REST_BUDGET 900/1h): user ${metric('lettuce_bitbucket_rest_calls_total', '{kind="user"}')}, background ${metric('lettuce_bitbucket_rest_calls_total', '{kind="background"}')}; waits for budget ${metric('lettuce_bitbucket_budget_waits_total')}, 429s ${metric('lettuce_bitbucket_rate_limited_total')}`,
    );
    say('routes (requests, p50, p95, statuses):');
    for (const row of routes.rows()) say(row);
    say('memory by process (PSS of the process and its children, MB; the last incarnation of each: first → last, max; least-squares slope over its life after 10 minutes and over its second half):');
    for (const [name, samples] of pss) {
      const lastPid = samples[samples.length - 1].pid;
      const mine = samples.filter((s) => s.pid === lastPid);
      const life = mine[mine.length - 1].t - mine[0].t;
      const fmtSlope = (points: typeof mine) => {
        const slope = slopePerHour(points.map((s) => [s.t, s.mb]));
        return Number.isNaN(slope) ? 'n/a' : `${slope >= 0 ? '+' : ''}${slope.toFixed(1)} MB/h`;
      };
      const settled = life >= 10 * 60_000 ? fmtSlope(mine.filter((s) => s.t - mine[0].t >= 10 * 60_000)) : 'n/a (lived < 10 min)';
      const secondHalf = fmtSlope(mine.filter((s) => s.t - mine[0].t >= life / 2));
      // A process restarted (kill -9) has several lives: the most each one reached, oldest first.
      const lives = [...new Set(samples.map((s) => s.pid))].map((pid) => Math.max(...samples.filter((s) => s.pid === pid).map((s) => s.mb)).toFixed(0));
      say(
        `  ${name.padEnd(10)} ${mine[0].mb.toFixed(0).padStart(5)} → ${mine[mine.length - 1].mb.toFixed(0).padStart(5)}, max ${Math.max(...mine.map((s) => s.mb)).toFixed(0).padStart(5)}, slope ${settled}, second half ${secondHalf}, over ${minutes(life)}${lives.length > 1 ? `; the most of each of its ${lives.length} lives: ${lives.join(', ')}` : ''}`,
      );
    }
    if (goMemory.length > 1) {
      // Since its last restart: the live heap's slope is what a memory limit cannot hide.
      const afterRestart = goMemory.filter((m) => m.pid === goMemory[goMemory.length - 1].pid);
      const line = afterRestart.map((m) => m.liveMb.toFixed(0)).join(' ');
      const slope = (points: typeof afterRestart) => slopePerHour(points.map((m) => [m.t, m.liveMb])).toFixed(1);
      const lastHalf = afterRestart.slice(Math.floor(afterRestart.length / 2));
      say(
        `Temporal server's Go heap (pprof, a sample a minute since its last start): live after GC ${line} MB (slope ${slope(afterRestart)} MB/h, second half ${slope(lastHalf)} MB/h); runtime Sys ${afterRestart[0].sysMb.toFixed(0)} → ${afterRestart[afterRestart.length - 1].sysMb.toFixed(0)} MB; GC CPU share ${(100 * afterRestart[afterRestart.length - 1].gcCpu).toFixed(1)} %; GOMEMLIMIT ${process.env.TEMPORAL_GOMEMLIMIT ?? "compose's default"}`,
      );
    }
    say(`PostgreSQL client connections: min ${Math.min(...connections.map(([, n]) => n))}, max ${Math.max(...connections.map(([, n]) => n))}, last ${connections[connections.length - 1]?.[1]} (max_connections 300)`);
    say(`Temporal history length of the repo workflows: p50 ${pct(lengths, 50)}, max ${Math.max(...lengths)} (${lengths.length} repos); the workspace sync: ${syncLength ?? '?'} events in its current run (one sync cycle per run, then continue-as-new)`);
    say('events:');
    for (const e of events) say(`  ${e}`);
    if (lost > 0) throw new Error(`${lost} pushes lost`);
  } finally {
    await pg.end().catch(() => undefined);
    await t.stop();
  }
}

runBench(main);
