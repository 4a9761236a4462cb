// Scale-out (`npm run bench:scale`): indexing throughput of the compose stack (src/stack) with 1 and
// with 2 worker processes, side by side in one run, on the same workload: REPOS repos of real
// source text (the .ts/.js files of node_modules, each repo its own files, ~MB_PER_REPO MB) synced
// as one workspace — time to all ready, MB indexed an hour — then PUSHES one-file pushes spread over
// them in rounds (a commit to every repo, then all their deliveries at once) — time until every repo
// is at its head, pushes an hour. CPU
// seconds of the workers, PostgreSQL and Temporal in each phase (the profile), from /proc. The
// README's sizing table comes from these figures. Figures only; nothing is asserted.
import fs from 'node:fs';
import os from 'node:os';
import { seedWorkspace } from '../test/fakes/bitbucket/seed';
import { connect } from '../test/support/bitbucket';
import { createAccount } from '../test/support/service';
import { startStackUnderTest, stopOnSignals, type StackUnderTest } from '../test/stack/stack-under-test';
import { collectSources } from './index-corpus';
import { cpuSecondsOf, loadAverage, runBench, say } from './support';

const REPOS = Number(process.env.BENCH_REPOS ?? 40);
const MB_PER_REPO = Number(process.env.BENCH_MB_PER_REPO ?? 1.5);
const PUSHES = Number(process.env.BENCH_PUSHES ?? 300);
const WORKER_COUNTS = (process.env.BENCH_WORKERS ?? '1,2').split(',').map(Number);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (bytes: number) => bytes / 1024 / 1024;

/** REPOS sets of distinct files, about MB_PER_REPO each, from node_modules. */
function workload(): Array<Record<string, string>> {
  const sources = collectSources(200_000);
  const repos: Array<Record<string, string>> = [];
  let current: Record<string, string> = {};
  let bytes = 0;
  for (const s of sources) {
    if (repos.length >= REPOS) break;
    const text = fs.readFileSync(s.abs, 'utf8');
    current[s.rel] = text;
    bytes += Buffer.byteLength(text);
    if (bytes >= MB_PER_REPO * 1024 * 1024) {
      repos.push(current);
      current = {};
      bytes = 0;
    }
  }
  if (repos.length < REPOS) throw new Error(`node_modules holds only ${repos.length} repos of ${MB_PER_REPO} MB`);
  return repos;
}

interface Phase {
  seconds: number;
  cpu: Record<string, number>;
}

/** CPU seconds by role: the workers (with their parse processes and git), PostgreSQL, Temporal, the API. */
function cpuByRole(t: StackUnderTest): Record<string, number> {
  const out: Record<string, number> = { workers: 0, postgres: 0, temporal: 0, api: 0 };
  for (const p of t.stack.pids()) {
    const role = p.name.startsWith('worker') ? 'workers' : p.name;
    if (role in out) out[role] += cpuSecondsOf(p.pid);
  }
  return out;
}

async function measure(t: StackUnderTest, fn: () => Promise<void>): Promise<Phase> {
  const before = cpuByRole(t);
  const started = Date.now();
  await fn();
  const after = cpuByRole(t);
  return { seconds: (Date.now() - started) / 1000, cpu: Object.fromEntries(Object.keys(after).map((k) => [k, after[k] - before[k]])) };
}

async function runWith(workers: number, repos: Array<Record<string, string>>, build: boolean) {
  const t = await startStackUnderTest({ workers, build, env: { LOG_LEVEL: 'warn' } });
  stopOnSignals(t);
  try {
    const { token } = await createAccount(t.api, 'Scale');
    await seedWorkspace(t.fake, { workspace: 'scale', count: 0 });
    for (let i = 0; i < repos.length; i++) {
      await t.fake.addRepo({ workspace: 'scale', slug: `repo-${i}`, owner: 'demo', files: repos[i] });
    }
    await connect(t.api, token);
    const allReady = async (heads?: Map<string, string>) => {
      for (;;) {
        const list = await t.api.request('GET', '/v1/repos', { token });
        const rows = list.body.repos as Array<{ name: string; status: string; lastIndexedCommit: string | null }>;
        if (rows.length >= repos.length && rows.every((r) => r.status === 'ready' && (!heads?.has(r.name) || heads.get(r.name) === r.lastIndexedCommit))) return;
        await sleep(500);
      }
    };
    const initial = await measure(t, async () => {
      const res = await t.api.request('POST', '/v1/integrations/bitbucket/workspaces', { token, body: { workspace: 'scale' } });
      if (res.status !== 202) throw new Error(`sync: ${res.status} ${JSON.stringify(res.body)}`);
      await allReady();
    });
    // Pushes in rounds: a commit to every repo (not timed: that is the fake's work), then all their
    // deliveries at once, timed until every repo is at its new head — so each push is one index run
    // (pushes to one repo closer together than its index would be coalesced into one).
    const pushes: Phase = { seconds: 0, cpu: { workers: 0, postgres: 0, temporal: 0, api: 0 } };
    for (let round = 0, n = 0; n < PUSHES; round++) {
      const heads = new Map<string, string>();
      const slugs = repos.map((_, i) => `repo-${i}`).slice(0, PUSHES - n);
      for (const slug of slugs) heads.set(`scale/${slug}`, await t.fake.commit('scale', slug, { [`pushed/${round}.ts`]: `export const pushed${round} = ${round};\n` }, { message: `push ${round}` }));
      const phase = await measure(t, async () => {
        await Promise.all(slugs.map((slug) => t.fake.deliverPush('scale', slug)));
        await allReady(heads);
      });
      pushes.seconds += phase.seconds;
      for (const k of Object.keys(pushes.cpu)) pushes.cpu[k] += phase.cpu[k];
      n += slugs.length;
    }
    return { initial, pushes };
  } finally {
    await t.stop();
  }
}

async function main(): Promise<void> {
  say(`Scale-out bench — ${os.cpus().length} cores, ${REPOS} repos × ~${MB_PER_REPO} MB of node_modules sources, ${PUSHES} pushes; load average ${loadAverage()} at the start`);
  const repos = workload();
  const totalMb = mb(repos.reduce((n, r) => n + Object.values(r).reduce((m, text) => m + Buffer.byteLength(text), 0), 0));
  say(`workload: ${repos.length} repos, ${repos.reduce((n, r) => n + Object.keys(r).length, 0)} files, ${totalMb.toFixed(1)} MB`);
  const results: Array<{ workers: number; initial: Phase; pushes: Phase }> = [];
  for (const [i, workers] of WORKER_COUNTS.entries()) {
    say(`… the stack with ${workers} worker${workers > 1 ? 's' : ''}`);
    results.push({ workers, ...(await runWith(workers, repos, i === 0 && !process.argv.includes('--no-build'))) });
  }
  say('');
  say(`Scale-out — ${REPOS} repos, ${totalMb.toFixed(1)} MB; ${PUSHES} one-file pushes (load average ${loadAverage()} at the end)`);
  say('workers | first index: s, repos/h, MB/h | pushes: s, pushes/h | CPU s, first index (workers / PostgreSQL / Temporal / API) | CPU s, pushes (same)');
  for (const r of results) {
    const c = (p: Phase) => `${p.cpu.workers.toFixed(0)} / ${p.cpu.postgres.toFixed(0)} / ${p.cpu.temporal.toFixed(0)} / ${p.cpu.api.toFixed(0)}`;
    say(
      `${String(r.workers).padStart(7)} | ${r.initial.seconds.toFixed(0)} s, ${((REPOS / r.initial.seconds) * 3600).toFixed(0)}, ${((totalMb / r.initial.seconds) * 3600).toFixed(0)} | ${r.pushes.seconds.toFixed(0)} s, ${((PUSHES / r.pushes.seconds) * 3600).toFixed(0)} | ${c(r.initial)} | ${c(r.pushes)}`,
    );
  }
  const base = results[0];
  for (const r of results.slice(1)) {
    say(`${r.workers} workers vs ${base.workers}: first index ×${(base.initial.seconds / r.initial.seconds).toFixed(2)}, pushes ×${(base.pushes.seconds / r.pushes.seconds).toFixed(2)} (throughput ratio)`);
  }
  const pgPerMb = base.initial.cpu.postgres / totalMb;
  const workerPerMb = base.initial.cpu.workers / totalMb;
  say(`per MB indexed: worker CPU ${workerPerMb.toFixed(2)} s, PostgreSQL CPU ${pgPerMb.toFixed(2)} s → one core indexes ~${(3600 / workerPerMb).toFixed(0)} MB/h of workers' work, ~${(3600 / pgPerMb).toFixed(0)} MB/h of PostgreSQL's`);
  const pgPerPush = base.pushes.cpu.postgres / PUSHES;
  const workerPerPush = base.pushes.cpu.workers / PUSHES;
  say(`per push: worker CPU ${(workerPerPush * 1000).toFixed(0)} ms, PostgreSQL CPU ${(pgPerPush * 1000).toFixed(0)} ms, Temporal CPU ${((base.pushes.cpu.temporal / PUSHES) * 1000).toFixed(0)} ms`);
}

runBench(main);
