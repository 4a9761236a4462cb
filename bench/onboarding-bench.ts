// Onboarding benchmark (`npm run bench:onboarding`): REPOS repos added at once (concurrent
// POST /v1/repos) on the fake Bitbucket, through the real service laid out as docker-compose.yml
// deploys it — the API, a control worker and an indexing worker, each its own process — with its
// own PostgreSQL and Temporal dev server; then one more repo alone. The baseline, in the same run:
// the same clones and indexes done directly (syncRepo + indexCommit, two at a time like the
// indexing worker), no API or Temporal. Printed: the time until all are ready against it, the
// orchestration beyond the clones ((total − direct) / REPOS), the POST answers, the lone repo's
// time to ready beyond its clone, and where a repo's time goes, per stage, from each workflow's
// history (workflow tasks queued and running, registration and the webhook, the wait for an
// indexing slot). Figures only.
import crypto from 'node:crypto';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { openDatabase } from '../src/db/data-source';
import { freePort } from '../src/dev/processes';
import { bitbucketTokenCredentials } from '../src/git/credentials';
import { syncRepo } from '../src/git/repo-sync';
import { indexCommit } from '../src/indexer';
import { startFakeBitbucket } from '../test/fakes/bitbucket/server';
import { benchEnv, connectedAccount, cpuSecondsOf, eventTime, fmtMs, loadAverage, median, postgresPid, printReport, requestJson, REST_CALLS_PER_REPO_ADD, restLimitFor, say, startBenchServers, startNode, startWorkerNode, type Row, runBench } from './support';
import { serviceEnvFor } from '../test/fakes/bitbucket/service-env';

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
  firstTaskStarted: number;
  indexScheduled: number;
  indexStarted: number;
  indexCompleted: number;
  /** registerRepo and ensureWebhook as activity tasks, scheduled → completed (0 when they ran as local activities, inside a workflow task). */
  register: number;
  webhook: number;
  registrationLocal: boolean;
  /** Before the clone was scheduled: workflow tasks, their time queued (waiting for a worker) and running. */
  tasks: number;
  taskQueued: number;
  taskRun: number;
  /** Control activity tasks before the clone, scheduled → started. */
  activityQueued: number;
}

/** Event times of a repo workflow's history (ms since epoch), up to its first clone+index. */
async function timelineOf(client: Client, workflowId: string): Promise<Timeline> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const scheduled = new Map<string, { type: string; at: number }>();
  const started = new Map<string, number>();
  const tl: Partial<Timeline> = { register: 0, webhook: 0, registrationLocal: false, tasks: 0, taskQueued: 0, taskRun: 0, activityQueued: 0 };
  let taskScheduled = 0;
  let taskStarted = 0;
  for (const e of history.events ?? []) {
    const id = String(e.eventId);
    const at = eventTime(e);
    const beforeIndex = ![...scheduled.values()].some((a) => a.type === 'syncAndIndex');
    if (e.workflowExecutionStartedEventAttributes) tl.started = at;
    if (beforeIndex && e.workflowTaskScheduledEventAttributes) taskScheduled = at;
    if (beforeIndex && e.workflowTaskStartedEventAttributes) {
      taskStarted = at;
      tl.firstTaskStarted ??= at;
      tl.tasks!++;
      tl.taskQueued! += taskStarted - taskScheduled;
    }
    if (beforeIndex && e.workflowTaskCompletedEventAttributes) tl.taskRun! += at - taskStarted;
    if (beforeIndex && e.activityTaskStartedEventAttributes) tl.activityQueued! += at - scheduled.get(String(e.activityTaskStartedEventAttributes.scheduledEventId))!.at;
    if (e.activityTaskScheduledEventAttributes) scheduled.set(id, { type: e.activityTaskScheduledEventAttributes.activityType!.name!, at });
    if (e.activityTaskStartedEventAttributes) started.set(String(e.activityTaskStartedEventAttributes.scheduledEventId), at);
    // Local activities leave a marker, recorded when their workflow task completes (the times
    // inside the marker are not when they ran): their time is part of that task's running time.
    const marker = e.markerRecordedEventAttributes;
    if (marker?.markerName === 'core_local_activity' && JSON.parse(Buffer.from(marker.details!.data!.payloads![0].data!).toString()).activity_type === 'registerRepo') tl.registrationLocal = true;
    if (e.activityTaskCompletedEventAttributes) {
      const sid = String(e.activityTaskCompletedEventAttributes.scheduledEventId);
      const s = scheduled.get(sid)!;
      if (s.type === 'syncAndIndex' && tl.indexCompleted === undefined) {
        tl.indexScheduled = s.at;
        tl.indexStarted = started.get(sid)!;
        tl.indexCompleted = at;
      }
      if (s.type === 'registerRepo') tl.register = at - s.at;
      if (s.type === 'ensureWebhook' && !tl.webhook) tl.webhook = at - s.at;
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
  const loadAtStart = loadAverage();
  say(`Onboarding bench: ${REPOS} repos of ${FILES_PER_REPO + 1} files added at once. Load average (1/5/15 min): ${loadAtStart}.`);
  const servers = await startBenchServers('onboarding');
  // Not a rate-limit bench: it adds 2 × REPOS + 1 repos (the warm-up burst, the measured one, the lone
  // repo). Bitbucket's limit while they fit in it (the default 50 do), off beyond.
  const fake = await startFakeBitbucket({ authorizeMode: 'auto-approve', restLimit: restLimitFor((2 * REPOS + 1) * REST_CALLS_PER_REPO_ADD) });
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
    // The warm-up burst's repos: as many, one file each, in a workspace of their own.
    fake.addWorkspace({ slug: 'warm-up', members: [{ nickname: 'demo', administrator: true }] });
    const warmUpNames: string[] = [];
    for (let n = 0; n < REPOS; n++) {
      await fake.addRepo({ workspace: 'warm-up', slug: `repo-${n}`, files: { 'README.md': `# warm-up ${n}\n` }, owner: 'demo' });
      warmUpNames.push(`warm-up/repo-${n}`);
    }
    const port = await freePort();
    const env = benchEnv(servers, serviceEnvFor(fake, port));

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
    // BENCH_CPU_PROF=<dir>: the API and the control worker write V8 CPU profiles there.
    const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
    const pids: Record<string, number> = { PostgreSQL: postgresPid(servers), Temporal: servers.temporal!.pid };
    for (const queue of ['lettuce-control', 'lettuce-indexing']) {
      const worker = await startWorkerNode(env, queue, { nodeArgs: queue === 'lettuce-control' ? prof : [] });
      stops.unshift(worker.stop);
      pids[queue === 'lettuce-control' ? 'control worker' : 'indexing worker'] = worker.child.pid!;
    }
    const api = await startNode('src/api/main.js', env, `${svc.url}/healthz`, { nodeArgs: prof });
    pids.API = api.child.pid!;
    /** CPU seconds each process (and this one: the fake Bitbucket and the client) has used so far. */
    const cpuNow = () => ({ ...Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSecondsOf(pid)])), 'fake Bitbucket + client (this process)': process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6 });
    const cpuSince = (before: Record<string, number>) => Object.entries(cpuNow()).map(([name, s]) => `${name} ${((s - before[name]) * 1000).toFixed(0)} ms`).join(', ');
    stops.unshift(api.stop);
    fake.setCallbackUrl(`${svc.url}/v1/integrations/bitbucket/callback`);
    const token = await connectedAccount(svc.url, `owner-${crypto.randomBytes(3).toString('hex')}@bench.test`);

    // A burst of the same size first, measured apart: the first requests after a start run
    // unoptimised code (V8 compiles a function for speed only after it has run many times), which a
    // service that has been serving does not. Then, once those repos are ready, a quiet second, and
    // the measured burst.
    const burst = async (repos: string[]) => {
      const answers = await Promise.all(repos.map(async (name) => ({ sentAt: Date.now(), ...(await requestJson('POST', `${svc.url}/v1/repos`, token, { bitbucket: name })) })));
      const bad = answers.find((a) => a.status !== 202);
      if (bad) throw new Error(`add failed: ${JSON.stringify(bad.body)}`);
      return answers;
    };
    /** The repos with these ids once every one is ready or failed. */
    const settled = async (ids: string[], since: number): Promise<any[]> => {
      for (;;) {
        const repos = (await requestJson('GET', `${svc.url}/v1/repos`, token)).body.repos.filter((r: { id: string }) => ids.includes(r.id));
        if (repos.every((r: { status: string }) => r.status === 'ready' || r.status === 'failed')) return repos;
        if (Date.now() - since > 15 * 60_000) throw new Error('not all repos got ready within 15 minutes');
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    const coldStarted = Date.now();
    const cold = await burst(warmUpNames);
    const coldPosts = cold.map((a) => a.ms);
    await settled(cold.map((a) => a.body.repo.id as string), coldStarted);
    await new Promise((res) => setTimeout(res, 1000));
    const cpuAtAdd = cpuNow();
    const addStarted = Date.now();
    const added = await burst(names);
    const postsMs = Date.now() - addStarted;
    const cpuDuringPosts = cpuSince(cpuAtAdd);
    const ids = added.map((a) => a.body.repo.id as string);
    const repos = await settled(ids, addStarted);
    const cpuUntilReady = cpuSince(cpuAtAdd);
    const failed = repos.filter((r) => r.status !== 'ready');
    const hooks = names.reduce((n, name) => n + fake.hooksOf('onboard', name.split('/')[1]).length, 0);

    // Per repo, from its workflow history.
    const connection = await Connection.connect({ address: env.TEMPORAL_ADDRESS });
    const client = new Client({ connection, namespace: 'default' });
    const timelines: Timeline[] = [];
    for (const id of ids) timelines.push(await timelineOf(client, `repo:${id}`));
    const allReadyMs = Math.max(...timelines.map((tl) => tl.indexCompleted)) - addStarted;
    const loadDuring = loadAverage();

    // One more repo alone, nothing else running: the overhead without contention.
    const soloSent = Date.now();
    const solo = await requestJson('POST', `${svc.url}/v1/repos`, token, { bitbucket: 'onboard/solo' });
    for (;;) {
      const r = (await requestJson('GET', `${svc.url}/v1/repos/${solo.body.repo.id}`, token)).body.repo;
      if (r.status === 'ready' || r.status === 'failed') break;
      await new Promise((res) => setTimeout(res, 20));
    }
    const soloTl = await timelineOf(client, `repo:${solo.body.repo.id}`);
    await connection.close();

    const posts = added.map((a) => a.ms);
    const each = (f: (tl: Timeline, i: number) => number) => timelines.map(f);
    const med = (f: (tl: Timeline, i: number) => number) => fmtMs(median(each(f)));
    const beyondClones = (allReadyMs - baselineMs) / REPOS;
    const soloBeyondClone = soloTl.indexStarted - soloSent; // ready = the clone+index activity's end
    const stages = (tl: Timeline, sentAt: number, post: number) => [
      `POST answered ${fmtMs(post)}`,
      `sent → workflow started ${fmtMs(tl.started - sentAt)}`,
      `started → first workflow task picked up ${fmtMs(tl.firstTaskStarted - tl.started)}`,
      `${tl.tasks} workflow task(s) before the clone: queued ${fmtMs(tl.taskQueued)}, running ${fmtMs(tl.taskRun)}`,
      tl.registrationLocal ? 'registerRepo and ensureWebhook as local activities inside the first workflow task' : `registerRepo ${fmtMs(tl.register)} / ensureWebhook ${fmtMs(tl.webhook)} (activity tasks)`,
      `control activity tasks queued ${fmtMs(tl.activityQueued)}`,
      `clone+index scheduled → started ${fmtMs(tl.indexStarted - tl.indexScheduled)}`,
    ];
    const rows: Row[] = [
      { figure: `time until all ${REPOS} repos ready`, value: `${(allReadyMs / 1000).toFixed(1)} s`, baseline: `${(baselineMs / 1000).toFixed(1)} s (direct clone+index, ${INDEX_SLOTS} at a time)`, ratio: (baselineMs / allReadyMs).toFixed(2) },
      { figure: `orchestration per repo beyond the clones, (total − direct) / ${REPOS}`, value: fmtMs(beyondClones), target: '<= 150 ms', met: beyondClones <= 150 },
      { figure: `POST /v1/repos answer, ${REPOS} at once, p50 / max`, value: `${fmtMs(median(posts))} / ${fmtMs(Math.max(...posts))}`, target: '<= 150 ms / <= 400 ms', met: median(posts) <= 150 && Math.max(...posts) <= 400 },
      { figure: `the same, the first ${REPOS} after the API started (unoptimised code), p50 / max`, value: `${fmtMs(median(coldPosts))} / ${fmtMs(Math.max(...coldPosts))}` },
      { figure: 'one repo added alone: time to ready beyond its clone+index', value: fmtMs(soloBeyondClone), target: '<= 100 ms', met: soloBeyondClone <= 100 },
      { figure: 'clone+index activity per repo, median', value: med((tl) => tl.indexCompleted - tl.indexStarted), baseline: `${fmtMs(median(perRepoDirect))} (direct)` },
      { figure: 'repos ready / failed; webhooks created', value: `${REPOS - failed.length} / ${failed.length}; ${hooks}`, met: failed.length === 0 && hooks === REPOS },
    ];
    printReport('Onboarding', rows, [
      `Where a repo's time goes, ${REPOS} at once (medians over the repos, from each workflow's history and the client's clock):`,
      `  add request sent → workflow started: ${med((tl, i) => tl.started - added[i].sentAt)}; POST answered after ${fmtMs(median(posts))}`,
      `  workflow started → its first workflow task picked up by the control worker: ${med((tl) => tl.firstTaskStarted - tl.started)}`,
      `  workflow tasks before the clone was scheduled: ${med((tl) => tl.tasks).replace(' ms', '')}; queued ${med((tl) => tl.taskQueued)}, running ${med((tl) => tl.taskRun)}`,
      timelines[0].registrationLocal
        ? '  registerRepo and ensureWebhook (hooks list + create on Bitbucket): local activities, their time inside the running time above'
        : `  registerRepo / ensureWebhook (hooks list + create on Bitbucket): ${med((tl) => tl.register)} / ${med((tl) => tl.webhook)} (activity tasks)`,
      `  control activity tasks queued for a worker: ${med((tl) => tl.activityQueued)}`,
      `  add request sent → clone+index scheduled: ${med((tl, i) => tl.indexScheduled - added[i].sentAt)}`,
      `  clone+index waiting for one of the ${INDEX_SLOTS} indexing slots (capacity): ${med((tl) => tl.indexStarted - tl.indexScheduled)}`,
      `  clone+index run: ${med((tl) => tl.indexCompleted - tl.indexStarted)} (direct: ${fmtMs(median(perRepoDirect))})`,
      `CPU used while the ${REPOS} POSTs were answered (${fmtMs(postsMs)}, 2 cores = ${(postsMs * 2).toFixed(0)} ms): ${cpuDuringPosts}.`,
      `CPU used until all were ready: ${cpuUntilReady}.`,
      `One repo alone: ${stages(soloTl, soloSent, solo.ms).join('; ')}; clone+index run ${fmtMs(soloTl.indexCompleted - soloTl.indexStarted)}.`,
      `Load average (1/5/15 min) at the start: ${loadAtStart}; when all ${REPOS} were ready: ${loadDuring}; at the end: ${loadAverage()} (2 cores).`,
    ]);
  } finally {
    for (const stop of stops) await stop().catch(() => undefined);
  }
}

runBench(main);
