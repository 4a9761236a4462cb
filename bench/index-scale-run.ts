// The indexer benchmark's scale line, in a process of its own so its peak RSS (with its parse
// processes') is the build's alone, started as an indexing worker is (its memory settings: src/indexer/process-memory.ts):
// one full indexCommit of the repository BENCH_GIT_DIR at BENCH_COMMIT for repo BENCH_REPO_ID into
// BENCH_DATABASE_URL; prints one JSON line.
import fs from 'node:fs';
import { openDatabase } from '../src/db/data-source';
import { indexCommit } from '../src/indexer';
import { closeParsePools, parsePool } from '../src/indexer/parse-pool';

/** RSS (bytes) and CPU seconds of a live process, from /proc (Linux); null once it is gone. */
function procStats(pid: number): { rss: number; cpuS: number } | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
    return { rss: rssKb * 1024, cpuS: (Number(f[11]) + Number(f[12])) / 100 };
  } catch {
    return null;
  }
}

async function main(): Promise<void> {
  const env = (k: string) => {
    const v = process.env[k];
    if (!v) throw new Error(`${k} is not set`);
    return v;
  };
  const ds = await openDatabase(env('BENCH_DATABASE_URL'), { poolSize: 4 });
  // The peak of this process and its parse processes together, and what it held (V8 heap of the
  // main thread, buffers, the parse processes, the rest: native memory, code), sampled every
  // 100 ms; the parse processes' CPU as last seen (they are this build's only children).
  const pool = parsePool();
  let peak = { ...process.memoryUsage(), children: 0, total: process.memoryUsage().rss };
  const childCpu = new Map<number, number>();
  const sampler = setInterval(() => {
    const now = process.memoryUsage();
    let children = 0;
    for (const pid of pool.pids) {
      const st = procStats(pid);
      if (!st) continue;
      children += st.rss;
      childCpu.set(pid, st.cpuS);
    }
    if (now.rss + children > peak.total) peak = { ...now, children, total: now.rss + children };
  }, 100);
  const started = Date.now();
  const cpu0 = process.cpuUsage();
  const result = await indexCommit(ds, {
    repoId: env('BENCH_REPO_ID'),
    gitDir: env('BENCH_GIT_DIR'),
    commit: env('BENCH_COMMIT'),
    limits: { maxFiles: 1_000_000, maxTotalBytes: 4 * 1024 ** 3 },
  });
  const wallMs = Date.now() - started;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(sampler);
  for (const pid of pool.pids) {
    const st = procStats(pid);
    if (st) childCpu.set(pid, st.cpuS);
  }
  const parseCpuS = [...childCpu.values()].reduce((a, b) => a + b, 0);
  await closeParsePools();
  await ds.destroy();
  process.stdout.write(
    // Decimal MB, as every figure of the bench (maxRSS is in KiB).
    `${JSON.stringify({
      ...result,
      wallMs,
      cpuS: (cpu.user + cpu.system) / 1e6 + parseCpuS,
      parseCpuS,
      maxRssMb: peak.total / 1e6,
      mainMaxRssMb: (process.resourceUsage().maxRSS * 1024) / 1e6,
      atPeak: { heapUsedMb: peak.heapUsed / 1e6, heapTotalMb: peak.heapTotal / 1e6, arrayBuffersMb: peak.arrayBuffers / 1e6, externalMb: peak.external / 1e6, parseProcessesMb: peak.children / 1e6 },
    })}\n`,
  );
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  process.exit(1);
});
