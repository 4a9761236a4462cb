// The indexer benchmark's scale line, in a process of its own so its peak RSS is the build's
// alone, started as an indexing worker is (its memory settings: src/indexer/process-memory.ts):
// one full indexCommit of the repository BENCH_GIT_DIR at BENCH_COMMIT for repo BENCH_REPO_ID into
// BENCH_DATABASE_URL; prints one JSON line.
import { openDatabase } from '../src/db/data-source';
import { indexCommit } from '../src/indexer';
import { closeParsePools } from '../src/indexer/parse-pool';

async function main(): Promise<void> {
  const env = (k: string) => {
    const v = process.env[k];
    if (!v) throw new Error(`${k} is not set`);
    return v;
  };
  const ds = await openDatabase(env('BENCH_DATABASE_URL'), { poolSize: 4 });
  // The peak and what it held (V8 heap of the main thread, buffers, the rest: worker threads'
  // heaps, native memory), sampled every 100 ms.
  let peak = process.memoryUsage();
  const sampler = setInterval(() => {
    const now = process.memoryUsage();
    if (now.rss > peak.rss) peak = now;
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
  await closeParsePools();
  await ds.destroy();
  process.stdout.write(
    // Decimal MB, as every figure of the bench (maxRSS is in KiB).
    `${JSON.stringify({ ...result, wallMs, cpuS: (cpu.user + cpu.system) / 1e6, maxRssMb: (process.resourceUsage().maxRSS * 1024) / 1e6, sampledPeakRssMb: peak.rss / 1e6, atPeak: { heapUsedMb: peak.heapUsed / 1e6, heapTotalMb: peak.heapTotal / 1e6, arrayBuffersMb: peak.arrayBuffers / 1e6, externalMb: peak.external / 1e6 } })}\n`,
  );
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  process.exit(1);
});
