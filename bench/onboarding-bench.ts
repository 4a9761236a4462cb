// Onboarding benchmark (`npm run bench:onboarding`): REPOS repos added at once (concurrent
// POST /v1/repos) on the fake Bitbucket, through the real service laid out as docker-compose.yml
// deploys it — the API, a control worker and an indexing worker, each its own process — with its
// own PostgreSQL and Temporal dev server. Prints the time until every repo is ready and, per
// repo from its workflow's history, the orchestration overhead: the time from the add request to
// ready minus what the clone+index activity itself took and minus its wait for a free indexing
// slot (capacity, not orchestration) — i.e. the API's add, registration, the webhook, and every
// workflow/activity hand-off. The baseline, in the same run: the same clones and indexes done
// directly (syncRepo + indexCommit, two at a time like the indexing worker), no API or Temporal.
// Figures only.
import crypto from 'node:crypto';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { openDatabase } from '../src/db/data-source';
import { freePort } from '../src/dev/processes';
import { bitbucketTokenCredentials } from '../src/git/credentials';
import { syncRepo } from '../src/git/repo-sync';
import { indexCommit } from '../src/indexer';
import { startFakeBitbucket } from '../test/fakes/bitbucket/server';
import { benchEnv, connectedAccount, eventTime, fakeBitbucketEnv, fmtMs, median, pct, printReport, requestJson, say, startBenchServers, startNode, type Row, runBench } from './support';

const REPOS = Number(process.env.BENCH_REPOS ?? 50);
const FILES_PER_REPO = Number(process.env.BENCH_FILES ?? 40);
const INDEX_SLOTS = 2; // the indexing worker's maxConcurrentActivityTaskExecutions

function repoFiles(n: number): Record<string, string> {
  const files: Record<string, string> = { 'README.md': `# repo ${n}\n\nOnboarding bench.\n` };
  for (let i = 0; i < FILES_PER_REPO; i++) {
    files[`src/mod${i % 5}/file${i}.ts`] = `export interface Thing${i} { id: number; name: string }\n\nexport function make${i}(id: number): Thing${i} {\n  return { id, name: 'thing-${n}-${i}' };\n}\n`;
  }
  return files;
}

interface Timeline {
  started: number;
  indexScheduled: number;
  indexStarted: number;
  indexCompleted: number;
  register: number;
  webhook: number;
  /** Before the index was scheduled: workflow tasks waiting for a worker, and being run by it. */
  taskQueued: number;
  taskRun: number;
  /** registerRepo and ensureWebhook waiting for a worker (scheduled → started). */
  activityQueued: number;
}

/** Event times of a repo workflow's history (ms since epoch). */
async function timelineOf(client: Client, workflowId: string): Promise<Timeline> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const t = eventTime;
  const scheduled = new Map<string, { type: string; at: number }>();
  const started = new Map<string, number>();
  const tl: Partial<Timeline> = { register: 0, webhook: 0, taskQueued: 0, taskRun: 0, activityQueued: 0 };
  let taskScheduled = 0;
  let taskStarted = 0;
  for (const e of history.events ?? []) {
    const id = String(e.eventId);
    const beforeIndex = tl.indexScheduled === undefined && ![...scheduled.values()].some((a) => a.type === 'syncAndIndex');
    if (beforeIndex && e.workflowTaskScheduledEventAttributes) taskScheduled = t(e);
    if (beforeIndex && e.workflowTaskStartedEventAttributes) {
      taskStarted = t(e);
      tl.taskQueued! += taskStarted - taskScheduled;
    }
    if (beforeIndex && e.workflowTaskCompletedEventAttributes) tl.taskRun! += t(e) - taskStarted;
    if (beforeIndex && e.activityTaskStartedEventAttributes) tl.activityQueued! += t(e) - scheduled.get(String(e.activityTaskStartedEventAttributes.scheduledEventId))!.at;
    if (e.workflowExecutionStartedEventAttributes) tl.started = t(e);
    if (e.activityTaskScheduledEventAttributes) scheduled.set(id, { type: e.activityTaskScheduledEventAttributes.activityType!.name!, at: t(e) });
    if (e.activityTaskStartedEventAttributes) started.set(String(e.activityTaskStartedEventAttributes.scheduledEventId), t(e));
    if (e.activityTaskCompletedEventAttributes) {
      const sid = String(e.activityTaskCompletedEventAttributes.scheduledEventId);
      const s = scheduled.get(sid)!;
      if (s.type === 'syncAndIndex' && tl.indexCompleted === undefined) {
        tl.indexScheduled = s.at;
        tl.indexStarted = started.get(sid)!;
        tl.indexCompleted = t(e);
      }
      if (s.type === 'registerRepo') tl.register = t(e) - s.at;
      if (s.type === 'ensureWebhook') tl.webhook = t(e) - s.at;
    }
  }
  return tl as Timeline;
}

async function mapBounded<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

async function main(): Promise<void> {
  say(`Onboarding bench: ${REPOS} repos of ${FILES_PER_REPO + 1} files added at once.`);
  const servers = await startBenchServers('onboarding');
  const fake = await startFakeBitbucket({ authorizeMode: 'auto-approve' });
  const stops: Array<() => Promise<void>> = [servers.stop, () => fake.close()];
  try {
    fake.addUser({ nickname: 'demo', display_name: 'Demo User' });
    fake.setCurrentUser('demo');
    fake.addWorkspace({ slug: 'onboard', members: [{ nickname: 'demo', administrator: true }] });
    const names: string[] = [];
    for (let n = 0; n < REPOS; n++) {
      const slug = `repo-${String(n).padStart(3, '0')}`;
      await fake.addRepo({ workspace: 'onboard', slug, files: repoFiles(n), owner: 'demo' });
      names.push(`onboard/${slug}`);
    }

    await fake.addRepo({ workspace: 'onboard', slug: 'solo', files: repoFiles(REPOS), owner: 'demo' });
    const [port, controlMetrics, indexingMetrics] = await Promise.all([freePort(), freePort(), freePort()]);
    const env = benchEnv(servers, fakeBitbucketEnv(fake, port));

    // Baseline: the same clones and indexes, directly, two at a time.
    const ds = await openDatabase(servers.pg.url);
    const [{ id: baseAccount }] = await ds.query(`INSERT INTO accounts (name, webhook_secret) VALUES ('baseline', 'x') RETURNING id`);
    const credentials = bitbucketTokenCredentials(fake.issueTokens('demo').access_token);
    const baselineStarted = performance.now();
    const perRepoDirect: number[] = [];
    await mapBounded(names, INDEX_SLOTS, async (name) => {
      const started = performance.now();
      const [{ id }] = await ds.query(
        `INSERT INTO repos (account_id, source, source_key, name, clone_url, default_branch) VALUES ($1, 'url', $2, $3, $4, 'main') RETURNING id`,
        [baseAccount, `baseline:${name}`, name, `${fake.siteUrl}/${name}.git`],
      );
      const dir = path.join(servers.dir, 'baseline', `${id}.git`);
      const { head } = await syncRepo({ dir, url: `${fake.siteUrl}/${name}.git`, branch: 'main', credentials, timeoutMs: 120_000 });
      await indexCommit(ds, { repoId: id, gitDir: dir, commit: head });
      perRepoDirect.push(performance.now() - started);
    });
    const baselineMs = performance.now() - baselineStarted;
    await ds.destroy();

    // The service as deployed: API, control worker, indexing worker (the workers' metrics endpoints
    // tell when they are up). Then connect Bitbucket and add every repo at once.
    const svc = { url: `http://127.0.0.1:${port}` };
    for (const [queue, metrics] of [['lettuce-control', controlMetrics], ['lettuce-indexing', indexingMetrics]] as const) {
      const address = `127.0.0.1:${metrics}`;
      const worker = await startNode('src/temporal/worker-main.js', { ...env, WORKER_TASK_QUEUES: queue, WORKER_METRICS_ADDRESS: address }, `http://${address}/metrics`);
      stops.unshift(worker.stop);
    }
    const api = await startNode('src/api/main.js', env, `${svc.url}/healthz`);
    stops.unshift(api.stop);
    fake.setCallbackUrl(`${svc.url}/v1/integrations/bitbucket/callback`);
    const token = await connectedAccount(svc.url, `owner-${crypto.randomBytes(3).toString('hex')}@bench.test`);

    const addStarted = Date.now();
    const added = await Promise.all(names.map(async (name) => ({ sentAt: Date.now(), ...(await requestJson('POST', `${svc.url}/v1/repos`, token, { bitbucket: name })) })));
    const bad = added.filter((a) => a.status !== 202);
    if (bad.length) throw new Error(`add failed: ${JSON.stringify(bad[0].body)}`);
    const ids = added.map((a) => a.body.repo.id as string);
    let repos: any[] = [];
    for (;;) {
      repos = (await requestJson('GET', `${svc.url}/v1/repos`, token)).body.repos;
      if (repos.every((r) => r.status === 'ready' || r.status === 'failed')) break;
      if (Date.now() - addStarted > 15 * 60_000) throw new Error('not all repos got ready within 15 minutes');
      await new Promise((r) => setTimeout(r, 100));
    }
    const failed = repos.filter((r) => r.status !== 'ready');
    const hooks = names.reduce((n, name) => n + fake.hooksOf('onboard', name.split('/')[1]).length, 0);

    // Per repo, from its workflow history.
    const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS });
    const client = new Client({ connection, namespace: 'default' });
    const overhead: number[] = [];
    const indexRun: number[] = [];
    const slotWait: number[] = [];
    const register: number[] = [];
    const webhook: number[] = [];
    const apiPart: number[] = [];
    const beforeIndex: number[] = [];
    const taskQueued: number[] = [];
    const taskRun: number[] = [];
    const activityQueued: number[] = [];
    let lastReady = 0;
    for (const [i, id] of ids.entries()) {
      const tl = await timelineOf(client, `repo:${id}`);
      const endToEnd = tl.indexCompleted - added[i].sentAt;
      indexRun.push(tl.indexCompleted - tl.indexStarted);
      slotWait.push(tl.indexStarted - tl.indexScheduled);
      overhead.push(endToEnd - (tl.indexCompleted - tl.indexStarted) - (tl.indexStarted - tl.indexScheduled));
      register.push(tl.register);
      webhook.push(tl.webhook);
      apiPart.push(tl.started - added[i].sentAt);
      beforeIndex.push(tl.indexScheduled - tl.started);
      taskQueued.push(tl.taskQueued);
      taskRun.push(tl.taskRun);
      activityQueued.push(tl.activityQueued);
      lastReady = Math.max(lastReady, tl.indexCompleted);
    }
    const allReadyMs = lastReady - addStarted;

    // One more repo alone, nothing else running: the overhead without contention.
    const soloSent = Date.now();
    const solo = await requestJson('POST', `${svc.url}/v1/repos`, token, { bitbucket: 'onboard/solo' });
    for (;;) {
      const r = (await requestJson('GET', `${svc.url}/v1/repos/${solo.body.repo.id}`, token)).body.repo;
      if (r.status === 'ready' || r.status === 'failed') break;
      await new Promise((res) => setTimeout(res, 50));
    }
    const soloTl = await timelineOf(client, `repo:${solo.body.repo.id}`);
    const soloOverhead = soloTl.indexCompleted - soloSent - (soloTl.indexCompleted - soloTl.indexStarted) - (soloTl.indexStarted - soloTl.indexScheduled);
    await connection.close();

    const rows: Row[] = [
      { figure: `time until all ${REPOS} repos ready`, value: `${(allReadyMs / 1000).toFixed(1)} s`, baseline: `${(baselineMs / 1000).toFixed(1)} s (direct clone+index, ${INDEX_SLOTS} at a time)`, ratio: (baselineMs / allReadyMs).toFixed(2) },
      { figure: 'orchestration overhead per repo, median', value: fmtMs(median(overhead)), target: '<= 200 ms', met: median(overhead) <= 200 },
      { figure: 'orchestration overhead per repo, p90', value: fmtMs(pct(overhead, 90)) },
      { figure: '  add request sent → workflow started (median)', value: fmtMs(median(apiPart)) },
      { figure: '  workflow started → clone+index scheduled (median)', value: fmtMs(median(beforeIndex)) },
      { figure: '    of which registerRepo / ensureWebhook (median)', value: `${fmtMs(median(register))} / ${fmtMs(median(webhook))}` },
      { figure: '    of which workflow tasks queued / running (median)', value: `${fmtMs(median(taskQueued))} / ${fmtMs(median(taskRun))}` },
      { figure: '    of which activities queued for a control worker (median)', value: fmtMs(median(activityQueued)) },
      { figure: 'orchestration overhead, one repo added alone', value: fmtMs(soloOverhead), target: '<= 200 ms', met: soloOverhead <= 200 },
      { figure: 'clone+index activity per repo, median', value: fmtMs(median(indexRun)), baseline: `${fmtMs(median(perRepoDirect))} (direct)` },
      { figure: 'wait for a free indexing slot, median (capacity)', value: fmtMs(median(slotWait)) },
      { figure: 'POST /v1/repos latency p50 / p99', value: `${fmtMs(median(added.map((a) => a.ms)))} / ${fmtMs(pct(added.map((a) => a.ms), 99))}` },
      { figure: 'repos ready / failed; webhooks created', value: `${REPOS - failed.length} / ${failed.length}; ${hooks}`, met: failed.length === 0 && hooks === REPOS },
    ];
    printReport('Onboarding', rows, [
      'overhead = (add request sent → clone+index completed) − clone+index run − wait for an indexing slot, per repo from its workflow history.',
    ]);
  } finally {
    for (const stop of stops) await stop().catch(() => undefined);
  }
}

runBench(main);
