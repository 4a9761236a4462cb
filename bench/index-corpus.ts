// Corpora and CPU accounting of the indexer benchmark: the .ts/.js sources of the packages in
// node_modules (real code nobody here wrote) committed into a git repository, the same copied
// into a ~500 MB repository (each copy made unique) for the scale line, and CPU seconds of this
// process's threads, its children and PostgreSQL, from /proc.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parsePool } from '../src/indexer/parse-pool';
import { isSkippedPath } from '../src/indexer/paths';

const ROOT = path.resolve(__dirname, '..', '..');
const GIT_ENV = { ...process.env, GIT_AUTHOR_NAME: 'Bench', GIT_AUTHOR_EMAIL: 'bench@example.test', GIT_COMMITTER_NAME: 'Bench', GIT_COMMITTER_EMAIL: 'bench@example.test' };

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: GIT_ENV, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 }).trim();
}

export interface SourceFile {
  rel: string;
  abs: string;
}

/** A folder's entries sorted by name (a walk in the same order on every machine); none if it cannot be read. */
export function sortedEntries(dir: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch {
    return [];
  }
}

/** The corpus files: code of the installed packages, as the indexer would keep it. */
export function collectSources(maxFiles: number): SourceFile[] {
  const out: SourceFile[] = [];
  const walk = (dir: string, rel: string) => {
    for (const e of sortedEntries(dir)) {
      if (out.length >= maxFiles) return;
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (r !== '.bin' && !isSkippedPath(`${r}/x`) && !(rel && e.name === 'node_modules')) walk(path.join(dir, e.name), r);
      } else if (e.isFile() && /\.(ts|js)$/.test(e.name) && !isSkippedPath(r)) {
        const size = fs.statSync(path.join(dir, e.name)).size;
        if (size > 0 && size <= 1024 * 1024) out.push({ rel: r, abs: path.join(dir, e.name) });
      }
    }
  };
  walk(path.join(ROOT, 'node_modules'), '');
  return out;
}

/** A git repository at `dir` with `copies` copies of the sources (copy i under `copy<i>/`, each file with a line naming its copy); returns its head. */
export function commitCorpus(dir: string, sources: SourceFile[], copies = 1): string {
  fs.mkdirSync(dir, { recursive: true });
  for (let c = 0; c < copies; c++) {
    for (const s of sources) {
      const dest = path.join(dir, copies === 1 ? '' : `copy${c}`, s.rel);
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      if (copies === 1) fs.copyFileSync(s.abs, dest);
      else fs.writeFileSync(dest, `// corpus copy ${c}\n${fs.readFileSync(s.abs, 'utf8')}`);
    }
  }
  git(path.dirname(dir), 'init', '-q', '-b', 'main', dir);
  git(dir, 'config', 'gc.auto', '0'); // no background repack during the measurements
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'corpus');
  return git(dir, 'rev-parse', 'HEAD');
}

function ticks(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** CPU seconds (user + system) of PostgreSQL: the postmaster, its live children and those it reaped (closed connections), from /proc. */
export function postgresCpu(pgdata: string): number {
  try {
    const pid = Number(fs.readFileSync(path.join(pgdata, 'postmaster.pid'), 'utf8').split('\n')[0]);
    let sum = 0;
    for (const p of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(p)) continue;
      try {
        const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        if (ppid === pid) sum += ticks(stat);
        if (Number(p) === pid) {
          const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
          sum += ticks(stat) + Number(f[13]) + Number(f[14]);
        }
      } catch {
        /* gone */
      }
    }
    return sum / 100;
  } catch {
    return NaN;
  }
}

/** CPU seconds of this process's waited-for children (git, ctags), from /proc/self/stat. */
export function childrenCpu(): number {
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

/** CPU seconds of this whole process (every thread) and of its live parse processes. */
export function nodeCpu(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6 + parseProcessesCpu();
}

/** CPU seconds of the live processes of this process's parse pool, from /proc. */
export function parseProcessesCpu(): number {
  return processesCpu(parsePool().pids);
}

/** CPU seconds of the given live processes, from /proc (one that has exited counts 0). */
export function processesCpu(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      total += ticks(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')) / 100;
    } catch {
      // exited
    }
  }
  return total;
}

/** A bench's repo row to index a corpus into (an account of its own, a URL repo), as the service would have it. */
export async function insertBenchRepo(db: { query(sql: string, params?: unknown[]): Promise<Array<{ id: string }>> }, name: string): Promise<string> {
  const [account] = await db.query(`INSERT INTO accounts (name, webhook_secret) VALUES ($1, 'x') RETURNING id`, [name]);
  const [row] = await db.query(
    `INSERT INTO repos (account_id, source, source_key, name, clone_url) VALUES ($1, 'url', $2, $2, 'https://example.test/corpus.git') RETURNING id`,
    [account.id, `bench/${name}`],
  );
  return row.id;
}

/** CPU seconds of the main thread alone. */
export function mainThreadCpu(): number {
  return ticks(fs.readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8')) / 100;
}
