// The indexer benchmark's "1-file push → searchable" through the real service as deployed: the API,
// the control worker and the indexing worker as processes of their own, the bench's PostgreSQL and
// Temporal dev server, and the fake Bitbucket (in this process) holding the corpus as a repo. Each
// push commits one changed file on the fake, which delivers the signed repo:push webhook; the time
// runs from the signed delivery going out until the API's search finds the new text in that file.
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import fs from 'node:fs';
import { benchEnv, connectedAccount, eventTime, requestJson, startNode, startWorkerNode, type BenchServers } from './support';
import { serviceEnvFor } from '../test/fakes/bitbucket/service-env';
import { freePort } from '../src/dev/processes';
import { startFakeBitbucket } from '../test/fakes/bitbucket/server';

export interface ServicePushResult {
  files: number;
  firstIndexMs: number;
  /** Per push, from the signed delivery going out until GET /search finds the change (ms). */
  pushMs: number[];
  /** Per push, the fake's time to build and sign the payload before sending it (ms; not in pushMs). */
  payloadMs: number[];
  /** Per push, from the repo workflow's history: where the time went (ms; afterIndex < 0: found before the activity reported completion). */
  phases: { signalled: number[]; indexScheduled: number[]; indexQueued: number[]; indexRun: number[]; afterIndex: number[] };
  /** A trivial git child's wall time, median ms, from a node process as large as the indexing worker and from a small one. */
  gitChild: { workerRssMb: number; workerSizedMs: number; smallMs: number };
}

const run = promisify(execFile);
/** Holds `mb` MB of memory, then times `git --version` started 15 times one after another; prints the median in ms. */
const gitChildProbe = (mb: number) =>
  `const held=Buffer.alloc(${mb}*1e6,1);const {execFileSync}=require('node:child_process');const ms=[];for(let i=0;i<15;i++){const t=performance.now();execFileSync('git',['--version']);ms.push(performance.now()-t)}ms.sort((a,b)=>a-b);globalThis.held=held;process.stdout.write(String(ms[ms.length>>1]))`;

const rssMbOf = (pid: number) => Math.round(Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1000);

/**
 * What a git child costs to start in the indexing worker: Node forks the whole process for each
 * child, so the cost grows with its memory — a probe as large as the worker, and a small one.
 */
async function gitChildCost(workerPid: number): Promise<ServicePushResult['gitChild']> {
  const workerRssMb = rssMbOf(workerPid);
  const probe = async (mb: number) => Number((await run(process.execPath, ['-e', gitChildProbe(mb)])).stdout);
  return { workerRssMb, workerSizedMs: await probe(workerRssMb), smallMs: await probe(0) };
}

interface PushTimes {
  delivered: number;
  searchable: number;
}

/** Splits each push's time at the workflow's events: signal received, syncAndIndex scheduled, started, completed. */
async function phasesOf(address: string, workflowId: string, pushes: PushTimes[]): Promise<ServicePushResult['phases']> {
  const connection = await Connection.connect({ address });
  try {
    const history = await new Client({ connection }).workflow.getHandle(workflowId).fetchHistory();
    const t = eventTime;
    const signals: number[] = [];
    const runs: Array<{ scheduled: number; started: number; completed: number }> = [];
    const byId = new Map<string, { scheduled: number; started: number; completed: number }>();
    for (const e of history.events ?? []) {
      if (e.workflowExecutionSignaledEventAttributes?.signalName === 'push') signals.push(t(e));
      const sched = e.activityTaskScheduledEventAttributes;
      if (sched?.activityType?.name === 'syncAndIndex') {
        const run = { scheduled: t(e), started: NaN, completed: NaN };
        byId.set(String(e.eventId), run);
        runs.push(run);
      }
      const started = e.activityTaskStartedEventAttributes;
      if (started && byId.has(String(started.scheduledEventId))) byId.get(String(started.scheduledEventId))!.started = t(e);
      const done = e.activityTaskCompletedEventAttributes;
      if (done && byId.has(String(done.scheduledEventId))) byId.get(String(done.scheduledEventId))!.completed = t(e);
    }
    const out: ServicePushResult['phases'] = { signalled: [], indexScheduled: [], indexQueued: [], indexRun: [], afterIndex: [] };
    for (const p of pushes) {
      // The index is searchable once its generation is switched in, a little before the activity
      // reports completion: the run is the first one scheduled after the push's signal.
      const signal = signals.find((s) => s >= p.delivered - 50);
      const run = signal === undefined ? undefined : runs.find((r) => r.scheduled >= signal);
      if (signal === undefined || !run) continue;
      out.signalled.push(signal - p.delivered);
      out.indexScheduled.push(run.scheduled - signal);
      out.indexQueued.push(run.started - run.scheduled);
      out.indexRun.push(run.completed - run.started);
      out.afterIndex.push(p.searchable - run.completed);
    }
    return out;
  } finally {
    await connection.close();
  }
}

/** Adds the corpus as a Bitbucket repo, waits until it is ready, then times `pushes` 1-file pushes. */
export async function servicePushes(servers: BenchServers, files: Record<string, string>, pushes: number): Promise<ServicePushResult> {
  const fake = await startFakeBitbucket({ authorizeMode: 'auto-approve' });
  const stops: Array<() => Promise<void>> = [() => fake.close()];
  try {
    fake.addUser({ nickname: 'bench', display_name: 'Bench' });
    fake.setCurrentUser('bench');
    fake.addWorkspace({ slug: 'bench', members: [{ nickname: 'bench', administrator: true }] });
    await fake.addRepo({ workspace: 'bench', slug: 'corpus', files, owner: 'bench' });
    const port = await freePort();
    const env = benchEnv(servers, serviceEnvFor(fake, port));
    const pids: Record<string, number> = {};
    for (const queue of ['lettuce-control', 'lettuce-indexing']) {
      const worker = await startWorkerNode(env, queue);
      stops.unshift(worker.stop);
      pids[queue] = worker.child.pid!;
    }
    const url = `http://127.0.0.1:${port}`;
    const api = await startNode('src/api/main.js', env, `${url}/healthz`);
    stops.unshift(api.stop);
    fake.setCallbackUrl(`${url}/v1/integrations/bitbucket/callback`);
    const token = await connectedAccount(url, 'owner@bench.test');

    const addedAt = Date.now();
    const added = await requestJson('POST', `${url}/v1/repos`, token, { bitbucket: 'bench/corpus' });
    if (added.status !== 202) throw new Error(`add failed: ${JSON.stringify(added.body)}`);
    const id = added.body.repo.id as string;
    const head = await fake.headOf('bench', 'corpus');
    for (;;) {
      const r = (await requestJson('GET', `${url}/v1/repos/${id}`, token)).body.repo;
      if (r.status === 'ready' && r.lastIndexedCommit === head && r.webhook?.status === 'active') break;
      if (r.status === 'failed') throw new Error(`the corpus repo failed: ${JSON.stringify(r.error)}`);
      if (Date.now() - addedAt > 10 * 60_000) throw new Error('the corpus repo was not ready within 10 minutes');
      await new Promise((res) => setTimeout(res, 100));
    }
    const firstIndexMs = Date.now() - addedAt;

    const paths = Object.keys(files);
    const pushMs: number[] = [];
    const payloadMs: number[] = [];
    const times: PushTimes[] = [];
    for (let i = 0; i < pushes; i++) {
      const rel = paths[(i * 7919 + 13) % paths.length];
      const tokenText = `servicePush${crypto.randomBytes(5).toString('hex')}`;
      await fake.commit('bench', 'corpus', { [rel]: `${files[rel]}\n// ${tokenText}\n` }, { message: `push ${i}` });
      const called = Date.now();
      const [delivery] = await fake.deliverPush('bench', 'corpus');
      if (delivery?.status !== 202) throw new Error(`push ${i}: the delivery was answered ${delivery?.status}`);
      // From when the signed delivery went out: building the payload (the fake reads the push from
      // git, in this busy process) is Bitbucket's time, not the service's.
      const delivered = Date.parse(delivery.attemptLog[0].sentAt);
      payloadMs.push(delivered - called);
      for (;;) {
        const found = await requestJson('GET', `${url}/v1/repos/${id}/search?q=${tokenText}&limit=5`, token);
        if (found.status === 200 && found.body.results?.some((r: { path: string }) => r.path === rel)) break;
        if (Date.now() - delivered > 60_000) throw new Error(`push ${i}: ${tokenText} not searchable after 60 s`);
        await new Promise((res) => setTimeout(res, 5));
      }
      const searchable = Date.now();
      pushMs.push(searchable - delivered);
      times.push({ delivered, searchable });
    }
    const phases = await phasesOf(servers.temporal!.address, `repo:${id}`, times);
    return { files: paths.length, firstIndexMs, pushMs, payloadMs, phases, gitChild: await gitChildCost(pids['lettuce-indexing']) };
  } finally {
    for (const stop of stops) await stop().catch(() => undefined);
  }
}
