// Webhook receiver benchmark (`npm run bench:webhooks`). REPOS Bitbucket repos on the fake
// Bitbucket are added through the real service (API, control worker, indexing worker, each its
// own process, LOG_LEVEL=info as in production) and indexed; then the workers stop, every repo
// gets a new commit, and the fake sends one real signed `repo:push` per repo. Those bodies, each
// with a fresh X-Request-UUID, are the load: autocannon with CONNECTIONS keep-alive clients,
// in alternating rounds against the real API (signature, repo lookup, the batched INSERT whose
// commit every answer waits for; its dispatcher signals the repo workflows meanwhile) and against
// two bare servers that only verify the signature (node:http, the goal's baseline; Koa, the
// baseline before). Afterwards the workers start again and every repo must reach its pushed head:
// no accepted push may be lost. Printed: deliveries/s, p50/p99, the ratio, CPU per delivery by
// process, the receiver's CPU profile by category (a separate profiled round), and each per-
// delivery cost the lean path removed, measured one by one. Figures only.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import type { DataSource } from 'typeorm';
import { openDatabase } from '../src/db/data-source';
import { freePort } from '../src/dev/processes';
import { startFakeBitbucket, type FakeBitbucket } from '../test/fakes/bitbucket/server';
import { summarizeCpuProfile } from './cpu-profile';
import { benchEnv, connectedAccount, cpuSecondsOf, fmtMs, loadAverage, median, postgresPid, printReport, requestJson, REST_CALLS_PER_REPO_ADD, restLimitFor, say, startBenchServers, startNode, startWorkerNode, type Row, runBench } from './support';
import { serviceEnvFor } from '../test/fakes/bitbucket/service-env';
import { measureCosts, measureInsertCosts } from './webhook-costs';

const REPOS = Number(process.env.BENCH_REPOS ?? 50);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const DURATION_S = Number(process.env.BENCH_DURATION ?? 10);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WARMUP_S = 3;

interface Delivery {
  path: string;
  body: string;
  signature: string;
}

type Side = 'http' | 'koa' | 'receiver';

interface RoundFigures {
  rps: number;
  p50: number;
  p99: number;
  ok: number;
  non2xx: number;
  errors: number;
  /** CPU µs per answered delivery: the server, and every process of the run together. */
  serverUs: number;
  loadGenUs: number;
  postgresUs: number;
  temporalUs: number;
  load: number;
}

async function hammer(url: string, deliveries: Delivery[], seconds: number): Promise<autocannon.Result> {
  let i = 0;
  return autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        setupRequest: (req) => {
          const d = deliveries[i++ % deliveries.length];
          return {
            ...req,
            path: d.path,
            body: d.body,
            headers: {
              'content-type': 'application/json',
              'user-agent': 'Bitbucket-Webhooks/2.0',
              'x-event-key': 'repo:push',
              'x-request-uuid': crypto.randomUUID(),
              'x-attempt-number': '1',
              'x-hub-signature': d.signature,
            },
          };
        },
      },
    ],
  });
}

/** Waits until the dispatcher has signalled every accepted push (at most 2 minutes). */
async function drain(ds: DataSource): Promise<void> {
  for (let waited = 0; waited < 120_000; waited += 100) {
    const [{ n }] = await ds.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE outcome = 'accepted' AND dispatched_at IS NULL`);
    if (n === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Polls the API until every repo is ready at the head `expected` names (or the time is up). */
async function waitForHeads(apiUrl: string, token: string, expected: Map<string, string>, timeoutMs: number): Promise<{ atHead: number; ms: number }> {
  const started = Date.now();
  let atHead = 0;
  while (Date.now() - started < timeoutMs) {
    const repos: any[] = (await requestJson('GET', `${apiUrl}/v1/repos`, token)).body.repos;
    atHead = repos.filter((r) => r.status === 'ready' && r.lastIndexedCommit === expected.get(r.name)).length;
    if (atHead === expected.size) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  return { atHead, ms: Date.now() - started };
}

function medianOf(runs: RoundFigures[]): RoundFigures {
  const m = (key: keyof RoundFigures) => median(runs.map((r) => r[key]));
  const sum = (key: 'ok' | 'non2xx' | 'errors') => runs.reduce((n, r) => n + r[key], 0);
  return { rps: m('rps'), p50: m('p50'), p99: m('p99'), ok: sum('ok'), non2xx: sum('non2xx'), errors: sum('errors'), serverUs: m('serverUs'), loadGenUs: m('loadGenUs'), postgresUs: m('postgresUs'), temporalUs: m('temporalUs'), load: m('load') };
}

const us = (n: number) => `${n.toFixed(n < 10 ? 1 : 0)} µs`;

async function setUpRepos(fake: FakeBitbucket): Promise<string[]> {
  fake.addUser({ nickname: 'bench', display_name: 'Bench User' });
  fake.setCurrentUser('bench');
  fake.addWorkspace({ slug: 'bench', members: [{ nickname: 'bench', administrator: true }] });
  const names: string[] = [];
  for (let n = 0; n < REPOS; n++) {
    const slug = `repo-${String(n).padStart(3, '0')}`;
    const files: Record<string, string> = { 'README.md': `# ${slug}\n` };
    for (let i = 0; i < 5; i++) files[`src/file${i}.ts`] = `export const value${i} = ${n * 10 + i};\n`;
    await fake.addRepo({ workspace: 'bench', slug, files, owner: 'bench' });
    names.push(`bench/${slug}`);
  }
  return names;
}

async function main(): Promise<void> {
  say(`Webhook receiver bench: ${REPOS} repos, ${CONNECTIONS} connections, ${ROUNDS} alternating rounds × ${DURATION_S} s per side (after ${WARMUP_S} s warm-ups). Load average (1/5/15 min): ${loadAverage()}.`);
  const servers = await startBenchServers('webhooks');
  // Not a rate-limit bench: Bitbucket's limit while the REPOS adds fit in it (the default 50 do), off beyond.
  const fake = await startFakeBitbucket({ authorizeMode: 'auto-approve', restLimit: restLimitFor(REPOS * REST_CALLS_PER_REPO_ADD) });
  const stops: Array<() => Promise<void>> = [servers.stop, () => fake.close()];
  try {
    const names = await setUpRepos(fake);
    const [apiPort, httpPort, koaPort] = await Promise.all([freePort(), freePort(), freePort()]);
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const env = benchEnv(servers, {
      ...serviceEnvFor(fake, apiPort),
      REPO_RECONCILE_INTERVAL: '0', // only a delivered push can move a repo to its new head
      LOG_LEVEL: 'info',
    });
    const ds = await openDatabase(servers.pg.url);
    const pgPid = postgresPid(servers);

    // The service as deployed; connect Bitbucket, add and index every repo.
    const startWorkers = async () => {
      const workers: Array<{ stop(): Promise<void> }> = [];
      for (const queue of ['lettuce-control', 'lettuce-indexing']) workers.push(await startWorkerNode(env, queue));
      return async () => {
        for (const w of workers) await w.stop();
      };
    };
    let stopWorkers: (() => Promise<void>) | null = await startWorkers();
    stops.unshift(() => stopWorkers?.() ?? Promise.resolve());
    let api = await startNode('src/api/main.js', env, `${apiUrl}/healthz`);
    stops.unshift(() => api.stop());
    fake.setCallbackUrl(`${apiUrl}/v1/integrations/bitbucket/callback`);
    const token = await connectedAccount(apiUrl, 'bench@example.test');
    const accountId = (await requestJson('GET', `${apiUrl}/v1/me`, token)).body.account.id as string;
    for (let i = 0; i < names.length; i += 10) {
      const added = await Promise.all(names.slice(i, i + 10).map((name) => requestJson('POST', `${apiUrl}/v1/repos`, token, { bitbucket: name })));
      const bad = added.find((a) => a.status !== 202);
      if (bad) throw new Error(`add failed: ${JSON.stringify(bad.body)}`);
    }
    const heads0 = new Map<string, string>();
    for (const name of names) heads0.set(name, (await fake.headOf('bench', name.split('/')[1]))!);
    const indexed = await waitForHeads(apiUrl, token, heads0, 5 * 60_000);
    if (indexed.atHead !== names.length) throw new Error(`only ${indexed.atHead} of ${names.length} repos got ready`);

    // Workers off: the load measures the receiver, and the pushes wait for the restart below.
    await stopWorkers();
    stopWorkers = null;
    const heads1 = new Map<string, string>();
    const deliveries: Delivery[] = [];
    for (const name of names) {
      const slug = name.split('/')[1];
      heads1.set(name, await fake.commit('bench', slug, { 'src/pushed.ts': `export const pushed = '${crypto.randomUUID()}';\n` }, { message: 'A pushed commit\n\nWith a body, as commits have.' }));
      const [real] = await fake.deliverPush('bench', slug);
      if (real.status !== 202) throw new Error(`the real delivery for ${name} got ${real.status}`);
      const hook = fake.hooksOf('bench', slug)[0];
      deliveries.push({ path: new URL(hook.url).pathname, body: real.body, signature: `sha256=${crypto.createHmac('sha256', hook.secret!).update(real.body).digest('hex')}` });
    }
    const secret = fake.hooksOf('bench', names[0].split('/')[1])[0].secret!;

    const bareHttp = await startNode('bench/bare-receiver.js', { PORT: String(httpPort), WEBHOOK_SECRET: secret, BARE: 'http' }, `http://127.0.0.1:${httpPort}/`);
    stops.unshift(bareHttp.stop);
    const bareKoa = await startNode('bench/bare-receiver.js', { PORT: String(koaPort), WEBHOOK_SECRET: secret, BARE: 'koa' }, `http://127.0.0.1:${koaPort}/`);
    stops.unshift(bareKoa.stop);
    const targets: Record<Side, { url: string; pid: () => number }> = {
      http: { url: `http://127.0.0.1:${httpPort}`, pid: () => bareHttp.child.pid! },
      koa: { url: `http://127.0.0.1:${koaPort}`, pid: () => bareKoa.child.pid! },
      receiver: { url: apiUrl, pid: () => api.child.pid! },
    };
    const accepted = async () => Number((await ds.query(`SELECT count(*) AS n FROM webhook_deliveries WHERE outcome = 'accepted'`))[0].n);

    const round = async (side: Side, seconds: number): Promise<RoundFigures> => {
      const pid = targets[side].pid();
      const before = { server: cpuSecondsOf(pid), me: process.cpuUsage(), pg: cpuSecondsOf(pgPid), temporal: cpuSecondsOf(servers.temporal!.pid) };
      const r = await hammer(targets[side].url, deliveries, seconds);
      const me = process.cpuUsage(before.me);
      const ok = r['2xx'];
      const per = (seconds: number) => (seconds * 1e6) / Math.max(1, ok);
      return {
        rps: ok / (r.duration || seconds),
        p50: r.latency.p50,
        p99: r.latency.p99,
        ok,
        non2xx: r.non2xx,
        errors: r.errors + r.timeouts,
        serverUs: per(cpuSecondsOf(pid) - before.server),
        loadGenUs: per((me.user + me.system) / 1e6),
        postgresUs: per(cpuSecondsOf(pgPid) - before.pg),
        temporalUs: per(cpuSecondsOf(servers.temporal!.pid) - before.temporal),
        load: os.loadavg()[0],
      };
    };

    // Alternating rounds (node:http, Koa, receiver, …) and medians, so a neighbour's load on this
    // shared machine falls on every side rather than on whichever ran last.
    for (const side of ['http', 'koa', 'receiver'] as const) await hammer(targets[side].url, deliveries, WARMUP_S);
    const runs: Record<Side, RoundFigures[]> = { http: [], koa: [], receiver: [] };
    const drains: number[] = [];
    let recorded = 0;
    for (let n = 0; n < ROUNDS; n++) {
      await drain(ds);
      runs.http.push(await round('http', DURATION_S));
      runs.koa.push(await round('koa', DURATION_S));
      const before = await accepted();
      runs.receiver.push(await round('receiver', DURATION_S));
      const loadEnded = Date.now();
      recorded += (await accepted()) - before;
      await drain(ds); // every accepted push must reach its workflow
      drains.push(Date.now() - loadEnded);
    }
    const [bareH, bareK, receiver] = [medianOf(runs.http), medianOf(runs.koa), medianOf(runs.receiver)];
    const answered = runs.receiver.reduce((n, r) => n + r.ok, 0);

    // A profiled round of its own (the profiler costs a little, so it is not one of the measured rounds).
    const profDir = process.env.BENCH_CPU_PROF ?? fs.mkdtempSync(path.join(servers.dir, 'prof-'));
    await api.stop();
    const profiled = await startNode('src/api/main.js', env, `${apiUrl}/healthz`, { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`] });
    api = profiled;
    const countBefore = Number((await ds.query(`SELECT count(*) AS n FROM webhook_deliveries`))[0].n);
    const cpuBefore = cpuSecondsOf(api.child.pid!);
    await hammer(apiUrl, deliveries, WARMUP_S + DURATION_S);
    await drain(ds);
    const profiledCpu = cpuSecondsOf(api.child.pid!) - cpuBefore;
    await api.stop();
    const profiledDeliveries = Number((await ds.query(`SELECT count(*) AS n FROM webhook_deliveries`))[0].n) - countBefore;
    const profileFile = fs.readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(profDir, f)).sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs)[0];
    const profile = summarizeCpuProfile(profileFile, /dist\/src\/api\/routes\/webhooks\.js/);

    // The removed (and kept) costs, one by one, with nothing else running.
    const sample = Buffer.from(deliveries[0].body);
    const costs = await measureCosts(sample, secret, deliveries[0].path);
    const [{ id: repoId }] = await ds.query(`SELECT id FROM repos WHERE account_id = $1 LIMIT 1`, [accountId]);
    costs.push(await measureInsertCosts(ds, pgPid, accountId, repoId));

    // Workers back: every repo must reach the head its pushes announced.
    api = await startNode('src/api/main.js', env, `${apiUrl}/healthz`);
    stopWorkers = await startWorkers();
    const caughtUp = await waitForHeads(apiUrl, token, heads1, 5 * 60_000);
    const [lag] = await ds.query(
      `SELECT count(*) FILTER (WHERE dispatched_at IS NULL)::int AS waiting,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM dispatched_at - received_at)) * 1000 AS p50,
              percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM dispatched_at - received_at)) * 1000 AS p99
         FROM webhook_deliveries WHERE outcome = 'accepted'`,
    );
    await ds.destroy();

    const ratio = receiver.rps / bareH.rps;
    const rows: Row[] = [
      { figure: 'deliveries/s (202 accepted, each durable first)', value: receiver.rps.toFixed(0), target: '>= 0.5 × bare node:http', baseline: `${bareH.rps.toFixed(0)} bare node:http + HMAC; ${bareK.rps.toFixed(0)} bare Koa + HMAC + JSON`, ratio: ratio.toFixed(2), met: ratio >= 0.5 },
      { figure: 'latency p50', value: fmtMs(receiver.p50), baseline: `${fmtMs(bareH.p50)}; ${fmtMs(bareK.p50)}` },
      { figure: 'latency p99', value: fmtMs(receiver.p99), target: '<= 25 ms', baseline: `${fmtMs(bareH.p99)}; ${fmtMs(bareK.p99)}`, met: receiver.p99 <= 25 },
      { figure: 'throughput ratio receiver / bare Koa', value: (receiver.rps / bareK.rps).toFixed(2) },
      { figure: 'non-2xx answers / errors', value: `${receiver.non2xx} / ${receiver.errors}`, baseline: `${bareH.non2xx} / ${bareH.errors}; ${bareK.non2xx} / ${bareK.errors}`, met: receiver.non2xx === 0 && receiver.errors === 0 },
      { figure: 'accepted deliveries recorded', value: `${recorded} for ${answered} answered 202`, met: recorded >= answered },
      { figure: 'pushes still waiting for their signal', value: String(lag.waiting), target: '0', met: lag.waiting === 0 },
      { figure: 'repos at their pushed head once workers run again', value: `${caughtUp.atHead} / ${names.length} (after ${(caughtUp.ms / 1000).toFixed(1)} s)`, target: 'all', met: caughtUp.atHead === names.length },
      { figure: 'record → workflow signalled, p50 / p99', value: `${fmtMs(Number(lag.p50))} / ${fmtMs(Number(lag.p99))}` },
      { figure: 'all signalled after the load ended (median)', value: `${fmtMs(median(drains))} later` },
      { figure: 'CPU per delivery: the server process', value: us(receiver.serverUs), baseline: `${us(bareH.serverUs)}; ${us(bareK.serverUs)}` },
      { figure: 'CPU per delivery: PostgreSQL / Temporal', value: `${us(receiver.postgresUs)} / ${us(receiver.temporalUs)}`, baseline: `${us(bareH.postgresUs)} / ${us(bareH.temporalUs)} (idle)` },
      { figure: 'CPU per delivery: load generator (autocannon)', value: us(receiver.loadGenUs), baseline: `${us(bareH.loadGenUs)}; ${us(bareK.loadGenUs)}` },
    ];
    // The sampled times include the time the process waited for a core (the machine is shared), so
    // each category's share is applied to the CPU time the process really used in that round.
    const busyMs = profile.categories.reduce((n, c) => n + c.ms, 0);
    const cpuPerDelivery = (profiledCpu * 1e6) / Math.max(1, profiledDeliveries);
    const perDelivery = (ms: number) => (cpuPerDelivery * ms) / busyMs;
    printReport('Webhook receiver', rows, [
      `${CONNECTIONS} connections, ${REPOS} repos; ${ROUNDS} alternating rounds of ${DURATION_S} s per side, medians; each delivery a real push body (${sample.length} bytes) with a new X-Request-UUID.`,
      `per round, deliveries/s — receiver: ${runs.receiver.map((r) => r.rps.toFixed(0)).join(', ')}; bare node:http: ${runs.http.map((r) => r.rps.toFixed(0)).join(', ')}; bare Koa: ${runs.koa.map((r) => r.rps.toFixed(0)).join(', ')}`,
      `load average (1 min) during the rounds — receiver: ${runs.receiver.map((r) => r.load.toFixed(1)).join(', ')}; node:http: ${runs.http.map((r) => r.load.toFixed(1)).join(', ')}; Koa: ${runs.koa.map((r) => r.load.toFixed(1)).join(', ')}; now ${loadAverage()} (2 cores).`,
      '',
      `Receiver CPU profile (a profiled round of ${WARMUP_S + DURATION_S} s, ${profiledDeliveries} deliveries, ${us(cpuPerDelivery)} of CPU each; self time by category, as shares of that):`,
      ...profile.categories.map((c) => `  ${us(perDelivery(c.ms)).padStart(9)}  ${((100 * c.ms) / busyMs).toFixed(1).padStart(5)}%  ${c.name}`),
      `  busiest functions: ${profile.top.slice(0, 8).map((f) => `${f.name.split(' ')[0]} ${us(perDelivery(f.ms))}`).join(', ')}`,
      `  (profile: ${profileFile})`,
      '',
      'Per-delivery costs a bare server does not have, measured one by one in this process (CPU µs per delivery, before → now):',
      `  Koa app, one router, context and body handling: ${us(bareK.serverUs - bareH.serverUs)} (bare Koa − bare node:http, CPU per request, JSON.parse included) → 0 (deliveries skip Koa)`,
      ...costs.map((c) => `  ${c.what}: ${us(c.before)} → ${us(c.after)}${c.note ? ` (${c.note})` : ''}`),
    ]);
  } finally {
    for (const stop of stops) await stop().catch(() => undefined);
  }
}

runBench(main);
