// Reconcile benchmark (`npm run bench:reconcile`): how many reconcile checks one control worker
// sustains on REPOS idle repos (nothing changes, so every check is one ref listing and nothing
// else), what each costs in CPU (the worker with its git children, PostgreSQL, the Temporal
// server) and in calls to Bitbucket, and what that means at the default REPO_RECONCILE_INTERVAL.
// The repos are real Bitbucket repos on the fake, added through the API and indexed; the service
// runs as deployed (API, control worker, indexing worker: separate processes). They are added with
// reconciles an hour apart; then the control worker restarts with an interval short enough to keep
// it saturated, and one push to another branch of each repo (a main-branch hint: one check, which
// brings the worker's new interval) puts every repo on it. Baseline in the same run: the same ref
// listings made directly (mainBranchHead, no Temporal, no database) at the worker's concurrency.
// Figures only.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { freePort } from '../src/dev/processes';
import { bitbucketTokenCredentials } from '../src/git/credentials';
import { mainBranchHead } from '../src/git/repo-sync';
import { startFakeBitbucket, type FakeBitbucket } from '../test/fakes/bitbucket/server';
import { benchEnv, connectedAccount, printReport, requestJson, say, startBenchServers, startNode, startWorkerNode, type Row, runBench } from './support';
import { serviceEnvFor } from '../test/fakes/bitbucket/service-env';

const REPOS = Number(process.env.BENCH_REPOS ?? 1000);
const WINDOW_S = Number(process.env.BENCH_WINDOW_S ?? 30);
/** Short enough that every repo is always due: the worker runs flat out. */
const SATURATING_INTERVAL = '1s';
const DEFAULT_INTERVAL_S = 600;
/** The mean wait between two checks of a repo: jittered between 3/4 and all of the interval. */
const MEAN_INTERVAL_FACTOR = 0.875;
/** The local-activity slots of a worker (the SDK's default): the bare baseline runs at the same concurrency. */
const CONCURRENCY = 100;
const GIT_OPS_PER_HOUR = 60_000; // Bitbucket Cloud, per OAuth consumer (reference §2.8)
const TICKS_PER_SECOND = 100; // /proc's clock ticks (USER_HZ)

async function mapBounded<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

/** CPU seconds a process used, its exited children (git) included, from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // utime, stime, cutime, cstime are fields 14–17 of stat; here 11–14 after "pid (comm) ".
    return fields.slice(11, 15).reduce((n, f) => n + Number(f), 0) / TICKS_PER_SECOND;
  } catch {
    return 0; // the process exited
  }
}

/** PostgreSQL's postmaster (its command line names the bench's data dir) and every backend it forked. */
function postgresPids(dataDir: string): number[] {
  const read = (pid: string, file: string) => {
    try {
      return fs.readFileSync(`/proc/${pid}/${file}`, 'utf8');
    } catch {
      return '';
    }
  };
  const all = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  const master = all.find((pid) => read(pid, 'cmdline').includes(dataDir) && read(pid, 'comm').startsWith('postgres'));
  if (!master) return [];
  return [Number(master), ...all.filter((pid) => new RegExp(`^PPid:\\s+${master}$`, 'm').test(read(pid, 'status'))).map(Number)];
}

/** Worker metrics (Prometheus text): the sum of every series of `name` (a counter, or a histogram's `_sum` / `_count`). */
function metricTotal(text: string, name: string): number {
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `)).reduce((n, l) => n + Number(l.split(' ').pop()), 0);
}

/** Where a check's time goes in the control worker, from Temporal's worker histograms (ms). */
const LATENCIES = {
  'workflow task queued (schedule → start)': 'temporal_workflow_task_schedule_to_start_latency',
  'workflow task run': 'temporal_workflow_task_execution_latency',
  'local activity (the ref listing)': 'temporal_local_activity_execution_latency',
  'workflow task replay (cache misses)': 'temporal_workflow_task_replay_latency',
} as const;

interface Sample {
  at: number;
  checks: number;
  latencies: Record<string, { sum: number; count: number }>;
  listings: number;
  packFetches: number;
  rest: number;
  tokenCalls: number;
  cpu: Record<'worker' | 'postgres' | 'temporal', number>;
}

async function main(): Promise<void> {
  say(`Reconcile bench: ${REPOS} idle Bitbucket repos, REPO_RECONCILE_INTERVAL=${SATURATING_INTERVAL} (saturating), ${WINDOW_S} s windows.`);
  // BENCH_TEMPORAL_STORE=memory runs the Temporal dev server without its SQLite file, to tell its store's share.
  const temporalStore = process.env.BENCH_TEMPORAL_STORE === 'memory' ? 'memory' : 'file';
  const servers = await startBenchServers('reconcile', { temporalStore });
  // No REST rate limit: this bench measures reconciles (git ref listings), and adding its 1,000 repos
  // costs about 3 repository/webhook calls each, three times Bitbucket's 1,000 an hour.
  const fake: FakeBitbucket = await startFakeBitbucket({ authorizeMode: 'auto-approve', restLimit: null });
  const stops: Array<() => Promise<void>> = [servers.stop, () => fake.close()];
  try {
    fake.addUser({ nickname: 'demo', display_name: 'Demo User' });
    fake.setCurrentUser('demo');
    fake.addWorkspace({ slug: 'idle', members: [{ nickname: 'demo', administrator: true }] });
    const names: string[] = [];
    for (let n = 0; n < REPOS; n++) {
      const slug = `repo-${String(n).padStart(4, '0')}`;
      await fake.addRepo({ workspace: 'idle', slug, files: { 'README.md': `# ${slug}\n`, 'src/index.ts': `export const n = ${n};\n` }, owner: 'demo' });
      names.push(`idle/${slug}`);
    }
    say(`  ${REPOS} repos on the fake Bitbucket.`);

    const snapshot = async (pids: { worker: number; temporal: number }, metricsUrl: string): Promise<Sample> => {
      const metrics = await (await fetch(metricsUrl)).text();
      // Every reconcile check is one local activity.
      const checks = metricTotal(metrics, 'temporal_local_activity_total');
      const latencies = Object.fromEntries(Object.entries(LATENCIES).map(([label, name]) => [label, { sum: metricTotal(metrics, `${name}_sum`), count: metricTotal(metrics, `${name}_count`) }]));
      const stats = fake.stats();
      const rest = Object.entries(stats.requests).filter(([k]) => k.includes(' /2.0/')).reduce((n, [, v]) => n + v, 0);
      return {
        at: performance.now(),
        checks,
        latencies,
        listings: stats.gitFetches,
        packFetches: stats.gitPackFetches,
        rest,
        tokenCalls: stats.refreshes + stats.tokenExchanges,
        cpu: {
          worker: cpuSeconds(pids.worker),
          postgres: postgresPids(servers.dir).reduce((n, pid) => n + cpuSeconds(pid), 0),
          temporal: cpuSeconds(pids.temporal),
        },
      };
    };

    // Baseline: the same ref listings, directly, at the worker's concurrency, for one window.
    const credentials = bitbucketTokenCredentials(fake.issueTokens('demo').access_token);
    const bareStarted = performance.now();
    const bareListingsBefore = fake.stats().gitFetches;
    let stopBare = false;
    let cursor = 0;
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
      while (!stopBare) {
        const name = names[cursor++ % names.length];
        await mainBranchHead({ url: `${fake.siteUrl}/${name}.git`, credentials, branch: 'main', timeoutMs: 30_000 });
        if (performance.now() - bareStarted > WINDOW_S * 1000) stopBare = true;
      }
    }));
    const bareSeconds = (performance.now() - bareStarted) / 1000;
    const bareChecks = fake.stats().gitFetches - bareListingsBefore;
    const bareRate = bareChecks / bareSeconds;
    say(`  baseline: ${bareChecks} direct ref listings in ${bareSeconds.toFixed(1)} s.`);

    // The service, as deployed, with every repo due all the time.
    const [port, controlMetrics] = await Promise.all([freePort(), freePort()]);
    const env = benchEnv(servers, { ...serviceEnvFor(fake, port), REPO_RECONCILE_INTERVAL: '1h' });
    const startWorker = async (queue: string, opts: { metricsPort?: number; extra?: Record<string, string> } = {}) => {
      const worker = await startWorkerNode({ ...env, ...opts.extra }, queue, { metricsPort: opts.metricsPort });
      stops.unshift(worker.stop);
      return worker;
    };
    let control = await startWorker('lettuce-control', { metricsPort: controlMetrics });
    await startWorker('lettuce-indexing');
    const svcUrl = `http://127.0.0.1:${port}`;
    const api = await startNode('src/api/main.js', env, `${svcUrl}/healthz`);
    stops.unshift(api.stop);
    fake.setCallbackUrl(`${svcUrl}/v1/integrations/bitbucket/callback`);
    const token = await connectedAccount(svcUrl, `owner-${crypto.randomBytes(3).toString('hex')}@bench.test`);

    const addStarted = performance.now();
    await mapBounded(names, 20, async (name) => {
      const res = await requestJson('POST', `${svcUrl}/v1/repos`, token, { bitbucket: name });
      if (res.status !== 202) throw new Error(`add ${name}: ${res.status} ${JSON.stringify(res.body)}`);
    });
    for (;;) {
      const repos = (await requestJson('GET', `${svcUrl}/v1/repos`, token)).body.repos as Array<{ status: string }>;
      const ready = repos.filter((r) => r.status === 'ready').length;
      if (ready === REPOS) break;
      if (repos.some((r) => r.status === 'failed')) throw new Error('a repo failed to index');
      if (performance.now() - addStarted > 30 * 60_000) throw new Error(`only ${ready} of ${REPOS} repos ready after 30 minutes`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    say(`  ${REPOS} repos added and ready in ${((performance.now() - addStarted) / 1000).toFixed(0)} s.`);

    // The control worker again, now with every repo always due; a hint push per repo moves each onto it.
    await control.stop();
    control = await startWorker('lettuce-control', { metricsPort: controlMetrics, extra: { REPO_RECONCILE_INTERVAL: SATURATING_INTERVAL } });
    await mapBounded(names, 20, async (name) => {
      const [ws, slug] = name.split('/');
      const head = await fake.headOf(ws, slug);
      await fake.deliverChanges(ws, slug, [{ branch: 'bench-hint', oldHash: null, newHash: head }]);
    });
    say('  every repo hinted; measuring idle reconciles.');

    const pids = { worker: control.child.pid!, temporal: servers.temporal!.pid };
    const metricsUrl = control.metricsUrl;
    await new Promise((r) => setTimeout(r, 10_000)); // let the onboarding's tail settle
    const before = await snapshot(pids, metricsUrl);
    await new Promise((r) => setTimeout(r, WINDOW_S * 1000));
    const after = await snapshot(pids, metricsUrl);
    const seconds = (after.at - before.at) / 1000;
    const checks = after.checks - before.checks;
    const rate = checks / seconds;
    const perCheckMs = (part: keyof Sample['cpu']) => ((after.cpu[part] - before.cpu[part]) / checks) * 1000;
    const cpuMs = { worker: perCheckMs('worker'), postgres: perCheckMs('postgres'), temporal: perCheckMs('temporal') };
    const totalMs = cpuMs.worker + cpuMs.postgres + cpuMs.temporal;
    const workerCores = (after.cpu.worker - before.cpu.worker) / seconds;

    const defaultRate = REPOS / (DEFAULT_INTERVAL_S * MEAN_INTERVAL_FACTOR);
    const checksPerRepoHour = 3600 / (DEFAULT_INTERVAL_S * MEAN_INTERVAL_FACTOR);
    const perWorkerAtDefault = Math.floor(rate * DEFAULT_INTERVAL_S * MEAN_INTERVAL_FACTOR);
    const perConsumerAtDefault = Math.floor(GIT_OPS_PER_HOUR / 2 / checksPerRepoHour);
    const rows: Row[] = [
      { figure: `reconcile checks per second, one control worker, ${REPOS} idle repos`, value: rate.toFixed(0), baseline: `${bareRate.toFixed(0)} bare ref listings/s`, ratio: (rate / bareRate).toFixed(2) },
      { figure: 'CPU per check: worker (node + its git) / PostgreSQL / Temporal', value: `${cpuMs.worker.toFixed(2)} / ${cpuMs.postgres.toFixed(2)} / ${cpuMs.temporal.toFixed(2)} ms`, baseline: `${totalMs.toFixed(2)} ms in all` },
      { figure: 'control worker CPU while saturated', value: `${(workerCores * 100).toFixed(0)}% of a core` },
      { figure: 'Bitbucket calls per check: git ref listings / REST / token endpoint', value: `${((after.listings - before.listings) / checks).toFixed(2)} / ${((after.rest - before.rest) / checks).toFixed(3)} / ${((after.tokenCalls - before.tokenCalls) / checks).toFixed(3)}` },
      { figure: 'objects fetched while idle (clones/fetches)', value: String(after.packFetches - before.packFetches), target: '0', met: after.packFetches === before.packFetches },
      { figure: `at the default interval (10m): checks/s for ${REPOS} repos, and their CPU`, value: `${defaultRate.toFixed(2)}/s, ${((defaultRate * totalMs) / 10).toFixed(2)}% of a core` },
      { figure: 'largest deployment at 10m: one control worker / one OAuth consumer (half of its 60,000 git ops/h)', value: `${perWorkerAtDefault.toLocaleString('en-US')} / ${perConsumerAtDefault.toLocaleString('en-US')} repos` },
    ];
    for (const label of Object.keys(LATENCIES)) {
      const count = after.latencies[label].count - before.latencies[label].count;
      const mean = count > 0 ? (after.latencies[label].sum - before.latencies[label].sum) / count : 0;
      rows.push({ figure: `  profile: ${label}, mean`, value: count > 0 ? `${mean.toFixed(1)} ms × ${(count / checks).toFixed(2)} per check` : 'none' });
    }
    printReport(`Reconcile (Temporal dev server, ${temporalStore === 'memory' ? 'in-memory store' : 'SQLite store'})`, rows, [
      `checks = the control worker's local activities (temporal_local_activity_total) in a ${seconds.toFixed(0)} s window; CPU from /proc (the worker's exited git children included).`,
      `a repo is checked every ${MEAN_INTERVAL_FACTOR} × interval on average (jitter 0.75–1.0), i.e. ${checksPerRepoHour.toFixed(1)} git ops per repo per hour at 10m.`,
    ]);
  } finally {
    for (const stop of stops) await stop().catch(() => undefined);
  }
}

runBench(main);
