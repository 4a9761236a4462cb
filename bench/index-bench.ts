// Indexer benchmark (`npm run bench:index`): real code nobody here wrote — the .ts/.js/.d.ts
// sources of the packages in node_modules, committed into a git repository — indexed into an
// embedded PostgreSQL of its own. Prints full-build throughput (with symbols) next to
// `ctags -R` over the same tree, 1-file push → searchable latency, search latency, peak RSS, and a
// per-phase profile. Figures only: nothing here asserts a time.
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { openDatabase } from '../src/db/data-source';
import { startEmbeddedPostgres } from '../src/dev/postgres';
import { freePort } from '../src/dev/processes';
import { findSymbols, indexCommit, searchCode } from '../src/indexer';
import { BlobReader, lsTree } from '../src/indexer/git';
import { grammarOf, languageOf } from '../src/indexer/languages';
import { isSkippedPath } from '../src/indexer/paths';
import { extractSymbols } from '../src/indexer/symbols';
import { queryKeys, repoKey, textBlocks } from '../src/indexer/blocks';

const ROOT = path.resolve(__dirname, '..', '..');
const MAX_FILES = Number(process.env.BENCH_MAX_FILES ?? 14_000);
const PUSHES = Number(process.env.BENCH_PUSHES ?? 25);
const QUERIES = Number(process.env.BENCH_QUERIES ?? 240);
const GIT_ENV = { ...process.env, GIT_AUTHOR_NAME: 'Bench', GIT_AUTHOR_EMAIL: 'bench@example.test', GIT_COMMITTER_NAME: 'Bench', GIT_COMMITTER_EMAIL: 'bench@example.test' };

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: GIT_ENV, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 }).trim();
}

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

const fmt = (n: number, d = 1) => n.toFixed(d);
const ms = (n: number) => `${n.toFixed(n < 10 ? 1 : 0)} ms`;

/** Picks the corpus files: code of the installed packages, as the indexer would keep it. */
function collectSources(): Array<{ rel: string; abs: string }> {
  const out: Array<{ rel: string; abs: string }> = [];
  const base = path.join(ROOT, 'node_modules');
  const walk = (dir: string, rel: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      if (out.length >= MAX_FILES) return;
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (r !== '.bin' && !isSkippedPath(`${r}/x`) && !(rel && e.name === 'node_modules')) walk(path.join(dir, e.name), r);
      } else if (e.isFile() && /\.(ts|js)$/.test(e.name) && !isSkippedPath(r)) {
        const size = fs.statSync(path.join(dir, e.name)).size;
        if (size > 0 && size <= 1024 * 1024) out.push({ rel: r, abs: path.join(dir, e.name) });
      }
    }
  };
  walk(base, '');
  return out;
}

/** CPU seconds (user + system) of PostgreSQL: the postmaster's children, from /proc. */
function postgresCpu(pgdata: string): number {
  try {
    const pid = Number(fs.readFileSync(path.join(pgdata, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const hz = 100;
    let ticks = 0;
    for (const p of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(p)) continue;
      try {
        const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const ppid = Number(fields[1]);
        if (Number(p) === pid || ppid === pid) ticks += Number(fields[11]) + Number(fields[12]);
      } catch {
        /* gone */
      }
    }
    return ticks / hz;
  } catch {
    return NaN;
  }
}

/** CPU seconds of this process's waited-for children (ctags), from /proc/self/stat. */
function childrenCpu(): number {
  const stat = fs.readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

function nodeCpu(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

async function main(): Promise<void> {
  const started = Date.now();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'lettuce-bench-'));
  fs.chmodSync(work, 0o755);
  const log = (m: string) => console.log(m);
  log(`Indexer benchmark — ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), node ${process.version}; work dir ${work}`);

  // ── Corpus ────────────────────────────────────────────────────────────────────────────────────
  const t0 = Date.now();
  const sources = collectSources();
  const repo = path.join(work, 'corpus');
  for (const s of sources) {
    const dest = path.join(repo, s.rel);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.copyFileSync(s.abs, dest);
  }
  git(work, 'init', '-q', '-b', 'main', repo);
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'corpus');
  const head0 = git(repo, 'rev-parse', 'HEAD');
  const corpusBytes = sources.reduce((n, s) => n + fs.statSync(path.join(repo, s.rel)).size, 0);
  log(`corpus: ${sources.length} files, ${fmt(corpusBytes / 1e6)} MB of .ts/.js/.d.ts from node_modules (${((Date.now() - t0) / 1000).toFixed(1)} s to build)`);

  // ── PostgreSQL ────────────────────────────────────────────────────────────────────────────────
  const pgdata = path.join(work, 'postgres');
  const pg = await startEmbeddedPostgres({ dir: pgdata, port: await freePort(), password: process.env.BENCH_PG_PASSWORD ?? crypto.randomBytes(12).toString('hex'), database: 'bench' });
  let ds: DataSource | null = null;
  try {
    ds = await openDatabase(pg.url, { poolSize: 8 });
    const [account] = await ds.query(`INSERT INTO accounts (name, webhook_secret) VALUES ('bench', 'x') RETURNING id`);
    const [repoRow] = await ds.query(
      `INSERT INTO repos (account_id, source, source_key, name, clone_url) VALUES ($1, 'url', 'bench/corpus', 'bench/corpus', 'https://example.test/corpus.git') RETURNING id`,
      [account.id],
    );
    const repoId = repoRow.id as string;

    // ── Full index ──────────────────────────────────────────────────────────────────────────────
    const cpuNode0 = nodeCpu();
    const cpuPg0 = postgresCpu(pgdata);
    const tFull = Date.now();
    let reports = 0;
    const full = await indexCommit(ds, { repoId, gitDir: repo, commit: head0, onProgress: () => void reports++ });
    const fullS = (Date.now() - tFull) / 1000;
    const cpuNode = nodeCpu() - cpuNode0;
    const cpuPg = postgresCpu(pgdata) - cpuPg0;
    const mb = full.bytes / 1e6;
    const [{ symbols }] = await ds.query(`SELECT count(*)::int AS symbols FROM index_symbols WHERE repo_id = $1`, [repoId]);
    const [sizes] = await ds.query(
      `SELECT pg_total_relation_size('index_blobs') AS blobs, pg_total_relation_size('index_blocks') AS blocks, pg_relation_size('index_blocks_keys') AS gin,
              pg_total_relation_size('index_entries') AS entries, pg_total_relation_size('index_symbols') AS symbols`,
    );
    log('');
    log(`full index (${full.kind}): ${full.filesIndexed} files, ${fmt(mb)} MB text, ${symbols} symbols in ${fmt(fullS, 2)} s`);
    log(`  throughput: ${fmt(mb / fullS, 2)} MB/s wall, ${fmt(full.filesIndexed / fullS, 0)} files/s (${reports} progress reports)`);
    log(`  CPU: node ${fmt(cpuNode)} s (main + ${Math.min(4, os.availableParallelism())} parser threads), PostgreSQL ${fmt(cpuPg)} s → ${fmt(mb / (cpuNode + cpuPg), 2)} MB per CPU-second (per core)`);
    log(
      `  storage: blobs ${fmt(Number(sizes.blobs) / 1e6)} MB, search blocks ${fmt(Number(sizes.blocks) / 1e6)} MB (keys GIN ${fmt(Number(sizes.gin) / 1e6)} MB), entries ${fmt(Number(sizes.entries) / 1e6)} MB, symbols ${fmt(Number(sizes.symbols) / 1e6)} MB`,
    );

    if (process.env.BENCH_ONLY_FULL) return;
    // ── ctags -R over the same tree ─────────────────────────────────────────────────────────────
    const ctags = ['/usr/bin/ctags', 'ctags'].find((c) => spawnSync(c, ['--version']).status === 0);
    if (!ctags) log('ctags -R: skipped (no ctags installed; Debian: apt-get install universal-ctags)');
    else {
      const tagsFile = path.join(work, 'tags');
      const tc = Date.now();
      const cc = childrenCpu();
      const r = spawnSync(ctags, ['-R', '-f', tagsFile, '--exclude=.git', '.'], { cwd: repo, stdio: ['ignore', 'ignore', 'pipe'] });
      const ctagsS = (Date.now() - tc) / 1000;
      const ctagsCpu = childrenCpu() - cc;
      const tags = r.status === 0 ? fs.readFileSync(tagsFile, 'utf8').split('\n').filter((l) => l && !l.startsWith('!')).length : 0;
      log(`ctags -R (${spawnSync(ctags, ['--version']).stdout.toString().split('\n')[0]}): ${fmt(ctagsS, 2)} s wall, ${fmt(ctagsCpu, 2)} CPU-s, ${tags} tags, ${fmt(mb / ctagsS, 2)} MB/s on one core`);
      log(`  ratio full index / ctags -R: wall ${fmt(ctagsS / fullS, 2)}×; per CPU-second ${fmt(ctagsCpu / (cpuNode + cpuPg), 2)}×`);
    }

    // ── 1-file push → searchable ───────────────────────────────────────────────────────────────
    const textFiles = sources.map((s) => s.rel);
    const pushMs: number[] = [];
    const indexMs: number[] = [];
    let kinds = new Set<string>();
    for (let i = 0; i < PUSHES; i++) {
      const rel = textFiles[(i * 7919) % textFiles.length];
      const token = `benchToken${crypto.randomBytes(5).toString('hex')}`;
      fs.appendFileSync(path.join(repo, rel), `\n// ${token}\n`);
      git(repo, 'commit', '-q', '-am', `push ${i}`);
      const head = git(repo, 'rev-parse', 'HEAD');
      const t = Date.now();
      const r = await indexCommit(ds, { repoId, gitDir: repo, commit: head });
      indexMs.push(Date.now() - t);
      kinds.add(`${r.kind}/${r.filesChanged}`);
      const found = await searchCode(ds, repoId, token, 10);
      if (found?.results[0]?.path !== rel) throw new Error(`push ${i}: ${token} not found in ${rel}`);
      pushMs.push(Date.now() - t);
    }
    log('');
    if (PUSHES > 0)
      log(`1-file push → searchable over ${PUSHES} pushes (commit in the ${sources.length}-file repo, then indexCommit + searchCode): p50 ${ms(pct(pushMs, 50))}, p95 ${ms(pct(pushMs, 95))} (index alone p50 ${ms(pct(indexMs, 50))}; ${[...kinds].join(', ')})`);
    kinds = new Set();

    // ── Search latency ─────────────────────────────────────────────────────────────────────────
    const rnd = (() => {
      let s = 12345;
      return () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    })();
    const identifiers: string[] = [];
    const phrases: string[] = [];
    while (identifiers.length < QUERIES) {
      const text = fs.readFileSync(path.join(repo, textFiles[Math.floor(rnd() * textFiles.length)]), 'utf8');
      const words = text.match(/[A-Za-z_][A-Za-z0-9_]{5,}/g) ?? [];
      if (words.length) identifiers.push(words[Math.floor(rnd() * words.length)]);
      const lines = text.split('\n').map((l) => l.trim()).filter((l) => l.length > 12);
      if (lines.length) {
        const l = lines[Math.floor(rnd() * lines.length)];
        const from = Math.floor(rnd() * Math.max(1, l.length - 12));
        phrases.push(l.slice(from, from + 12));
      }
    }
    const classes: Record<string, string[]> = {
      identifier: identifiers.slice(0, Math.floor(QUERIES * 0.5)),
      'phrase (code snippet)': phrases.slice(0, Math.floor(QUERIES * 0.25)),
      'common word': ['function', 'return', 'export', 'const', 'import', 'string', 'number', 'prototype', 'undefined', 'length', 'this.', 'require('].slice(0, Math.max(4, Math.floor(QUERIES * 0.05))),
      'no match': Array.from({ length: Math.floor(QUERIES * 0.1) }, (_, i) => `zq${i}xv${crypto.randomBytes(3).toString('hex')}`),
      'short (2 chars)': ['=>', 'fn', 'if', '{}', '&&', 'ab', 'xy', 'q9', 'Zz', ');'].slice(0, Math.max(4, Math.floor(QUERIES * 0.05))),
    };
    const all: number[] = [];
    const perClass: string[] = [];
    const slowest: Array<{ q: string; ms: number }> = [];
    for (const [name, qs] of Object.entries(classes)) {
      const lat: number[] = [];
      let hits = 0;
      for (const q of qs) {
        const t = process.hrtime.bigint();
        const r = await searchCode(ds, repoId, q, 50);
        const dt = Number(process.hrtime.bigint() - t) / 1e6;
        lat.push(dt);
        all.push(dt);
        slowest.push({ q, ms: dt });
        if (r!.results.length) hits++;
      }
      perClass.push(`  ${name}: ${qs.length} queries, p50 ${ms(pct(lat, 50))}, p95 ${ms(pct(lat, 95))}, max ${ms(Math.max(...lat))}, ${hits} with results`);
    }
    log('');
    log(`search latency over ${all.length} queries (limit 50): p50 ${ms(pct(all, 50))}, p95 ${ms(pct(all, 95))}`);
    for (const l of perClass) log(l);
    slowest.sort((a, b) => b.ms - a.ms);
    log(`  slowest: ${slowest.slice(0, 6).map((s) => `${JSON.stringify(s.q)} ${ms(s.ms)}`).join(', ')}`);
    const symLat: number[] = [];
    for (const q of identifiers.slice(0, 100)) {
      const t = process.hrtime.bigint();
      await findSymbols(ds, repoId, q.slice(0, 4), 50);
      symLat.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    log(`symbol prefix search over ${symLat.length} queries: p50 ${ms(pct(symLat, 50))}, p95 ${ms(pct(symLat, 95))}`);

    // ── Profile: where a full build's time goes ────────────────────────────────────────────────
    log('');
    log('profile (one core each, over the same corpus or a sample of it):');
    const tree = (await lsTree(repo, head0)).filter((e) => e.type === 'blob' && !isSkippedPath(e.path));
    const tl = Date.now();
    const reader = new BlobReader(repo);
    const blobs: Array<{ path: string; text: string }> = [];
    for (let i = 0; i < tree.length; i += 500) {
      const chunk = tree.slice(i, i + 500);
      const data = await reader.read(chunk.map((e) => e.sha));
      data.forEach((b, j) => blobs.push({ path: chunk[j].path, text: b.toString('utf8') }));
    }
    reader.close();
    const readS = (Date.now() - tl) / 1000;
    const totalMb = blobs.reduce((n, b) => n + b.text.length, 0) / 1e6;
    log(`  git ls-tree + cat-file --batch: ${fmt(readS, 2)} s → ${fmt(totalMb / readS)} MB/s`);
    const tw = Date.now();
    let blockCount = 0;
    let keyCount = 0;
    for (const b of blobs) {
      for (const k of textBlocks(b.text)) {
        blockCount++;
        keyCount += k.keys.length;
      }
    }
    const blocksS = (Date.now() - tw) / 1000;
    log(`  search blocks and their trigram keys (JS): ${fmt(blocksS, 2)} s → ${fmt(totalMb / blocksS)} MB/s (${blockCount} blocks, ${keyCount} keys)`);
    const sample = blobs.filter((_, i) => i % 6 === 0);
    const sampleMb = sample.reduce((n, b) => n + b.text.length, 0) / 1e6;
    const tp = Date.now();
    let parsed = 0;
    for (const b of sample) {
      const g = grammarOf(b.path, languageOf(b.path));
      if (g) parsed += (await extractSymbols(g, b.text)).length;
    }
    const parseS = (Date.now() - tp) / 1000;
    log(`  tree-sitter (WASM) parse + tags query, in-process, 1/6 sample (${fmt(sampleMb)} MB): ${fmt(parseS, 2)} s → ${fmt(sampleMb / parseS, 2)} MB/s (${parsed} symbols)`);
    log(`  PostgreSQL in the full build: ${fmt(cpuPg)} CPU-s (${fmt(mb / cpuPg, 2)} MB/CPU-s: heap + TOAST + block keys GIN inserts, b-trees, WAL)`);

    const [plan] = await ds.transaction(async (m) => {
      await m.query('SET LOCAL enable_seqscan = off'); // as searchCode
      return m.query(
        `EXPLAIN (ANALYZE, FORMAT JSON) WITH cand AS MATERIALIZED (SELECT sha FROM index_blocks WHERE keys @> $2::int4[] AND (repo_id = $1) IS TRUE)
         SELECT count(*) FROM cand`,
        [repoId, [repoKey(repoId), ...queryKeys('createConnection')!.all]],
      );
    });
    const root = plan['QUERY PLAN'][0].Plan;
    const nodeTypes: string[] = [];
    const visit = (n: any) => {
      nodeTypes.push(n['Node Type'] + (n['Index Name'] ? `(${n['Index Name']})` : ''));
      for (const c of n.Plans ?? []) visit(c);
    };
    visit(root);
    log(`  search candidate plan: ${nodeTypes.join(' → ')}`);

    log('');
    log(`peak RSS: node ${fmt(process.resourceUsage().maxRSS / 1024, 0)} MB (main process incl. worker threads)`);
    log(`total bench time ${fmt((Date.now() - started) / 1000, 0)} s`);
  } finally {
    await ds?.destroy().catch(() => undefined);
    await pg.stop();
    if (!process.env.KEEP_BENCH_DIR) fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
