// Webhook receiver benchmark (`npm run bench:webhooks`): signed `repo:push` deliveries (each with
// its own X-Request-UUID, spread over REPOS repos of one account) driven by autocannon against the
// real API process (signature check, repo lookup, the batched delivery record that also catches
// redeliveries; its dispatcher signals the repo workflows in Temporal meanwhile) — and, in the
// same run with the same load, in alternating rounds, against a bare Koa handler that only
// verifies the signature (the baseline). Prints deliveries/s, p50/p99 latency, the ratio, and how
// long the accepted pushes took to reach their workflows (received → signalled). Its own
// PostgreSQL and Temporal dev server; no workers run, so the workflows only collect the signals.
// Figures only.
import crypto from 'node:crypto';
import autocannon from 'autocannon';
import { createAccount } from '../src/accounts/accounts';
import type { DataSource } from 'typeorm';
import { openDatabase } from '../src/db/data-source';
import { freePort } from '../src/dev/processes';
import { SecretBox } from '../src/security/secret-box';
import { benchEnv, fmtMs, median, printReport, say, startBenchServers, startNode, type Row, runBench } from './support';

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

function pushBody(fullName: string, uuid: string): string {
  const hash = crypto.randomBytes(20).toString('hex');
  const old = crypto.randomBytes(20).toString('hex');
  const actor = { type: 'user', display_name: 'Bench User', uuid: '{b0b0b0b0-0000-4000-8000-000000000000}', nickname: 'bench' };
  const commit = (h: string) => ({ type: 'commit', hash: h, message: 'bench commit\n', date: new Date().toISOString(), author: { type: 'author', raw: 'Bench <bench@example.test>', user: actor }, links: { html: { href: `https://bitbucket.org/${fullName}/commits/${h}` } } });
  return JSON.stringify({
    actor,
    repository: { type: 'repository', full_name: fullName, name: fullName.split('/')[1], uuid, is_private: true, scm: 'git', owner: actor, workspace: { type: 'workspace', slug: fullName.split('/')[0] }, links: { html: { href: `https://bitbucket.org/${fullName}` } } },
    push: {
      changes: [
        {
          old: { type: 'branch', name: 'main', target: commit(old) },
          new: { type: 'branch', name: 'main', target: commit(hash) },
          created: false,
          closed: false,
          forced: false,
          truncated: false,
          commits: [commit(hash)],
          links: { html: { href: `https://bitbucket.org/${fullName}/branches/compare/${hash}..${old}` } },
        },
      ],
    },
  });
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

function medianFigures(runs: Array<ReturnType<typeof figures>>): ReturnType<typeof figures> {
  const m = (key: 'rps' | 'p50' | 'p99') => median(runs.map((r) => r[key]));
  const sum = (key: 'ok' | 'non2xx' | 'errors') => runs.reduce((n, r) => n + r[key], 0);
  return { rps: m('rps'), p50: m('p50'), p99: m('p99'), ok: sum('ok'), non2xx: sum('non2xx'), errors: sum('errors') };
}

function figures(r: autocannon.Result) {
  const ok = r['2xx'];
  return { rps: ok / (r.duration || DURATION_S), p50: r.latency.p50, p99: r.latency.p99, ok, non2xx: r.non2xx, errors: r.errors + r.timeouts };
}

async function main(): Promise<void> {
  say(`Webhook receiver bench: ${REPOS} repos, ${CONNECTIONS} connections, ${ROUNDS} × ${DURATION_S} s per side (after a ${WARMUP_S} s warm-up).`);
  const servers = await startBenchServers('webhooks');
  const stops: Array<() => Promise<void>> = [servers.stop];
  try {
    const [apiPort, barePort] = await Promise.all([freePort(), freePort()]);
    const env = benchEnv(servers, { PORT: String(apiPort), CODEWAZE_PUBLIC_URL: `http://127.0.0.1:${apiPort}` });

    // One account, REPOS Bitbucket repos (rows as the add-repo flow writes them).
    const ds = await openDatabase(servers.pg.url);
    const box = new SecretBox(Buffer.from(env.TOKEN_ENCRYPTION_KEY, 'base64'));
    const { account } = await createAccount(ds, box, { name: 'Bench', ownerEmail: 'bench@example.test' });
    const secret = box.open(account.webhookSecret);
    const deliveries: Delivery[] = [];
    for (let n = 0; n < REPOS; n++) {
      const fullName = `bench/repo-${String(n).padStart(3, '0')}`;
      const uuid = `{${crypto.randomUUID()}}`;
      await ds.query(
        `INSERT INTO repos (account_id, source, source_key, name, clone_url, bitbucket_workspace, bitbucket_slug, bitbucket_uuid, is_private, default_branch, status, webhook_status)
         VALUES ($1, 'bitbucket', $2, $3, $4, 'bench', $5, $6, true, 'main', 'ready', 'active')`,
        [account.id, `bitbucket:${fullName}`, fullName, `http://127.0.0.1:1/${fullName}.git`, fullName.split('/')[1], uuid],
      );
      for (let k = 0; k < 4; k++) {
        const body = pushBody(fullName, uuid);
        deliveries.push({ path: `/v1/webhooks/bitbucket/${account.id}`, body, signature: `sha256=${crypto.createHmac('sha256', secret).update(body).digest('hex')}` });
      }
    }

    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const bareUrl = `http://127.0.0.1:${barePort}`;
    // BENCH_CPU_PROF=<dir>: the API process writes a V8 CPU profile there (open it in Chrome DevTools).
    const profDir = process.env.BENCH_CPU_PROF;
    const api = await startNode('src/api/main.js', env, `${apiUrl}/healthz`, { nodeArgs: profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [] });
    stops.unshift(api.stop);
    const bare = await startNode('bench/bare-receiver.js', { PORT: String(barePort), WEBHOOK_SECRET: secret }, `${bareUrl}/`);
    stops.unshift(bare.stop);

    // Alternating rounds (bare, receiver, bare, …) and medians, so a neighbour's load on this
    // shared machine falls on both sides rather than on whichever ran second.
    const accepted = async () => Number((await ds.query(`SELECT count(*) AS n FROM webhook_deliveries WHERE outcome = 'accepted'`))[0].n);
    await hammer(bareUrl, deliveries, WARMUP_S);
    await hammer(apiUrl, deliveries, WARMUP_S);
    const bareRuns: Array<ReturnType<typeof figures>> = [];
    const apiRuns: Array<ReturnType<typeof figures>> = [];
    const drains: number[] = [];
    let recorded = 0;
    for (let round = 0; round < ROUNDS; round++) {
      await drain(ds);
      bareRuns.push(figures(await hammer(bareUrl, deliveries, DURATION_S)));
      const before = await accepted();
      apiRuns.push(figures(await hammer(apiUrl, deliveries, DURATION_S)));
      const loadEnded = Date.now();
      recorded += (await accepted()) - before;
      await drain(ds); // every accepted push must reach its workflow
      drains.push(Date.now() - loadEnded);
    }
    const baseline = medianFigures(bareRuns);
    const receiver = medianFigures(apiRuns);
    const drainedMs = median(drains);
    const [lag] = await ds.query(
      `SELECT count(*) FILTER (WHERE dispatched_at IS NULL)::int AS waiting,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM dispatched_at - received_at)) * 1000 AS p50,
              percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM dispatched_at - received_at)) * 1000 AS p99
         FROM webhook_deliveries WHERE outcome = 'accepted'`,
    );
    await ds.destroy();

    const ratio = receiver.rps / baseline.rps;
    const rows: Row[] = [
      { figure: 'deliveries/s (202 accepted)', value: receiver.rps.toFixed(0), target: '>= 1000', baseline: `${baseline.rps.toFixed(0)} (bare Koa + HMAC)`, ratio: ratio.toFixed(2), met: receiver.rps >= 1000 },
      { figure: 'latency p50', value: fmtMs(receiver.p50), baseline: fmtMs(baseline.p50) },
      { figure: 'latency p99', value: fmtMs(receiver.p99), target: '<= 50 ms', baseline: fmtMs(baseline.p99), met: receiver.p99 <= 50 },
      { figure: 'throughput ratio receiver / bare', value: ratio.toFixed(2), target: '>= 0.5', met: ratio >= 0.5 },
      { figure: 'non-2xx answers / errors', value: `${receiver.non2xx} / ${receiver.errors}`, baseline: `${baseline.non2xx} / ${baseline.errors}`, met: receiver.non2xx === 0 && receiver.errors === 0 },
      { figure: 'accepted deliveries recorded', value: `${recorded} for ${receiver.ok} answered 202`, met: recorded >= receiver.ok },
      { figure: 'pushes still waiting for their signal', value: String(lag.waiting), target: '0', met: lag.waiting === 0 },
      { figure: 'record → workflow signalled, p50 / p99', value: `${fmtMs(Number(lag.p50))} / ${fmtMs(Number(lag.p99))}` },
      { figure: 'all signalled after the load ended (median)', value: `${fmtMs(drainedMs)} later` },
    ];
    printReport('Webhook receiver', rows, [
      `${CONNECTIONS} connections, ${REPOS} repos; ${ROUNDS} alternating rounds of ${DURATION_S} s per side, medians; each delivery a new X-Request-UUID (none is a duplicate).`,
      `per round, receiver deliveries/s: ${apiRuns.map((r) => r.rps.toFixed(0)).join(', ')}; bare: ${bareRuns.map((r) => r.rps.toFixed(0)).join(', ')}`,
    ]);
  } finally {
    for (const stop of stops) await stop().catch(() => undefined);
  }
}

runBench(main);
