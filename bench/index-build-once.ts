// One full index build of a corpus commit by the indexer of a given checkout, in a process of its
// own (started by bench/index-against.ts), into a database of its own that this checkout's
// migrations create. Prints one JSON line: the build's text bytes and the CPU-seconds of this
// process with its parse processes, of git (its waited-for children) and of PostgreSQL, and the
// index's storage. The checkout's compiled code (its dist/) is loaded by path, so a checkout from
// before a change (e.g. before CONTRACT §14's filters) runs beside this one on the same files.
import path from 'node:path';
import { childrenCpu, insertBenchRepo, postgresCpu, processesCpu } from './index-corpus';

interface Args {
  root: string;
  db: string;
  gitDir: string;
  commit: string;
  pgdata: string;
}

function parseArgs(): Args {
  const args = new Map<string, string>();
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) args.set(argv[i].replace(/^--/, ''), argv[i + 1]);
  const need = (k: keyof Args) => {
    const v = args.get(k);
    if (!v) throw new Error(`--${k} is required`);
    return v;
  };
  return { root: need('root'), db: need('db'), gitDir: need('gitDir'), commit: need('commit'), pgdata: need('pgdata') };
}

async function main(): Promise<void> {
  const a = parseArgs();
  const load = (module: string) => require(path.join(a.root, 'dist', 'src', module)); // eslint-disable-line @typescript-eslint/no-require-imports
  const { openDatabase } = load('db/data-source');
  const { indexCommit } = load('indexer');
  const { parsePool, closeParsePools } = load('indexer/parse-pool');
  const ds = await openDatabase(a.db, { poolSize: 8 });
  const repoId = await insertBenchRepo(ds, 'corpus');
  const pool = parsePool(); // started before the clock, as a worker process's pool is
  await new Promise((r) => setTimeout(r, 300));
  const nodeCpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6 + processesCpu(pool.pids);
  };
  const before = { node: nodeCpu(), git: childrenCpu(), pg: postgresCpu(a.pgdata) };
  const t0 = Date.now();
  const result = await indexCommit(ds, { repoId, gitDir: a.gitDir, commit: a.commit });
  const wallS = (Date.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 200)); // let git exit, so its CPU is counted
  const cpu = { node: nodeCpu() - before.node, git: childrenCpu() - before.git, pg: postgresCpu(a.pgdata) - before.pg };
  const [{ bytes: storage }] = await ds.query(`SELECT sum(pg_total_relation_size(c.oid))::bigint AS bytes FROM pg_class c WHERE c.relkind = 'r' AND c.relname LIKE 'index\\_%'`);
  await closeParsePools();
  await ds.destroy();
  process.stdout.write(`${JSON.stringify({ bytes: result.bytes, files: result.filesIndexed, wallS, cpu, storage: Number(storage) })}\n`);
}

main().catch((e) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
