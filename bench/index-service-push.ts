// The indexer benchmark's "1-file push → searchable" through the real service: the API and the
// workers in this process (startService), its PostgreSQL and Temporal dev server, and the fake
// Bitbucket holding the corpus as a repo. Each push commits one changed file on the fake, which
// delivers the signed repo:push webhook; the time runs from just before the delivery until the
// API's search finds the new text in that file.
import crypto from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { benchConfig, connectedAccount, eventTime, requestJson, type BenchServers } from './support';
import { serviceEnvFor } from '../test/fakes/bitbucket/service-env';
import { freePort } from '../src/dev/processes';
import { createLogger } from '../src/logger';
import { startService } from '../src/service';
import { installWorkerRuntime } from '../src/temporal/runtime';
import { startFakeBitbucket } from '../test/fakes/bitbucket/server';

export interface ServicePushResult {
  files: number;
  firstIndexMs: number;
  pushMs: number[];
  /** Per push, from the repo workflow's history: where the time went (ms; afterIndex < 0: found before the activity reported completion). */
  phases: { signalled: number[]; indexScheduled: number[]; indexQueued: number[]; indexRun: number[]; afterIndex: number[] };
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
    const config = benchConfig(servers, serviceEnvFor(fake, port));
    const log = createLogger('error');
    installWorkerRuntime({ log });
    const svc = await startService({ config, log, host: '127.0.0.1' });
    stops.unshift(() => svc.stop());
    const url = svc.url!;
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
    const times: PushTimes[] = [];
    for (let i = 0; i < pushes; i++) {
      const rel = paths[(i * 7919 + 13) % paths.length];
      const tokenText = `servicePush${crypto.randomBytes(5).toString('hex')}`;
      await fake.commit('bench', 'corpus', { [rel]: `${files[rel]}\n// ${tokenText}\n` }, { message: `push ${i}` });
      const t = performance.now();
      const delivered = Date.now();
      const [delivery] = await fake.deliverPush('bench', 'corpus');
      if (delivery?.status !== 202) throw new Error(`push ${i}: the delivery was answered ${delivery?.status}`);
      for (;;) {
        const found = await requestJson('GET', `${url}/v1/repos/${id}/search?q=${tokenText}&limit=5`, token);
        if (found.status === 200 && found.body.results?.some((r: { path: string }) => r.path === rel)) break;
        if (performance.now() - t > 60_000) throw new Error(`push ${i}: ${tokenText} not searchable after 60 s`);
        await new Promise((res) => setTimeout(res, 5));
      }
      pushMs.push(performance.now() - t);
      times.push({ delivered, searchable: Date.now() });
    }
    const phases = await phasesOf(config.temporal.address, `repo:${id}`, times);
    return { files: paths.length, firstIndexMs, pushMs, phases };
  } finally {
    for (const stop of stops) await stop().catch(() => undefined);
  }
}
