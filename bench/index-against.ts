// Indexing speed against an older checkout (`BENCH_INDEX_AGAINST=<checkout> npm run bench:index-against`):
// the same corpus (bench:index's: .ts/.js/.d.ts sources of node_modules committed into a git
// repository) fully indexed by this checkout's indexer and by the other's (built: its dist/), each
// build in a process of its own into a fresh database of the same PostgreSQL, the two sides
// alternating for ROUNDS rounds. Printed: MB of text per CPU-second (node with its parse processes,
// PostgreSQL, git) of each side, the median's ratio, where each side's CPU went, and the index's
// storage. Issue 23's target: the code search's additions (trigram and 4-gram filters of each
// segment, file-path filters) cost at most 10 % of the indexing speed and 15 % of the index.
// Figures only: nothing here asserts a time.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client as PgClient } from 'pg';
import { INDEXING_PROCESS_ENV } from '../src/indexer/process-memory';
import { collectSources, commitCorpus, git } from './index-corpus';
import { loadAverage, runBench, say, startBenchServers } from './support';

const MAX_FILES = Number(process.env.BENCH_MAX_FILES ?? 14_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const AGAINST = process.env.BENCH_INDEX_AGAINST;
const HERE = path.resolve(__dirname, '..', '..'); // dist/bench → the checkout

interface Build {
  bytes: number;
  files: number;
  wallS: number;
  cpu: { node: number; git: number; pg: number };
  storage: number;
}

const mb = (bytes: number) => bytes / 2 ** 20;
const fmt = (n: number, digits = 1) => n.toFixed(digits);
const cpuOf = (b: Build) => b.cpu.node + b.cpu.git + b.cpu.pg;
const perCpu = (b: Build) => mb(b.bytes) / cpuOf(b);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function buildOnce(root: string, db: string, gitDir: string, commit: string, pgdata: string): Promise<Build> {
  const runner = path.join(HERE, 'dist', 'bench', 'index-build-once.js');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [runner, '--root', root, '--db', db, '--gitDir', gitDir, '--commit', commit, '--pgdata', pgdata], {
      env: { ...process.env, ...INDEXING_PROCESS_ENV, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code === 0 && line.startsWith('{')) resolve(JSON.parse(line) as Build);
      else reject(new Error(`the build of ${root} failed (exit ${code}): ${err.trim().split('\n').slice(-5).join(' | ')}`));
    });
  });
}

async function main(): Promise<void> {
  if (!AGAINST) throw new Error('BENCH_INDEX_AGAINST must name a checkout built with `npx tsc -p tsconfig.build.json` (e.g. a git worktree of the commit before a change)');
  const against = path.resolve(AGAINST);
  if (!fs.existsSync(path.join(against, 'dist', 'src', 'indexer', 'index.js'))) throw new Error(`${against} has no dist/src/indexer: build it first (npx tsc -p tsconfig.build.json there)`);
  const sideName = (root: string) => `${path.basename(root)}@${git(root, 'rev-parse', '--short', 'HEAD').trim()}`;
  say(`Indexing speed against ${sideName(against)} — ${os.cpus().length} cores, load average ${loadAverage()}`);
  const servers = await startBenchServers('index-against', { temporal: false });
  try {
    const sources = collectSources(MAX_FILES);
    const repo = path.join(servers.dir, 'corpus');
    const head = commitCorpus(repo, sources);
    const pgdata = path.join(servers.dir, 'postgres');
    const sides = [
      { name: `this checkout (${sideName(HERE)})`, root: HERE, builds: [] as Build[] },
      { name: `against (${sideName(against)})`, root: against, builds: [] as Build[] },
    ];
    say(`corpus: ${sources.length} files from node_modules; ${ROUNDS} rounds, the two sides alternating (who goes first swaps each round)`);
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? sides : [...sides].reverse();
      for (const side of order) {
        const db = `build_${round}_${side === sides[0] ? 'here' : 'against'}`;
        const admin = servers.pg.url;
        await adminSql(admin, `CREATE DATABASE ${db}`);
        const b = await buildOnce(side.root, admin.replace(/\/[^/?]+(\?|$)/, `/${db}$1`), repo, head, pgdata);
        await adminSql(admin, `DROP DATABASE ${db}`);
        side.builds.push(b);
        say(
          `  round ${round + 1}, ${side.name}: ${b.files} files, ${fmt(mb(b.bytes))} MB in ${fmt(b.wallS)} s; CPU ${fmt(cpuOf(b))} s (node ${fmt(b.cpu.node)}, PostgreSQL ${fmt(b.cpu.pg)}, git ${fmt(b.cpu.git)}) → ${fmt(perCpu(b), 2)} MB/CPU-s; index ${fmt(mb(b.storage))} MB`,
        );
      }
    }
    say('');
    const [here, base] = sides;
    const speed = (s: typeof here) => median(s.builds.map(perCpu));
    const part = (s: typeof here, k: keyof Build['cpu']) => median(s.builds.map((b) => b.cpu[k]));
    for (const s of sides) {
      say(
        `${s.name}: median ${fmt(speed(s), 2)} MB/CPU-s (range ${fmt(Math.min(...s.builds.map(perCpu)), 2)}–${fmt(Math.max(...s.builds.map(perCpu)), 2)}); CPU by part, medians: node ${fmt(part(s, 'node'))} s, PostgreSQL ${fmt(part(s, 'pg'))} s, git ${fmt(part(s, 'git'))} s; index ${fmt(mb(s.builds[0].storage))} MB (${fmt(s.builds[0].storage / s.builds[0].bytes, 2)}× the text)`,
      );
    }
    const ratio = speed(here) / speed(base);
    // Each round's two builds ran back to back: their ratio cancels most of the machine's drift between rounds.
    const paired = here.builds.map((b, i) => perCpu(b) / perCpu(base.builds[i]));
    say(`indexing speed, this / against: ${fmt(ratio, 3)} of the medians; round by round ${paired.map((r) => fmt(r, 3)).join(', ')} (median ${fmt(median(paired), 3)}) (target ≥ 0.90: a drop of at most 10 %)${ratio >= 0.9 ? '' : ' — MISSED'}`);
    say(`index size, this / against: ${fmt(here.builds[0].storage / base.builds[0].storage, 3)} (target ≤ 1.15)`);
  } finally {
    await servers.stop();
  }
}

async function adminSql(url: string, sql: string): Promise<void> {
  const c = new PgClient({ connectionString: url });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

runBench(main);
