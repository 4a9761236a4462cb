// Code search benchmark (`npm run bench:search`, CONTRACT §14): a corpus of BENCH_REPOS repos
// (default 1,000) and ~BENCH_CORPUS_MB of real source text (default 1,000 MB) — the text files of
// this project's node_modules (code of many languages nobody here wrote), split deterministically
// over the repos, kept on disk as one checkout per repo and committed into one bare repo each with
// git fast-import — indexed with indexCommit (2 at a time) into a PostgreSQL of its own. Then each
// kind of query (rare and common literals, expressions with and without a literal, file:/lang:
// filtered, sym:) through codeSearch over every repo (the /v1/search path) and over one repo, with
// p50/p95, the search's stats and the time per SQL statement (the EntityManager's `query` wrapped
// here: codeSearch is not changed); in the same run over the same files: git grep, ripgrep
// (Debian's, installed when missing and allowed) and Zoekt (when it builds from its Go module, or from a checkout of it in BENCH_ZOEKT_SRC).
// Figures only: nothing here asserts a time. BENCH_SEARCH_HOLD=1 keeps the database up after the
// report (its URL, the repos and the queries in hold.json) until Ctrl-C; BENCH_SEARCH_AGAINST=<that
// hold.json> then times only our searches against it (see against; BENCH_SEARCH_ONLY=<text> picks queries).
import { spawn, spawnSync } from 'node:child_process';
import { isUtf8 } from 'node:buffer';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DataSource, EntityManager } from 'typeorm';
import { openDatabase } from '../src/db/data-source';
import { streamRows, type RowStreaming } from '../src/db/each-row';
import { DEFAULT_LIMITS, indexCommit } from '../src/indexer';
import { closeParsePools, parsePool } from '../src/indexer/parse-pool';
import { isSkippedPath, SKIPPED_DIRS } from '../src/indexer/paths';
import { codeSearch, type CodeSearchAnswer, type SearchRepo } from '../src/search/code-search';
import { filterCacheStats } from '../src/search/filter-cache';
import { keptScope } from '../src/search/scope-cache';
import { git as gitAsync } from '../test/fakes/bitbucket/git';
import { recording, type Statement } from '../test/search/recorded-statements';
import { importCommit, type ImportedFile } from '../test/support/fast-import';
import { childrenCpu, nodeCpu, postgresCpu, sortedEntries } from './index-corpus';
import { fmtMs, loadAverage, pct, printReport, runBench, say, startBenchServers, type Row } from './support';

const REPOS = Number(process.env.BENCH_REPOS ?? 1000);
const CORPUS_MB = Number(process.env.BENCH_CORPUS_MB ?? 1000);
/**
 * Timed runs of each query through codeSearch (after one untimed run that warms the caches), and by
 * Zoekt (milliseconds too): 10, so that a kind's p95 (3–4 queries: 30–40 runs) is not simply its
 * slowest run, as it was at 5 (15 runs: p95 by nearest rank is the 15th). The slowest is printed beside it.
 */
const RUNS = Number(process.env.BENCH_RUNS ?? 10);
/** Timed runs of each query by git grep and ripgrep (after one untimed run): seconds each. */
const BASELINE_RUNS = Number(process.env.BENCH_BASELINE_RUNS ?? 3);
const INDEX_SLOTS = 2;
const LIMIT = 50;
const ROOT = path.resolve(__dirname, '..', '..');
const NODE_MODULES = path.join(ROOT, 'node_modules');
const ZOEKT_HOME = process.env.BENCH_ZOEKT_DIR ?? path.join(os.homedir(), '.cache', 'lettuce', 'zoekt');
const INDEX_TABLES = ['index_blobs', 'index_blocks', 'index_postings', 'index_segments', 'index_entries', 'index_symbols'];
/** Text files of source code, docs and data: what a code base holds besides its binaries. */
const TEXT_FILE =
  /\.(js|mjs|cjs|jsx|ts|mts|cts|tsx|json|jsonc|md|markdown|txt|py|go|c|h|cc|cpp|hpp|rs|java|kt|rb|php|cs|swift|css|scss|less|html|htm|xml|yml|yaml|toml|ini|sql|proto|sh|bash|ps1|bnf|graphql|jst|puml|flow|el|lua|pl)$/i;

const fmt = (n: number, d = 1) => n.toFixed(d);
const mb = (bytes: number) => bytes / 1e6;
const sha1 = (b: Buffer | string) => crypto.createHash('sha1').update(b).digest();
const int = (n: number) => n.toLocaleString('en-US');

type Kind = 'rare literal' | 'common literal' | 'regex with a literal' | 'regex without a literal' | 'file:/lang: + literal' | 'sym:';
const KINDS: Kind[] = ['rare literal', 'common literal', 'regex with a literal', 'regex without a literal', 'file:/lang: + literal', 'sym:'];

interface BenchQuery {
  kind: Kind;
  /** The query as /v1/search takes it. */
  q: string;
  /** The same search for ripgrep and git grep (null: they have no equivalent, e.g. sym:). */
  grep: { pattern: string; fixed: boolean; glob: string | null } | null;
  /** The same search in Zoekt's query language. */
  zoekt: string | null;
  /** The repo of the per-repo search. */
  repo: number;
}

// ── Corpus ──────────────────────────────────────────────────────────────────────────────────────

interface Source {
  /** The path in a corpus repo: node_modules' path with segments the indexer skips renamed. */
  rel: string;
  abs: string;
  size: number;
}

/** A path of node_modules as a path in a repo: directories the indexer never reads (node_modules, dist…) get a `_` in front. */
function corpusPath(rel: string): string | null {
  const parts = rel.split('/');
  if (parts.some((p) => p.startsWith('.'))) return null; // hidden: ripgrep would not read it
  const mapped = parts.map((p, i) => (i < parts.length - 1 && SKIPPED_DIRS.has(p) ? `_${p}` : p)).join('/');
  return isSkippedPath(mapped) ? null : mapped; // minified files and source maps: the indexer skips them
}

/** Every distinct text file of node_modules (sorted by path; the first of identical contents), and candidate rare identifiers from a sample. */
function collectDistinct(): { files: Source[]; copiesSkipped: number; candidates: Map<string, string> } {
  const files: Source[] = [];
  const seen = new Set<string>();
  const candidates = new Map<string, string>(); // lower case → as first seen
  let copiesSkipped = 0;
  const walk = (dir: string, rel: string) => {
    for (const e of sortedEntries(dir)) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (!e.name.startsWith('.')) walk(path.join(dir, e.name), r);
        continue;
      }
      if (!e.isFile() || !TEXT_FILE.test(e.name)) continue;
      const mapped = corpusPath(r);
      if (!mapped) continue;
      const abs = path.join(dir, e.name);
      const size = fs.statSync(abs).size;
      if (size === 0 || size > DEFAULT_LIMITS.maxFileBytes) continue;
      const bytes = fs.readFileSync(abs);
      // Text as the indexer keeps it unchanged: UTF-8, no NUL, no UTF-16 byte-order mark.
      if (bytes.indexOf(0) >= 0 || !isUtf8(bytes) || (bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) continue;
      const key = sha1(bytes).toString('hex');
      if (seen.has(key)) {
        copiesSkipped++;
        continue;
      }
      seen.add(key);
      if (files.length % 64 === 7 && /\.(js|ts|mjs|cjs|rs|go|c|h|java|py)$/.test(e.name)) {
        let taken = 0;
        for (const m of bytes.toString('utf8').matchAll(/[A-Za-z_$][A-Za-z0-9_$]*/g)) {
          const w = m[0];
          if (w.length >= 18 && w.length <= 40 && /[a-z]/.test(w) && /[A-Z]/.test(w) && !/^[A-Z0-9_$]+$/.test(w)) {
            if (!candidates.has(w.toLowerCase())) candidates.set(w.toLowerCase(), w);
            if (++taken >= 6) break;
          }
        }
      }
      files.push({ rel: mapped, abs, size });
    }
  };
  walk(NODE_MODULES, '');
  return { files, copiesSkipped, candidates };
}

interface Corpus {
  dir: string;
  names: string[];
  gitDirs: string[];
  heads: string[];
  files: number;
  bytes: number;
  distinctFiles: number;
  distinctBytes: number;
  /** Times the distinct text was laid down (a fraction for a partial last round). */
  rounds: number;
  note: string;
  /** Identifier (lower case) → [occurrences as a whole word in the corpus's first round, repo of the first]. */
  tokenCounts: Map<string, [number, number]>;
  /** Identifier (lower case) → as written where it was sampled. */
  tokenCase: Map<string, string>;
}

/** A deterministic number in [0, 1) for a file and a round. */
function frac(rel: string, round: number): number {
  return sha1(`${round}:${rel}`).readUInt32BE(0) / 2 ** 32;
}

async function buildCorpus(base: string): Promise<Corpus> {
  const { files: distinct, copiesSkipped, candidates } = collectDistinct();
  const distinctAll = distinct.reduce((n, f) => n + f.size, 0);
  const target = CORPUS_MB * 1e6;
  // Round 0: the distinct files (a prefix of them, by path, when they are more than the target);
  // round r > 0: the same files again under copy<r>/, each in the repo after its round-0 repo.
  let used = distinct;
  let rounds = 1;
  if (distinctAll >= target) {
    let sum = 0;
    used = [];
    for (const f of distinct) {
      if (sum >= target) break;
      used.push(f);
      sum += f.size;
    }
  } else {
    rounds = target / distinctAll;
  }
  const usedBytes = used.reduce((n, f) => n + f.size, 0);
  const perRepo = usedBytes / REPOS;
  const chunkOf: number[] = [];
  let cum = 0;
  for (const f of used) {
    chunkOf.push(Math.min(REPOS - 1, Math.floor(cum / perRepo)));
    cum += f.size;
  }
  const entries: Array<Array<{ src: Source; rel: string; round: number }>> = Array.from({ length: REPOS }, () => []);
  for (let r = 0; r < Math.ceil(rounds); r++) {
    const whole = r < Math.floor(rounds);
    const part = rounds - Math.floor(rounds);
    used.forEach((f, i) => {
      if (whole || frac(f.rel, r) < part) entries[(chunkOf[i] + r) % REPOS].push({ src: f, rel: r === 0 ? f.rel : `copy${r}/${f.rel}`, round: r });
    });
  }

  const dir = path.join(base, 'corpus');
  const gitRoot = path.join(base, 'git');
  fs.mkdirSync(dir, { recursive: true });
  fs.mkdirSync(gitRoot, { recursive: true });
  const width = String(REPOS - 1).length;
  const names = Array.from({ length: REPOS }, (_, i) => `repo-${String(i).padStart(Math.max(4, width), '0')}`);
  const gitDirs = names.map((n) => path.join(gitRoot, `${n}.git`));
  const heads: string[] = new Array(REPOS);
  const tokenCounts = new Map<string, [number, number]>();
  for (const c of candidates.keys()) tokenCounts.set(c, [0, -1]);
  let files = 0;
  let bytes = 0;
  await mapBounded(
    names.map((_, i) => i),
    INDEX_SLOTS,
    async (i) => {
      const out: ImportedFile[] = [];
      const written = new Set<string>();
      for (const e of entries[i]) {
        if (written.has(e.rel)) continue;
        written.add(e.rel);
        const content = fs.readFileSync(e.src.abs);
        const dest = path.join(dir, names[i], e.rel);
        fs.mkdirSync(path.dirname(dest), { recursive: true });
        fs.writeFileSync(dest, content);
        out.push({ path: e.rel, content });
        files++;
        bytes += content.length;
        if (e.round === 0) {
          for (const m of content.toString('utf8').matchAll(/[A-Za-z_$][A-Za-z0-9_$]*/g)) {
            if (m[0].length < 18 || m[0].length > 40) continue;
            const t = tokenCounts.get(m[0].toLowerCase());
            if (t) {
              t[0]++;
              if (t[1] < 0) t[1] = i;
            }
          }
        }
      }
      await gitAsync(['init', '-q', '--bare', '-b', 'main', gitDirs[i]]);
      heads[i] = await importCommit(gitDirs[i], 'main', out, 'corpus');
    },
  );
  const note =
    rounds > 1
      ? `node_modules holds ${fmt(mb(distinctAll))} MB of distinct text in ${int(distinct.length)} files (${int(copiesSkipped)} identical copies left out): to reach ~${CORPUS_MB} MB the files are reused ${fmt(rounds, 2)} times — again under copy<r>/ in the next repo (round r in the repo r after the first's), the last round a deterministic ${fmt(100 * (rounds - Math.floor(rounds)), 0)}% of them`
      : `the first ${int(used.length)} of node_modules' ${int(distinct.length)} distinct text files by path (${fmt(mb(usedBytes))} of ${fmt(mb(distinctAll))} MB; ${int(copiesSkipped)} identical copies left out), no file used twice`;
  return { dir, names, gitDirs, heads, files, bytes, distinctFiles: used.length, distinctBytes: usedBytes, rounds, note, tokenCounts, tokenCase: candidates };
}

async function mapBounded<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]);
    }),
  );
}

// ── Baseline tools ──────────────────────────────────────────────────────────────────────────────

function works(cmd: string, args: string[]): boolean {
  return spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
}

/** ripgrep, or why not: Debian's `ripgrep` is installed when missing and this is root with apt-get (as test/support/browser.ts does for chromium). */
function ensureRipgrep(): { rg: string } | { reason: string } {
  if (works('rg', ['--version'])) return { rg: 'rg' };
  const canInstall = process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
  if (!canInstall) return { reason: "ripgrep (rg) is not installed and this process cannot install it (not root, or no apt-get): install Debian's ripgrep to get this baseline." };
  say("installing Debian's ripgrep (apt-get install ripgrep)…");
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const run = spawnSync('sh', ['-c', 'apt-get update -qq && apt-get install -y -qq --no-install-recommends ripgrep'], { env, encoding: 'utf8', timeout: 9 * 60_000 });
  if (run.status !== 0 || !works('rg', ['--version'])) {
    return { reason: `apt-get install ripgrep failed: ${(run.stderr || run.stdout || String(run.error ?? '')).trim().split('\n').slice(-2).join(' ')}` };
  }
  return { rg: 'rg' };
}

/** Zoekt's indexer and web server (its JSON search API), built once into ZOEKT_HOME from its Go module, or why not (one line). */
function ensureZoekt(): { index: string; server: string } | { reason: string } {
  const bin = path.join(ZOEKT_HOME, 'bin');
  const tools = { index: path.join(bin, 'zoekt-index'), server: path.join(bin, 'zoekt-webserver') };
  if (fs.existsSync(tools.index) && fs.existsSync(tools.server)) return tools;
  if (!works('go', ['version'])) return { reason: 'no Go toolchain (go) on this machine' };
  fs.mkdirSync(bin, { recursive: true });
  say(`building Zoekt (go install …/cmd/zoekt-index@latest …/cmd/zoekt-webserver@latest into ${bin}, at most 10 minutes)…`);
  const run = spawnSync('go', ['install', 'github.com/sourcegraph/zoekt/cmd/zoekt-index@latest', 'github.com/sourcegraph/zoekt/cmd/zoekt-webserver@latest'], {
    cwd: ZOEKT_HOME,
    env: { ...process.env, GOFLAGS: '-mod=mod', GOBIN: bin },
    encoding: 'utf8',
    timeout: 10 * 60_000,
  });
  if (run.status === 0 && fs.existsSync(tools.index) && fs.existsSync(tools.server)) return tools;
  // The module proxy may refuse Zoekt itself but serve its dependencies: a checkout of its
  // repository (BENCH_ZOEKT_SRC) is then built in place.
  const src = process.env.BENCH_ZOEKT_SRC;
  if (src && fs.existsSync(path.join(src, 'go.mod'))) {
    say(`go install failed; building Zoekt from the checkout in BENCH_ZOEKT_SRC (${src})…`);
    const built = spawnSync('go', ['build', '-o', bin + path.sep, './cmd/zoekt-index', './cmd/zoekt-webserver'], { cwd: src, env: { ...process.env, GOFLAGS: '-mod=mod' }, encoding: 'utf8', timeout: 10 * 60_000 });
    if (built.status === 0 && fs.existsSync(tools.index) && fs.existsSync(tools.server)) return tools;
  }
  const why = run.error ? String(run.error.message) : (run.stderr || run.stdout || `exit ${run.status}`);
  // The registry's address stays out of what the bench prints.
  return { reason: `go install failed: ${why.replace(/https?:\/\/\S+/g, '<module proxy>').replace(/\s+/g, ' ').trim().slice(0, 300)}` };
}

/** Runs a command to its end, counting the lines it prints (its output is read, as a user reads it), with the wall time. */
function timedRun(cmd: string, args: string[], cwd: string): Promise<{ ms: number; lines: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let lines = 0;
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      for (let at = d.indexOf(10); at >= 0; at = d.indexOf(10, at + 1)) lines++;
    });
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
    child.once('error', reject);
    child.once('close', (code) => {
      const ms = performance.now() - started;
      // grep's convention: 1 = nothing found.
      if (code === 0 || code === 1) resolve({ ms, lines });
      else reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${err.trim()}`));
    });
  });
}

function rgArgs(g: NonNullable<BenchQuery['grep']>): string[] {
  return ['--no-ignore', '-n', '-i', ...(g.fixed ? ['-F'] : []), ...(g.glob ? ['-g', g.glob] : []), '-e', g.pattern, '.'];
}

function gitGrepArgs(g: NonNullable<BenchQuery['grep']>): string[] {
  return ['grep', '-n', '-I', '-i', g.fixed ? '-F' : '-P', '-e', g.pattern, ...(g.glob ? ['--', g.glob] : [])];
}

// ── The search, its statements timed ────────────────────────────────────────────────────────────

/** A name for each statement codeSearch runs, and for the JavaScript work after it (until the next one). */
const STATEMENTS: Array<{ re: RegExp; sql: string; after: string }> = [
  // The Bloom filters (src/search/filter-cache.ts): read only when not cached yet (the timed runs follow a warm-up run).
  { re: /path_bloom AS filter/, sql: 'path filters: fetch (SQL)', after: 'path filters: test the plan (JS)' },
  { re: /trigram_bloom AS filter/, sql: 'segment filters: fetch (SQL)', after: 'segment filters: test the plan (JS)' },
  { re: /quad_bloom AS filter/, sql: 'segment 4-gram filters: fetch (SQL)', after: 'segment filters: test the plan (JS)' },
  // The scope (src/search/scope-cache.ts): the index changes since the kept copy, and its rows only when one is the scope's.
  // After it, with everything kept: the path filters tested, the kept file names matched, the segment filters tested.
  { re: /FROM index_changes/, sql: 'scope: changes since kept (SQL)', after: 'scope + path filters, file names, segment filters (JS)' },
  { re: /trigram_bloom IS NOT NULL/, sql: 'scope: segments (SQL)', after: 'scope + path filters: test the plan (JS)' },
  { re: /FROM index_generations/, sql: 'scope: active generations (SQL)', after: 'scope + path filters: test the plan (JS)' },
  // sym: the first repos' definitions (an index scan each), then the rest's (one scan), each followed by their blobs' lines.
  { re: /CROSS JOIN LATERAL \(SELECT sha, line FROM index_symbols/, sql: "symbol definitions: the first repos' (SQL)", after: 'symbols: paths, order (JS)' },
  { re: /JOIN index_symbols/, sql: "symbol definitions: the other repos' (SQL)", after: 'symbols: paths, order (JS)' },
  { re: /JOIN index_blobs b ON b\.repo_id = k\.repo_id/, sql: 'symbol lines: read blobs (SQL)', after: 'symbol lines: match (JS)' },
  // The generations' files (src/search/file-cache.ts): read only when not kept yet, for the file-name pass or the blocks' paths.
  { re: /type = 'file' ORDER BY path OFFSET 0/, sql: "generations' files: fetch (SQL)", after: 'file names: match; segment filters: test the plan (JS)' },
  // When the repos have more files than the cache keeps: the paths holding the literal, and the blocks' paths, in SQL.
  { re: /strpos\(lower\(path\)/, sql: 'file names: paths query (SQL)', after: 'file names: match; segment filters: test the plan (JS)' },
  { re: /AS k\(repo_id, sha, generation_id\)/, sql: 'paths of the blocks (SQL)', after: 'paths: file:/lang: filter (JS)' },
  { re: /AS segment_id/, sql: 'candidates: posting lists (SQL)', after: 'candidates: decode + plan (JS)' },
  // Without file:/lang:, one statement reads a batch of blocks with their text; with them, the candidates' rows first (in one statement), then the text of those the filters keep a batch at a time.
  { re: /substring\(x\.content[\s\S]*FROM index_blocks/, sql: 'reading blocks (SQL)', after: 'verifying lines (JS)' },
  { re: /FROM index_blocks/, sql: 'blocks of the candidates (SQL)', after: 'blocks: paths, file:/lang: filter (JS)' },
  { re: /substring\(x\.content/, sql: 'reading blocks (SQL)', after: 'verifying lines (JS)' },
  { re: /ORDER BY e\.path LIMIT 64/, sql: 'scan: reading files (SQL)', after: 'scan: verifying lines (JS)' },
];

interface Timed {
  ms: number;
  answer: CodeSearchAnswer;
  /** Milliseconds per phase of this search. */
  phases: Map<string, number>;
  statements: number;
  /** Segments of the scope, and those the candidates statement read posting lists from (their filter admits the plan). */
  segments: { total: number; read: number };
  /** Generations of the scope, and those whose files were read (not kept from a search before). */
  generations: { total: number; read: number };
  /** Candidate blocks read (their rows, then their text when file:/lang: keep them). */
  blocks: number;
}

/**
 * The search's floor without the database: one run's statements recorded (rows and streamed rows,
 * in the order sent), then `runs` runs of codeSearch whose statements are answered from that record
 * in memory — no transaction, no round trip, no row parsing: what this code would cost over an index
 * held in memory. Milliseconds per run, and whether every run answered what the recorded one did
 * (the same statements in the same order). Not for an expression without a literal: its files are
 * read until the deadline, so no two runs send the same statements.
 */
async function replayedSearch(ds: DataSource, repos: SearchRepo[], q: string, runs: number): Promise<{ ms: number[]; same: boolean }> {
  // Each statement's rows: the search sends one statement at a time, so a row is the last statement's.
  const statements: Statement[] = [];
  const recorded: unknown[][] = [];
  const answer = await ds.transaction('REPEATABLE READ', (m) =>
    codeSearch(recording(m, statements, (row) => (recorded[statements.length - 1] ??= []).push(row)), repos, q, LIMIT),
  );
  const rowsOf = (i: number) => recorded[i] ?? [];
  const ms: number[] = [];
  let same = true;
  for (let r = 0; r < runs + 1; r++) {
    let next = 0;
    const replaying = Object.create(ds.manager) as EntityManager & RowStreaming;
    replaying.query = (async () => rowsOf(next++)) as unknown as EntityManager['query'];
    replaying.eachRow = async <Row>(_sql: string, _params: unknown[], onRow: (row: Row) => void) => (rowsOf(next++) as Row[]).forEach((row) => onRow(row));
    const t = performance.now();
    const replayed = await codeSearch(replaying, repos, q, LIMIT);
    if (r > 0) ms.push(performance.now() - t); // the first: untimed, like ours
    same &&= next === statements.length && JSON.stringify(replayed.results) === JSON.stringify(answer.results);
  }
  return { ms, same };
}

async function timedSearch(ds: DataSource, repos: SearchRepo[], q: string, filters = true): Promise<Timed> {
  const events: Array<{ label: string; after: string; start: number; end: number; inner?: { label: string; ms: number } }> = [];
  const segments = { total: 0, read: 0 };
  const generations = { total: 0, read: 0 };
  let blocks = 0;
  const lookedUp = new Set<string>();
  let inside = 0;
  let insideEnd = 0;
  const t0 = performance.now();
  const answer = await ds.transaction('REPEATABLE READ', async (m) => {
    inside = performance.now();
    const timed = Object.create(m) as EntityManager;
    timed.query = (async (sql: string, params?: unknown[]) => {
      const start = performance.now();
      try {
        const rows = await m.query(sql, params);
        // Every lookup's segments (a wave's second lookup, for more of a long literal's trigrams, looks at some of them again).
        if (/AS segment_id/.test(sql)) {
          for (const id of [...(params![1] as string[]), ...(params![3] as string[])]) lookedUp.add(String(id));
          segments.read = lookedUp.size;
        }
        if (/type = 'file' ORDER BY path OFFSET 0/.test(sql)) generations.read += (params![1] as string[]).length;
        if (/FROM index_blocks WHERE segment_id = c\.s/.test(sql)) blocks += (params![0] as string[]).length;
        return rows;
      } finally {
        const s = STATEMENTS.find((x) => x.re.test(sql));
        const label = s?.sql ?? `${sql.trim().split(/\s+/).slice(0, 4).join(' ')} (SQL)`;
        events.push({ label, after: s?.after ?? 'other (JS)', start, end: performance.now() });
      }
    }) as EntityManager['query'];
    // Blocks streamed (src/db/each-row.ts): their lines are verified as the rows arrive, so the statement's time holds that JavaScript; it is told apart.
    (timed as RowStreaming).eachRow = async <Row>(sql: string, params: unknown[], onRow: (row: Row) => void) => {
      const start = performance.now();
      let js = 0;
      try {
        await streamRows<Row>(m, sql, params, (row) => {
          const t = performance.now();
          try {
            onRow(row);
          } finally {
            js += performance.now() - t;
          }
        });
        if (/FROM index_blocks WHERE segment_id = c\.s/.test(sql)) blocks += (params[0] as string[]).length;
      } finally {
        const s = STATEMENTS.find((x) => x.re.test(sql));
        events.push({ label: s?.sql ?? 'streamed (SQL)', after: s?.after ?? 'other (JS)', start, end: performance.now(), inner: { label: 'verifying lines, as the rows arrive (JS)', ms: js } });
      }
    };
    const a = await codeSearch(timed, repos, q, LIMIT, undefined, { filters });
    insideEnd = performance.now();
    // The scope's size, from what the search kept of it (no statement: the time is not the search's).
    const kept = keptScope(repos.map((r) => r.id));
    segments.total = kept?.segments.length ?? 0;
    generations.total = kept?.generations.length ?? 0;
    return a;
  });
  const t1 = performance.now();
  const phases = new Map<string, number>();
  const add = (k: string, v: number) => phases.set(k, (phases.get(k) ?? 0) + v);
  add('BEGIN + COMMIT (transaction)', inside - t0 + (t1 - insideEnd));
  add('parse + compile the query (JS)', (events[0]?.start ?? insideEnd) - inside);
  events.forEach((e, i) => {
    add(e.label, e.end - e.start - (e.inner?.ms ?? 0));
    if (e.inner) add(e.inner.label, e.inner.ms);
    add(e.after, (events[i + 1]?.start ?? insideEnd) - e.end);
  });
  return { ms: t1 - t0, answer, phases, statements: events.length, segments, generations, blocks };
}

interface KindFigures {
  all: number[];
  /** The same searches over all repos with the Bloom filters off (every segment and generation read), interleaved with `all`. */
  off: number[];
  offResults: number[];
  perRepo: number[];
  phases: Map<string, number>;
  statements: number;
  searches: number;
  files: number[];
  repos: number[];
  truncated: number;
  results: number[];
  rg: number[];
  gitGrep: number[];
  zoekt: number[];
  /** Ours with every statement answered from memory (see replayedSearch), for the kinds Zoekt runs. */
  replayed: number[];
  /** Per query: lines found by ours (capped by the limit), rg, git grep, Zoekt. */
  counts: string[];
  /** Sums over the timed searches of Timed's segments and generations. */
  pruning: { segments: number; segmentsRead: number; generations: number; generationsRead: number; blocks: number };
}

// ── Main ────────────────────────────────────────────────────────────────────────────────────────

async function main(): Promise<void> {
  const started = Date.now();
  const [load1] = os.loadavg();
  say(`Code search benchmark — ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), node ${process.version}, load average ${loadAverage()} at the start`);
  say(`BENCH_REPOS=${REPOS} BENCH_CORPUS_MB=${CORPUS_MB} BENCH_RUNS=${RUNS} BENCH_BASELINE_RUNS=${BASELINE_RUNS}`);
  const servers = await startBenchServers('search', { temporal: false });
  let ds: DataSource | null = null;
  let zoektServer: ZoektServer | null = null;
  try {
    // ── Baseline tools first (an install or a build is not part of any figure) ──────────────────
    const rg = ensureRipgrep();
    say('rg' in rg ? `ripgrep: ${spawnSync('rg', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0]}` : `ripgrep: skipped — ${rg.reason}`);
    const zoekt = ensureZoekt();
    say('index' in zoekt ? `Zoekt: ${zoekt.index}, ${zoekt.server}` : `Zoekt: skipped — ${zoekt.reason}`);
    const before14 = indexUnchangedSince14();
    say(`index before §14: ${before14.text}`);

    // ── Corpus ──────────────────────────────────────────────────────────────────────────────────
    let t = Date.now();
    const corpus = await buildCorpus(servers.dir);
    const corpusS = (Date.now() - t) / 1000;
    say('');
    say(`corpus: ${int(corpus.files)} files, ${fmt(mb(corpus.bytes))} MB over ${REPOS} repos (one checkout per repo under corpus/, one bare repo each written with git fast-import) in ${fmt(corpusS)} s`);
    say(`  ${corpus.note}`);
    t = Date.now();
    // git grep's repository: one repo whose work tree is the corpus root (every repo's checkout), so
    // that git grep searches exactly the files ripgrep searches, in one process.
    await gitAsync(['init', '-q', corpus.dir]);
    await gitAsync(['-c', 'core.looseCompression=1', 'add', '-A', '.'], { cwd: corpus.dir });
    const tracked = (await gitAsync(['ls-files'], { cwd: corpus.dir })).split('\n').filter(Boolean).length;
    say(`  git grep's repo: one repository holding every repo's checkout (the corpus root, ${int(tracked)} files tracked, git add in ${fmt((Date.now() - t) / 1000)} s); git grep searches its work tree`);

    // ── Index: indexCommit, 2 at a time ─────────────────────────────────────────────────────────
    ds = await openDatabase(servers.pg.url, { poolSize: 8 });
    const [account] = await ds.query(`INSERT INTO accounts (name, webhook_secret) VALUES ('search-bench', 'x') RETURNING id`);
    const rows = (await ds.query(
      `INSERT INTO repos (account_id, source, source_key, name, clone_url, default_branch)
       SELECT $1, 'url', 'bench:' || n, n, 'https://example.test/' || n || '.git', 'main' FROM unnest($2::text[]) AS n RETURNING id, name`,
      [account.id, corpus.names],
    )) as Array<{ id: string; name: string }>;
    const idOf = new Map(rows.map((r) => [r.name, r.id]));
    const repos: SearchRepo[] = corpus.names.map((n) => ({ id: idOf.get(n)!, name: n }));
    const pgdata = path.join(servers.dir, 'postgres');
    parsePool(); // started before the clock, as a worker process's pool is
    await new Promise((r) => setTimeout(r, 300));
    const cpu0 = { node: nodeCpu(), pg: postgresCpu(pgdata), git: childrenCpu() };
    t = Date.now();
    let indexedFiles = 0;
    let indexedBytes = 0;
    let done = 0;
    let mark = { s: 0, bytes: 0, node: cpu0.node, pg: cpu0.pg, git: cpu0.git };
    await mapBounded(
      corpus.names.map((_, i) => i),
      INDEX_SLOTS,
      async (i) => {
        const r = await indexCommit(ds!, { repoId: repos[i].id, gitDir: corpus.gitDirs[i], commit: corpus.heads[i] });
        indexedFiles += r.filesIndexed;
        indexedBytes += r.bytes;
        if (++done % 100 === 0) {
          // The last 100 builds alone: does a build cost more as the tables grow?
          const now = { s: (Date.now() - t) / 1000, bytes: indexedBytes, node: nodeCpu(), pg: postgresCpu(pgdata), git: childrenCpu() };
          const c = { node: now.node - mark.node, pg: now.pg - mark.pg, git: now.git - mark.git };
          say(
            `  … ${done} repos indexed (${fmt(now.s)} s); these 100: ${fmt(mb(now.bytes - mark.bytes))} MB in ${fmt(now.s - mark.s)} s, CPU node ${fmt(c.node)} s, PostgreSQL ${fmt(c.pg)} s, git ${fmt(c.git)} s → ${fmt(mb(now.bytes - mark.bytes) / (c.node + c.pg + c.git), 2)} MB per CPU-second`,
          );
          mark = now;
        }
      },
    );
    const indexS = (Date.now() - t) / 1000;
    await new Promise((r) => setTimeout(r, 200)); // let the last git children exit, so their CPU counts
    const cpu = { node: nodeCpu() - cpu0.node, pg: postgresCpu(pgdata) - cpu0.pg, git: childrenCpu() - cpu0.git };
    const indexCpu = cpu.node + cpu.pg + cpu.git;
    const mbPerCpu = mb(indexedBytes) / indexCpu;
    await closeParsePools(); // the cores are the searches' from here on
    say('');
    say(
      `index: ${int(indexedFiles)} files, ${fmt(mb(indexedBytes))} MB of text in ${fmt(indexS)} s (${fmt(mb(indexedBytes) / indexS, 2)} MB/s wall); CPU ${fmt(indexCpu)} s (node and its parse processes ${fmt(cpu.node)}, PostgreSQL ${fmt(cpu.pg)}, git ${fmt(cpu.git)}) → ${fmt(mbPerCpu, 2)} MB per CPU-second`,
    );
    if (indexedFiles !== corpus.files) say(`  NOTE: the index holds ${indexedFiles} files, the corpus ${corpus.files}: the engines do not search exactly the same files`);
    const sizes = (await ds.query(`SELECT t, pg_total_relation_size(t::regclass)::bigint AS bytes FROM unnest($1::text[]) AS t`, [INDEX_TABLES])) as Array<{ t: string; bytes: string }>;
    const indexBytes = sizes.reduce((n, s) => n + Number(s.bytes), 0);
    say(`  index tables ${fmt(mb(indexBytes))} MB = ${fmt(indexBytes / indexedBytes, 2)}× the text: ${sizes.map((s) => `${s.t} ${fmt(mb(Number(s.bytes)))}`).join(', ')} MB`);
    const [bloom] = (await ds.query(
      `SELECT count(trigram_bloom)::int AS n, coalesce(sum(octet_length(trigram_bloom)), 0)::bigint AS seg, coalesce(sum(octet_length(quad_bloom)), 0)::bigint AS quads,
              (SELECT coalesce(sum(octet_length(path_bloom)), 0)::bigint FROM index_generations) AS paths FROM index_segments`,
    )) as Array<{ n: number; seg: string; quads: string; paths: string }>;
    const inSegments = Number(bloom.seg) + Number(bloom.quads);
    say(
      `  Bloom filters: ${int(bloom.n)} segments' trigram filters ${fmt(mb(Number(bloom.seg)), 2)} MB and 4-gram filters ${fmt(mb(Number(bloom.quads)), 2)} MB (in index_segments, counted above), path filters ${fmt(mb(Number(bloom.paths)), 2)} MB (index_generations, not among the tables above): +${fmt((100 * (inSegments + Number(bloom.paths))) / (indexBytes - inSegments), 2)}% over the index without them`,
    );
    // The statistics statement a full build ends with (copied from src/indexer/generation-store.ts),
    // now that every repo is in the tables: what each of the last builds paid for it.
    const analyzeMs: number[] = [];
    const pgA = postgresCpu(pgdata);
    for (let i = 0; i < 3; i++) {
      const ta = performance.now();
      await ds.query('ANALYZE index_blobs (repo_id, sha), index_blocks, index_entries, index_symbols, index_postings');
      analyzeMs.push(performance.now() - ta);
    }
    say(
      `  the ANALYZE a full build ends with (generation-store.ts), with all ${REPOS} repos in the tables: median ${fmtMs(pct(analyzeMs, 50))}, ${fmt((postgresCpu(pgdata) - pgA) / 3, 2)} PostgreSQL CPU-s each (${REPOS} builds ran one each)`,
    );
    t = Date.now();
    await ds.query('ANALYZE');
    say(`  ANALYZE (what autovacuum does after such a load) in ${fmt((Date.now() - t) / 1000)} s`);

    // ── Zoekt's index of the same checkouts ─────────────────────────────────────────────────────
    let zoektIndex: { dir: string; s: number; cpu: number; bytes: number } | null = null;
    let zoektReason = 'index' in zoekt ? '' : zoekt.reason;
    if ('index' in zoekt) {
      const zdir = path.join(servers.dir, 'zoekt-index');
      fs.mkdirSync(zdir);
      const c0 = childrenCpu();
      t = Date.now();
      try {
        for (let i = 0; i < REPOS; i += 100) {
          // One repo (shard) per checkout, as Zoekt indexes 1,000 repos.
          const run = spawnSync(zoekt.index, ['-index', zdir, ...corpus.names.slice(i, i + 100).map((n) => path.join(corpus.dir, n))], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
          if (run.status !== 0) throw new Error(`zoekt-index exited ${run.status}: ${(run.stderr || '').trim().split('\n').slice(-2).join(' ')}`);
        }
        const bytes = fs.readdirSync(zdir).reduce((n, f) => n + fs.statSync(path.join(zdir, f)).size, 0);
        zoektIndex = { dir: zdir, s: (Date.now() - t) / 1000, cpu: childrenCpu() - c0, bytes };
        say(`Zoekt index: ${fmt(zoektIndex.s)} s, ${fmt(zoektIndex.cpu)} CPU-s → ${fmt(mb(corpus.bytes) / zoektIndex.cpu, 2)} MB per CPU-second; ${fmt(mb(bytes))} MB of shards (${fmt(bytes / corpus.bytes, 2)}× the text)`);
        zoektServer = await startZoekt(zoekt.server, zdir);
      } catch (err) {
        zoektReason = `Zoekt failed (index or server): ${(err as Error).message.replace(/\s+/g, ' ').slice(0, 300)}`;
        say(`Zoekt: skipped — ${zoektReason}`);
      }
    }

    // ── Queries ─────────────────────────────────────────────────────────────────────────────────
    const queries = await chooseQueries(ds, corpus);
    const figures = new Map<Kind, KindFigures>(
      KINDS.map((k) => [
        k,
        {
          all: [], off: [], offResults: [], perRepo: [], phases: new Map(), statements: 0, searches: 0, files: [], repos: [], truncated: 0, results: [], rg: [], gitGrep: [], zoekt: [], replayed: [], counts: [],
          pruning: { segments: 0, segmentsRead: 0, generations: 0, generationsRead: 0, blocks: 0 },
        },
      ]),
    );
    const mismatches: string[] = [];
    const filterMismatches: string[] = [];
    /** Queries whose search without the database answered otherwise than the run it replayed (then its floor is no floor). */
    const replayMismatches: string[] = [];
    say('');
    say(
      `queries (each: 1 untimed run, then ${RUNS} timed through codeSearch over all ${REPOS} repos, each followed by one with the Bloom filters off (but for expressions without a literal, which test none), and ${RUNS} over one repo; ${BASELINE_RUNS} timed by each baseline after 1 untimed; limit ${LIMIT}):`,
    );
    let cold: Timed | null = null;
    for (const bq of queries) {
      const f = figures.get(bq.kind)!;
      const warm = await timedSearch(ds, repos, bq.q); // warm
      cold ??= warm;
      let last: Timed | null = null;
      for (let r = 0; r < RUNS; r++) {
        const s = await timedSearch(ds, repos, bq.q);
        f.all.push(s.ms);
        for (const [k, v] of s.phases) f.phases.set(k, (f.phases.get(k) ?? 0) + v);
        f.statements += s.statements;
        f.pruning.segments += s.segments.total;
        f.pruning.segmentsRead += s.segments.read;
        f.pruning.generations += s.generations.total;
        f.pruning.generationsRead += s.generations.read;
        f.pruning.blocks += s.blocks;
        f.searches++;
        if (bq.kind !== 'regex without a literal') {
          const off = await timedSearch(ds, repos, bq.q, false);
          f.off.push(off.ms);
          f.offResults.push(off.answer.results.length);
          if (JSON.stringify(off.answer.results) !== JSON.stringify(s.answer.results) && !off.answer.stats.truncated && !s.answer.stats.truncated) {
            filterMismatches.push(JSON.stringify(bq.q));
          }
        }
        f.files.push(s.answer.stats.files);
        f.repos.push(s.answer.stats.repos);
        f.results.push(s.answer.results.length);
        if (s.answer.stats.truncated) f.truncated++;
        last = s;
      }
      const one = [repos[bq.repo]];
      await timedSearch(ds, one, bq.q);
      for (let r = 0; r < RUNS; r++) f.perRepo.push((await timedSearch(ds, one, bq.q)).ms);
      const ourLines = last!.answer.results.filter((x) => x.line > 0).length;
      const counts: string[] = [`ours ${ourLines}${last!.answer.stats.truncated ? '+ (truncated)' : ''} lines, ${last!.answer.results.length - ourLines} file names`];
      if (bq.grep && 'rg' in rg) {
        const b = await baseline(() => timedRun(rg.rg, rgArgs(bq.grep!), corpus.dir));
        f.rg.push(...b.ms);
        counts.push(`rg ${int(b.lines)}`);
        if (!last!.answer.stats.truncated && b.lines !== ourLines) mismatches.push(`${JSON.stringify(bq.q)} ours ${ourLines}, rg ${b.lines}`);
      }
      if (bq.grep) {
        const b = await baseline(() => timedRun('git', gitGrepArgs(bq.grep!), corpus.dir));
        f.gitGrep.push(...b.ms);
        counts.push(`git grep ${int(b.lines)}`);
      }
      if (bq.zoekt && zoektServer) {
        const b = await baseline(() => zoektServer!.search(bq.zoekt!), RUNS);
        f.zoekt.push(...b.ms);
        counts.push(`zoekt ${int(b.lines)}`);
        if (bq.kind !== 'regex without a literal') {
          const replayed = await replayedSearch(ds, repos, bq.q, RUNS);
          f.replayed.push(...replayed.ms);
          if (!replayed.same) replayMismatches.push(JSON.stringify(bq.q));
          counts.push(`ours without the database p50 ${fmtMs(pct(replayed.ms, 50))} p95 ${fmtMs(pct(replayed.ms, 95))}`);
        }
      }
      f.counts.push(`${JSON.stringify(bq.q)}: ${counts.join(', ')}`);
      const offText = f.off.length ? ` (filters off ${fmtMs(pct(f.off.slice(-RUNS), 50))})` : '';
      const mine = f.all.slice(-RUNS);
      say(`  [${bq.kind}] ${JSON.stringify(bq.q)}: p50 ${fmtMs(pct(mine, 50))} p95 ${fmtMs(pct(mine, 95))} slowest ${fmtMs(pct(mine, 100))}${offText}; ${counts.join(', ')}`);
    }

    // ── Report ──────────────────────────────────────────────────────────────────────────────────
    const p = (v: number[], q: number) => (v.length ? fmtMs(pct(v, q)) : '—');
    say('');
    say(`per kind (all ${REPOS} repos = /v1/search; one repo = /v1/repos/{id}/search; stats averaged over the timed runs):`);
    for (const k of KINDS) {
      const f = figures.get(k)!;
      const avg = (v: number[]) => (v.length ? v.reduce((a, b) => a + b, 0) / v.length : NaN);
      say(
        `  ${k.padEnd(24)} all repos p50 ${p(f.all, 50)} p95 ${p(f.all, 95)} | one repo p50 ${p(f.perRepo, 50)} p95 ${p(f.perRepo, 95)} | stats: repos ${fmt(avg(f.repos), 0)}, files ${fmt(avg(f.files), 0)}, truncated ${f.truncated}/${f.searches}, results ${fmt(avg(f.results), 0)} | Bloom filters off p50 ${p(f.off, 50)} p95 ${p(f.off, 95)} | rg p50 ${p(f.rg, 50)} p95 ${p(f.rg, 95)} | git grep p50 ${p(f.gitGrep, 50)} p95 ${p(f.gitGrep, 95)} | zoekt p95 ${p(f.zoekt, 95)}`,
      );
    }
    say('');
    say('profile: mean ms per search over all repos, by phase (each SQL statement timed by wrapping the EntityManager\'s query; "(JS)" = the time after that statement until the next one; a streamed statement\'s lines verified as its rows arrive are told apart from it):');
    for (const k of KINDS) {
      const f = figures.get(k)!;
      const total = f.all.reduce((a, b) => a + b, 0) / f.searches;
      const parts = [...f.phases].map(([name, ms]) => [name, ms / f.searches] as const).filter(([, ms]) => ms >= 0.05).sort((a, b) => b[1] - a[1]);
      const pr = f.pruning;
      const pruned = [
        pr.segments ? `posting lists read from ${fmt(pr.segmentsRead / f.searches, 1)} of ${fmt(pr.segments / f.searches, 0)} segments` : '',
      ].filter(Boolean);
      const filesRead = pr.generations ? `; files read of ${fmt(pr.generationsRead / f.searches, 1)} of ${fmt(pr.generations / f.searches, 0)} generations (the rest kept)` : '';
      const blocksText = pr.blocks ? `; ${fmt(pr.blocks / f.searches, 0)} candidate blocks` : '';
      say(`  ${k} (${fmtMs(total)} mean, ${fmt(f.statements / f.searches, 1)} statements${pruned.length ? `; Bloom filters: ${pruned.join(', ')}` : ''}${filesRead}${blocksText}):`);
      for (const [name, ms] of parts) say(`    ${name.padEnd(36)} ${fmtMs(ms).padStart(9)}  ${fmt((100 * ms) / total, 0).padStart(3)}%`);
    }
    if (cold) {
      const fetched = (cold.phases.get('segment filters: fetch (SQL)') ?? 0) + (cold.phases.get('path filters: fetch (SQL)') ?? 0);
      const cache = filterCacheStats();
      say(
        `  the run's first search (${JSON.stringify(queries[0].q)}, untimed above), before any filter was cached: ${fmtMs(cold.ms)}, of which reading the filters ${fmtMs(fetched)}; the filter cache at the end: ${int(cache.entries)} filters, ${fmt(mb(cache.bytes), 2)} MB`,
      );
    }

    const fig = (k: Kind) => figures.get(k)!;
    const p95 = (v: number[]) => pct(v, 95);
    const baselineText = (f: KindFigures) =>
      [f.rg.length ? `rg ${p(f.rg, 50)} / ${p(f.rg, 95)}` : f.gitGrep.length ? 'rg skipped' : 'none (grep tools know no definitions)', f.gitGrep.length ? `git grep ${p(f.gitGrep, 50)} / ${p(f.gitGrep, 95)}` : '', f.zoekt.length ? `zoekt ${p(f.zoekt, 50)} / ${p(f.zoekt, 95)}` : '']
        .filter(Boolean)
        .join('; ');
    const rgRatio = (f: KindFigures) => (f.rg.length ? p95(f.rg) / p95(f.all) : NaN);
    const kindRow = (k: Kind, target: string, ok: (f: KindFigures) => boolean | null): Row => {
      const f = fig(k);
      return {
        figure: `${k} p50 / p95, all ${REPOS} repos (one repo)`,
        value: `${p(f.all, 50)} / ${p(f.all, 95)} (${p(f.perRepo, 50)} / ${p(f.perRepo, 95)}); slowest of ${f.all.length}: ${p(f.all, 100)}`,
        target,
        baseline: [baselineText(f), f.off.length ? `Bloom filters off (same run) ${p(f.off, 50)} / ${p(f.off, 95)}` : ''].filter(Boolean).join('; '),
        ratio: f.rg.length ? `rg/ours p95 ${fmt(rgRatio(f), 1)}×` : '',
        met: ok(f),
      };
    };
    const sizeRatio = before14.unchanged ? 1 : NaN;
    const zoektP95 = (k: Kind) => (fig(k).zoekt.length ? p95(fig(k).zoekt) : NaN);
    const zoektKinds: Kind[] = ['rare literal', 'common literal', 'regex with a literal', 'regex without a literal', 'file:/lang: + literal'];
    const rowsOut: Row[] = [
      { figure: 'corpus', value: `${REPOS} repos, ${int(corpus.files)} files, ${fmt(mb(corpus.bytes))} MB`, target: '1,000 repos, ~1 GB', baseline: corpus.rounds > 1 ? `${fmt(mb(corpus.distinctBytes))} MB distinct, reused ×${fmt(corpus.rounds, 2)}` : `${fmt(mb(corpus.distinctBytes))} MB distinct`, met: null },
      {
        figure: `indexing (indexCommit, ${INDEX_SLOTS} at a time)`,
        value: `${fmt(mbPerCpu, 2)} MB per CPU-s, ${fmt(indexS)} s`,
        target: '≤ 10% slower',
        baseline: before14.unchanged ? `before §14: same code → ${fmt(mbPerCpu, 2)}` : 'before §14: not measured',
        ratio: before14.unchanged ? '1.00' : '',
        met: before14.unchanged ? true : null,
      },
      {
        figure: 'index size (6 index tables)',
        value: `${fmt(mb(indexBytes))} MB (${fmt(indexBytes / indexedBytes, 2)}× ${fmt(mb(indexedBytes))} MB text)`,
        target: '≤ +15%',
        baseline: before14.unchanged ? `before §14: ${fmt(mb(indexBytes))} MB` : 'before §14: not measured',
        ratio: before14.unchanged ? fmt(sizeRatio, 2) : '',
        met: before14.unchanged ? true : null,
      },
      kindRow('rare literal', 'p95 ≤ 100 ms; ≥ 20× rg', (f) => p95(f.all) <= 100 && (f.rg.length ? rgRatio(f) >= 20 : true)),
      kindRow('common literal', 'p95 ≤ 100 ms', (f) => p95(f.all) <= 100),
      kindRow('regex with a literal', 'p95 ≤ 300 ms', (f) => p95(f.all) <= 300),
      kindRow('regex without a literal', 'within the 2 s deadline', (f) => Math.max(...f.all) <= 2000),
      kindRow('file:/lang: + literal', 'p95 ≤ 100 ms', (f) => p95(f.all) <= 100),
      kindRow('sym:', '', () => null),
      zoektServer
        ? {
            figure: 'vs Zoekt (p95 ours / Zoekt\'s, per kind)',
            value: zoektKinds.map((k) => `${k} ${fmt(p95(fig(k).all) / zoektP95(k), 2)}`).join('; '),
            target: '≤ 2×',
            baseline: 'zoekt-webserver, warm, first 50 matches',
            met: zoektKinds.every((k) => !(p95(fig(k).all) / zoektP95(k) > 2)),
          }
        : { figure: 'vs Zoekt', value: 'skipped', target: '≤ 2× Zoekt p95', baseline: 'Zoekt did not build or index here (why: below)', met: null },
      ...(zoektServer
        ? [
            {
              figure: 'floor: ours without the database, p50 / p95 (ours / Zoekt\'s p95)',
              value: zoektKinds
                .filter((k) => fig(k).replayed.length)
                .map((k) => `${k} ${p(fig(k).replayed, 50)} / ${p(fig(k).replayed, 95)} (${fmt(p95(fig(k).replayed) / zoektP95(k), 2)})`)
                .join('; '),
              baseline: "every statement answered in memory from a run's record: what this code costs over an index held in memory",
              met: null,
            },
          ]
        : []),
    ];
    if (!('rg' in rg)) rowsOut.push({ figure: 'vs ripgrep', value: 'skipped', baseline: 'ripgrep is not here (why: below)', met: null });
    const notes = [
      `ours: codeSearch in a REPEATABLE READ transaction (as /v1/search), limit ${LIMIT}, 2 s deadline; p50/p95 over ${RUNS} timed runs of each query of the kind after one untimed run; warm as a serving process is: the Bloom filters, the repos' scope (src/search/scope-cache.ts: read by the run's first search, then only the index changes since) and their generations' files (paths, languages, blobs: src/search/file-cache.ts) are kept between searches, never a query's answer or the text it reads.`,
      `baselines over the same ${int(corpus.files)} files: ripgrep over the corpus root (every repo's checkout), git grep in one repository holding all of them (its work tree); both -i (case-insensitive like ours), -F for literals, PCRE (git grep -P) / Rust regex for expressions, file:\\.ts$ as a glob; they print every matching line (read through a pipe) where ours stops at ${LIMIT} results; p50/p95 over ${BASELINE_RUNS} runs after 1 untimed (seconds each).`,
      `index before §14: ${before14.text}`,
      ...(zoektServer
        ? [`Zoekt: zoekt-webserver over one shard per repo, warm (every shard loaded first), asked through its JSON API for the first ${LIMIT} matches (TotalMaxMatchCount, ShardMaxMatchCount, MaxDocDisplayCount ${LIMIT}), case:no; p50/p95 over ${RUNS} runs after 1 untimed (as many as ours).`]
        : [`Zoekt: skipped — ${zoektReason}`]),
      ...('rg' in rg ? [] : [`ripgrep: skipped — ${rg.reason}`]),
      filterMismatches.length
        ? `the Bloom filters changed the results of ${filterMismatches.join(', ')} (searches not truncated)`
        : 'with the Bloom filters off, every search that was not truncated found the same results',
      ...(zoektServer
        ? [replayMismatches.length ? `without the database, ${replayMismatches.join(', ')} answered otherwise than the run replayed` : 'without the database, every search answered what the run it replayed did, with the same statements']
        : []),
      ...(mismatches.length ? [`ours ≠ ripgrep (lines found, the search not truncated): ${mismatches.join('; ')}`] : ['every search that was not truncated found the lines ripgrep found (count of lines)']),
      `load average at the start ${fmt(load1, 2)}, at the end ${loadAverage()}; total bench time ${fmt((Date.now() - started) / 1000, 0)} s`,
    ];
    printReport(`Code search — ${REPOS} repos, ${fmt(mb(corpus.bytes))} MB`, rowsOut, notes);
    if (process.env.BENCH_SEARCH_HOLD) {
      // Keeps the indexed corpus for profiling searches by hand (search code changes need no new index).
      const hold = path.join(servers.dir, 'hold.json');
      fs.writeFileSync(hold, JSON.stringify({ databaseUrl: servers.pg.url, repos, queries: queries.map((q) => ({ kind: q.kind, q: q.q })) }));
      say(`BENCH_SEARCH_HOLD: the database stays up (${hold}); Ctrl-C ends the bench`);
      await new Promise(() => undefined);
    }
  } finally {
    zoektServer?.stop();
    await closeParsePools();
    await ds?.destroy().catch(() => undefined);
    await servers.stop();
  }
}

/**
 * Zoekt as it serves searches: zoekt-webserver over the shards, warm (every shard loaded before the
 * first timed query), asked through its JSON API for what ours answers — the first 50 matches:
 * it stops once it has them (TotalMaxMatchCount, ShardMaxMatchCount) and returns 50 files at most.
 */
interface ZoektServer {
  search: (q: string) => Promise<{ ms: number; lines: number }>;
  stop: () => void;
}

async function startZoekt(server: string, indexDir: string): Promise<ZoektServer> {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const child = spawn(server, ['-index', indexDir, '-listen', `127.0.0.1:${port}`, '-rpc', '-html=false'], { stdio: ['ignore', 'ignore', 'pipe'] });
  // Ctrl-C on a held run exits from the bench servers' signal handler, past the `finally` that stops it.
  process.once('exit', () => child.kill('SIGTERM'));
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-2000)));
  const url = `http://127.0.0.1:${port}/api/search`;
  const search = async (q: string) => {
    const started = performance.now();
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ Q: q, Opts: { TotalMaxMatchCount: LIMIT, ShardMaxMatchCount: LIMIT, MaxDocDisplayCount: LIMIT, MaxMatchDisplayCount: LIMIT } }),
    });
    const body = (await res.json()) as { Result?: { Files?: Array<{ LineMatches?: unknown[] }> | null }; Error?: string };
    if (!res.ok) throw new Error(`zoekt-webserver answered ${res.status}: ${JSON.stringify(body).slice(0, 200)}`);
    const lines = (body.Result?.Files ?? []).reduce((n, f) => n + (f.LineMatches?.length ?? 0), 0);
    return { ms: performance.now() - started, lines };
  };
  // Ready once every shard is loaded: a search then counts every repo's.
  const deadline = Date.now() + 5 * 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`zoekt-webserver exited ${child.exitCode}: ${err.trim().split('\n').slice(-2).join(' ')}`);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) throw new Error('zoekt-webserver was not ready after 5 minutes');
    await new Promise((r) => setTimeout(r, 500));
  }
  return { search, stop: () => child.kill('SIGTERM') };
}

/** Runs a baseline once untimed, then `times` times. */
async function baseline(run: () => Promise<{ ms: number; lines: number }>, times = BASELINE_RUNS): Promise<{ ms: number[]; lines: number }> {
  let lines = (await run()).lines;
  const ms: number[] = [];
  for (let i = 0; i < times; i++) {
    const r = await run();
    ms.push(r.ms);
    lines = r.lines;
  }
  return { ms, lines };
}

/**
 * Whether the code that writes the index (src/indexer but its read side queries.ts, and the
 * migrations) is what it was before the first §14 commit — in the work tree as it is now.
 */
function indexUnchangedSince14(): { unchanged: boolean; text: string } {
  const g = (args: string[]) => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' });
  const first = g(['log', '--reverse', '--format=%H', '--grep=CONTRACT §14']).stdout?.split('\n')[0];
  if (!first) return { unchanged: false, text: 'no git history here to compare with: not measured' };
  const diff = g(['diff', '--stat', `${first}^`, '--', 'src/indexer', 'src/db/migrations', ':(exclude)src/indexer/queries.ts']);
  if (diff.status !== 0) return { unchanged: false, text: `git diff failed: ${diff.stderr.trim()}` };
  if (diff.stdout.trim() === '') {
    return {
      unchanged: true,
      text: `nothing was added to the index for §14 so far (src/indexer's writing side and the migrations are as at ${first.slice(0, 7)}^, before the first §14 commit): the index built here is the "before" index too, so the size and the MB per CPU-second ratios are 1.00 by construction`,
    };
  }
  return {
    unchanged: false,
    text: `the index-writing code differs from ${first.slice(0, 7)}^ (${diff.stdout.trim().split('\n').pop()}): its indexing speed and index size against that commit are measured by \`BENCH_INDEX_AGAINST=<a built checkout of ${first.slice(0, 7)}^> npm run bench:index-against\`, not here`,
  };
}

/** The queries of each kind, from the corpus (deterministic). */
async function chooseQueries(ds: DataSource, corpus: Corpus): Promise<BenchQuery[]> {
  const mid = Math.floor(REPOS / 2);
  const out: BenchQuery[] = [];
  const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const lit = (kind: Kind, text: string, repo = mid): BenchQuery => ({ kind, q: text, grep: { pattern: text, fixed: true, glob: null }, zoekt: `case:no ${JSON.stringify(escapeRe(text))}`, repo });
  const re = (kind: Kind, source: string): BenchQuery => ({ kind, q: `/${source}/`, grep: { pattern: source, fixed: false, glob: null }, zoekt: `case:no ${JSON.stringify(source)}`, repo: mid });
  // Rare: long identifiers found once or twice (as whole words) in the distinct text, in files of a sample.
  const rare = [...corpus.tokenCounts]
    .filter(([, [n]]) => n >= 1 && n <= 2)
    .sort((a, b) => Buffer.compare(sha1(a[0]), sha1(b[0])))
    .slice(0, 4);
  for (const [token, [, repo]] of rare) out.push(lit('rare literal', corpus.tokenCase.get(token) ?? token, repo));
  for (const w of ['function', 'return', 'export default']) out.push(lit('common literal', w));
  // \s, not a space: the query parser reads a /…/ with a space in it as a literal (see the note printed).
  for (const s of ['use[A-Z]\\w+Effect', 'throw\\snew\\s\\w+Error\\(', '\\.prototype\\.\\w+\\s=\\sfunction']) out.push(re('regex with a literal', s));
  for (const s of ['\\d{4}-\\d\\d-\\d\\d', '\\d{3}-\\d{3}-\\d{4}', '[A-Z]{5,}_[0-9]{2,}']) out.push(re('regex without a literal', s));
  const filtered: Array<[string, string, string]> = [
    ['\\.ts$', 'typescript', 'Promise<void>'],
    ['\\.ts$', 'typescript', 'readonly'],
    ['\\.rs$', 'rust', 'unsafe'],
  ];
  for (const [file, lang, text] of filtered) {
    out.push({ kind: 'file:/lang: + literal', q: `file:${file} lang:${lang} ${text}`, grep: { pattern: text, fixed: true, glob: `*${file.slice(1, -1)}` }, zoekt: `case:no file:${file} lang:${lang} ${JSON.stringify(escapeRe(text))}`, repo: mid });
  }
  // sym: two of the names defined the fewest times (each copy of a file defines them again), and a common part of names.
  const names = (await ds.query(
    `SELECT name FROM index_symbols WHERE length(name) BETWEEN 14 AND 40 AND name ~ '^[A-Za-z_][A-Za-z0-9_]*$' GROUP BY name ORDER BY count(*), md5(name) LIMIT 2`,
  )) as Array<{ name: string }>;
  for (const { name } of names) out.push({ kind: 'sym:', q: `sym:${name}`, grep: null, zoekt: null, repo: mid });
  out.push({ kind: 'sym:', q: 'sym:parse', grep: null, zoekt: null, repo: mid });
  return out;
}

/**
 * BENCH_SEARCH_AGAINST=<hold.json of a held run>: only our searches, against that run's index —
 * each query once untimed, then RUNS timed, with p50/p95 and the phases that took the most.
 */
async function against(holdFile: string): Promise<void> {
  const hold = JSON.parse(fs.readFileSync(holdFile, 'utf8')) as { databaseUrl: string; repos: SearchRepo[]; queries: Array<{ kind: Kind; q: string }> };
  const ds = await openDatabase(hold.databaseUrl, { poolSize: 4 });
  try {
    say(`against ${holdFile}: ${hold.repos.length} repos, ${RUNS} timed runs per query after 1 untimed, load average ${loadAverage()}`);
    // BENCH_SEARCH_ONLY=<text>: only the queries holding it, with every phase printed.
    const only = process.env.BENCH_SEARCH_ONLY;
    for (const { kind, q } of hold.queries.filter((x) => !only || x.q.includes(only))) {
      await timedSearch(ds, hold.repos, q);
      const runs: Timed[] = [];
      for (let r = 0; r < RUNS; r++) runs.push(await timedSearch(ds, hold.repos, q));
      const ms = runs.map((r) => r.ms);
      const phases = new Map<string, number>();
      for (const r of runs) for (const [k, v] of r.phases) phases.set(k, (phases.get(k) ?? 0) + v / RUNS);
      const top = [...phases].sort((a, b) => b[1] - a[1]).slice(0, only ? undefined : 4).map(([k, v]) => `${k} ${fmtMs(v)}`);
      const last = runs[runs.length - 1];
      say(
        `  [${kind}] ${JSON.stringify(q)}: p50 ${fmtMs(pct(ms, 50))} p95 ${fmtMs(pct(ms, 95))}; ${last.answer.results.length} results${last.answer.stats.truncated ? ' (truncated)' : ''}, ${last.statements} statements, segments ${last.segments.read}/${last.segments.total}, blocks ${last.blocks}; ${top.join(', ')}`,
      );
    }
    say(`load average at the end ${loadAverage()}`);
  } finally {
    await ds.destroy();
  }
}

runBench(() => (process.env.BENCH_SEARCH_AGAINST ? against(process.env.BENCH_SEARCH_AGAINST) : main()));
