// Code search over one repo or every repo of an account (CONTRACT §14) through the index: the
// repos' active generations and segments (read once and kept while no change to them commits,
// scope-cache.ts); the query's trigram plan (trigram-plan.ts) selects candidate blocks in the
// repos' segments — only in
// the segments whose trigram Bloom filter admits the plan (filter-cache.ts), so a rare literal
// over 1,000 repos looks up a few segments' lists, not every segment's — in waves of whole repos in
// name order when there are many (a common literal finds its lines in the first repos and stops);
// the candidates' paths are filtered (file:, -file:, lang:) before any content is read; the blocks
// left are read a batch at a time and verified line by line — a literal by JavaScript's string
// matching, an expression by RE2's linear-time engine (re2js), so no expression can take
// exponential time. Results: definitions of matching symbols (sym:), then paths that match, then
// lines; ties by repo name, path and line. A deadline bounds the work: what could not be searched
// in time is left out and `truncated` says so. The file-name pass likewise looks only at the
// generations whose file paths' filter admits the plan; their files (paths, languages, blobs) are
// kept per process (file-cache.ts) and name the blocks' files too.
import type { EntityManager } from 'typeorm';
import { queryKeys, unitsInLastBytes } from '../indexer/blocks';
import { decodeList, FIB_HASH } from '../indexer/postings';
import { quadKeys } from '../indexer/quadgrams';
import { bloomHas, type TrigramBloom } from '../indexer/trigram-bloom';
import { eachRow } from '../db/each-row';
import { filtersOf } from './filter-cache';
import { filesOf, MAX_KEPT_FILES, pathsHolding } from './file-cache';
import { indexScope, type IndexScope, type ScopeGeneration, type ScopeSegment } from './scope-cache';
import type { CodeSearchResultView, CodeSearchView } from '../shapes';
import { anchorOf, literalMatcher, positionsOf, regexMatcher, textTester, type LineMatcher } from './line-matchers';
import { compileRegex, parseSearchQuery, type SearchQuery } from './query';
import { and, evaluate, FILTER_KEYS, literalPlan, MAX_LITERAL_KEYS, mayMatch, planKeys, regexPlan, requiredLiteral, requiredStrings, type Plan } from './trigram-plan';

export interface SearchRepo {
  id: string;
  name: string;
}

export type CodeSearchResult = CodeSearchResultView;

export interface CodeSearchAnswer extends CodeSearchView {
  /** The active generation's commit of each repo searched. */
  commits: Map<string, string>;
}

export const DEFAULT_SEARCH_LIMIT = 50;
export const MAX_SEARCH_LIMIT = 500;
export const SEARCH_DEADLINE_MS = 2_000;
/** What of the deadline is left for the answer after the work stops (sorting, COMMIT, sending). */
const ANSWER_MARGIN_MS = 100;
const PREVIEW_MAX = 300;
const FIRST_BLOCKS = 16;
const MAX_BLOCKS = 256;
/** Paths the file-name pass tries between two looks at the clock (~1 ms of an expression's matching on 2 cores). */
const PATHS_BETWEEN_CLOCKS = 1024;
/** Paths a statement of the file-name pass reads, at most, when the repos' files are not kept. */
const MAX_PATHS = 50_000;
/**
 * Posting-list lookups (segments × trigrams) a search may spend on more of a long literal's
 * trigrams than MAX_LITERAL_KEYS when the Bloom filters leave few segments (see lookupPlan), or on
 * the rest of them when those leave many blocks (see candidates). Not more: the segments the
 * filters leave mostly hold the literal, and their rarest trigrams find its blocks
 * (`classPrivateGetter` over 1,000 repos: 124 segments, the same 16 blocks with 6 trigrams a
 * segment as with 8, whose 1,000 lookups took 21 ms against 12).
 */
const LOOKUP_BUDGET = 256;
/** Candidate blocks past which the rest of a long literal's trigrams are looked up (see candidates). */
const REFINE_BLOCKS = 32;
/** Posting-list lookups (segments × the plan's trigrams) cheap enough to make in one statement. */
const ONE_WAVE_LOOKUPS = 1024;
/** Segments in the first wave of a search that looks them up in waves (see waves), and how each next one grows. */
const FIRST_WAVE = 32;
const WAVE_GROWTH = 4;
/** Repos whose file names the first wave of the file-name pass reads (each next one WAVE_GROWTH times more). */
const FIRST_PATH_WAVE = 64;

/** Code points in s[0, i). */
function cp(s: string, i: number): number {
  let n = 0;
  for (let k = 0; k < i; k++) {
    const c = s.charCodeAt(k);
    if (c < 0xdc00 || c > 0xdfff) n++;
  }
  return n;
}

/**
 * A result for one line: the preview (cut around the first match when long), and the matches in it
 * as 1-based code-point offsets, end exclusive (CONTRACT §14); `column` is the first match's start.
 */
function lineResult(repo: SearchRepo, path: string, lineNo: number, text: string, ranges: Array<[number, number]>): CodeSearchResult {
  let from = 0;
  let preview = text;
  if (text.length > PREVIEW_MAX) {
    from = Math.max(0, Math.min(ranges[0][0] - 100, text.length - PREVIEW_MAX));
    preview = text.slice(from, from + PREVIEW_MAX);
  }
  const matches = ranges
    .filter(([s]) => s >= from && s < from + preview.length)
    .map(([s, e]): [number, number] => [cp(preview, s - from) + 1, cp(preview, Math.min(e, from + preview.length) - from) + 1]);
  return { repo, path, line: lineNo, column: matches[0]?.[0] ?? 1, preview, matches };
}

interface Compiled {
  query: SearchQuery;
  match: LineMatcher | null;
  /** Where a literal, or an expression's longest required string (see anchorOf), is in a text: only the lines holding it can match. */
  anchor: ((text: string, from?: number) => number[]) | null;
  /** For an expression without an anchor: false when no line of a text can match (see textTester); null: every line is tried. */
  textMayMatch: ((text: string) => boolean) | null;
  plan: Plan;
  /** The plan with every trigram of each literal (a stricter test, cheap against a Bloom filter: no lookup). */
  filterPlan: Plan;
  /** The plan with at most `maxKeys` trigrams of each literal. */
  planWith: (maxKeys: number) => Plan;
  /** A plain literal's distinct trigrams, when it has more than MAX_LITERAL_KEYS (else null). */
  literalKeys: number[] | null;
  pathOk: (path: string, language: string | null) => boolean;
  /** Whether file:, -file: or lang: may rule a path out (else pathOk keeps every one). */
  pathFiltered: boolean;
  /** What a repo's file paths must hold for a file there to pass the file: patterns (every trigram of each). */
  pathPlan: Plan;
  /** 4-gram keys every match holds (of the literal, or of an expression's required strings): a segment's 4-gram filter must hold each. */
  quads: number[];
  /** What every matching text holds, case-insensitively: the literal, or the expression's longest required string (null: none). */
  longestRequired: string | null;
}

function compile(q: string): Compiled {
  const query = parseSearchQuery(q);
  const include = query.fileInclude.map((f) => compileRegex(f, false, `file:${f}`));
  const exclude = query.fileExclude.map((f) => compileRegex(f, false, `-file:${f}`));
  const pathOk = (path: string, language: string | null) =>
    include.every((re) => re.matcher(path).find()) && !exclude.some((re) => re.matcher(path).find()) && (!query.lang || (language ?? '').toLowerCase() === query.lang);
  const p = query.pattern;
  // Where a match must be in a text: only the lines holding it are tried.
  const anchor = p?.kind === 'regex' ? anchorOf(p.source) : p?.kind === 'literal' ? positionsOf(p.text) : null;
  const match = !p
    ? null
    : p.kind === 'literal'
      ? literalMatcher(p.text, query.caseSensitive)
      : regexMatcher(compileRegex(p.source, query.caseSensitive, `/${p.source}/`), p.source, { anchor });
  const planWith = (maxKeys: number): Plan => (!p ? { op: 'all' } : p.kind === 'literal' ? literalPlan(p.text, maxKeys) : regexPlan(p.source, maxKeys));
  const keys = p?.kind === 'literal' ? queryKeys(p.text) : null;
  const literalKeys = keys && !keys.any && new Set(keys.all).size > MAX_LITERAL_KEYS ? [...new Set(keys.all)] : null;
  const textMayMatch = p?.kind === 'regex' && !anchor ? textTester(p.source, query.caseSensitive) : null;
  const pathPlan = and(query.fileInclude.map((f) => regexPlan(f, FILTER_KEYS)));
  const requiredParts = !p ? [] : p.kind === 'literal' ? [p.text] : requiredStrings(p.source).flatMap((set) => (set.length === 1 ? set : []));
  const quads = [...new Set(requiredParts.flatMap(quadKeys))];
  const pathFiltered = include.length > 0 || exclude.length > 0 || query.lang !== null;
  const longestRequired = p?.kind === 'literal' ? p.text : p?.kind === 'regex' ? requiredLiteral(p.source) : null;
  return { query, match, textMayMatch, anchor, plan: planWith(MAX_LITERAL_KEYS), filterPlan: planWith(FILTER_KEYS), planWith, literalKeys, pathOk, pathFiltered, pathPlan, quads, longestRequired };
}

/**
 * Searches the repos (the caller has checked they are the account's) for `q`. The repos without
 * an index are skipped; `repo:` narrows them by name first.
 */
export async function codeSearch(
  m: EntityManager,
  repos: SearchRepo[],
  q: string,
  limit = DEFAULT_SEARCH_LIMIT,
  deadlineMs = SEARCH_DEADLINE_MS,
  opts: {
    linesOnly?: boolean;
    /** Test segments and generations against their Bloom filters first (default true; off: as before there were filters). */
    filters?: boolean;
    /** LOOKUP_BUDGET (tests). */
    lookupBudget?: number;
    /** MAX_KEPT_FILES (tests). */
    maxKeptFiles?: number;
    /** ONE_WAVE_LOOKUPS and FIRST_WAVE (tests). */
    waves?: { oneWaveLookups: number; firstWave: number };
    /** MAX_SYMBOL_ROWS (tests). */
    maxSymbolRows?: number;
  } = {},
): Promise<CodeSearchAnswer> {
  const c = compile(q);
  // The work stops a little before the deadline: the answer is sorted, committed and sent after it.
  const deadline = Date.now() + deadlineMs - Math.min(ANSWER_MARGIN_MS, deadlineMs / 10);
  const repoRe = c.query.repo ? compileRegex(c.query.repo, false, `repo:${c.query.repo}`) : null;
  const wanted = repos.filter((r) => !repoRe || repoRe.matcher(r.name).find());
  const indexed = await indexScope(m, wanted.map((r) => r.id));
  const gens = indexed.generations;
  const all = inNameOrder(indexed, wanted);
  const commits = new Map(gens.map((g) => [g.repo_id, g.commit]));
  // The repos' files are kept when they fit in the cache, else read in SQL as needed (see file-cache.ts).
  const keepFiles = gens.reduce((n, g) => n + Number(g.files), 0) <= (opts.maxKeptFiles ?? MAX_KEPT_FILES);
  const run: Run = { results: [], files: new Set<string>(), truncated: false, deadline, limit, filters: opts.filters !== false, lookupBudget: opts.lookupBudget ?? LOOKUP_BUDGET, waves: opts.waves ?? { oneWaveLookups: ONE_WAVE_LOOKUPS, firstWave: FIRST_WAVE }, lineRoom: limit, keepFiles, blockBatch: FIRST_BLOCKS, blocksRead: 0, defined: new Set(), maxSymbolRows: opts.maxSymbolRows ?? MAX_SYMBOL_ROWS };
  // file: patterns need a path that matches: repos whose file paths' filter rules one out are not searched.
  const scope = run.filters && c.pathPlan.op !== 'all' ? await withPathsAdmitting(m, all, c.pathPlan) : all;
  if (c.query.sym) await symbolResults(m, scope, c, run);
  if (c.match) {
    if (!opts.linesOnly) await pathResults(m, scope, c, run);
    await lineResults(m, scope, preparedOf(indexed).segmentsOf, c, run);
  } else if (!c.query.sym) {
    await pathResults(m, scope, c, run); // file: alone lists the files
  }
  const sorted = run.results.sort((a, b) => a.rank - b.rank || cmp(a.repo.name, b.repo.name) || cmp(a.path, b.path) || a.line - b.line);
  if (sorted.length > limit) run.truncated = true;
  return {
    results: sorted.slice(0, limit).map(({ rank: _rank, ...r }) => r),
    stats: { repos: scope.length, files: run.files.size, truncated: run.truncated },
    commits,
  };
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The repos searched, each with its active generation. */
type Scope = Array<{ repo: SearchRepo; gen: ScopeGeneration }>;

/**
 * What a search derives from a kept scope's rows (which never change, see scope-cache.ts) and the
 * repos' names alone, kept beside it so the searches over the same repos derive it once (~0.8 ms a
 * search over 1,000 repos, profiled): each repo's segments, and the scope in name order.
 */
interface PreparedScope {
  /** Each repo's segments, in id order. */
  segmentsOf: Map<string, ScopeSegment[]>;
  /** The scope in name order, for the repos (ids and names) in `repos`. */
  inOrder: { repos: string; scope: Scope } | null;
}
const prepared = new WeakMap<IndexScope, PreparedScope>();

function preparedOf(indexed: IndexScope): PreparedScope {
  let p = prepared.get(indexed);
  if (!p) {
    const segmentsOf = new Map<string, ScopeSegment[]>();
    for (const s of indexed.segments) {
      const same = segmentsOf.get(s.repo_id);
      if (same) same.push(s);
      else segmentsOf.set(s.repo_id, [s]);
    }
    prepared.set(indexed, (p = { segmentsOf, inOrder: null }));
  }
  return p;
}

/** The repos that have an active generation, each with it, in the order results tie in (repo name): a search that stops early has the first repos' matches. */
function inNameOrder(indexed: IndexScope, wanted: SearchRepo[]): Scope {
  const p = preparedOf(indexed);
  const repos = wanted.map((r) => `${r.id} ${r.name}`).join('\n');
  if (p.inOrder?.repos === repos) return p.inOrder.scope;
  const byId = new Map(wanted.map((r) => [r.id, r]));
  const scope = indexed.generations
    .map((g) => ({ repo: byId.get(g.repo_id)!, gen: g }))
    .sort((a, b) => cmp(a.repo.name, b.repo.name) || cmp(a.repo.id, b.repo.id));
  p.inOrder = { repos, scope };
  return scope;
}
interface Run {
  results: Array<CodeSearchResult & { rank: number }>;
  files: Set<string>;
  truncated: boolean;
  deadline: number;
  limit: number;
  /** Whether Bloom filters rule segments and generations out (off: every one is read, as before them). */
  filters: boolean;
  lookupBudget: number;
  waves: { oneWaveLookups: number; firstWave: number };
  /** Lines the answer has room for: the limit less the definitions and file names found before (set by the line pass). */
  lineRoom: number;
  /** Whether the repos' files come from the cache (they fit in it), or from SQL as they are needed. */
  keepFiles: boolean;
  /**
   * Blocks the next batch reads until a line is found (see batchSize): it doubles from batch to
   * batch, and from wave to wave (a search that needed another wave reads on at the size it reached).
   */
  blockBatch: number;
  /** Candidate blocks whose text the line pass has read. */
  blocksRead: number;
  /** The lines given as definitions (repo id:path:line): a line is one result, not given again as a line. */
  defined: Set<string>;
  maxSymbolRows: number;
}

const RANK = { definition: 0, path: 1, line: 2 };

/** A line of a repo's file, as `Run.defined` holds it. */
const lineKey = (repoId: string, path: string, line: number) => `${repoId}:${path}:${line}`;

/** A matching line into the answer, unless it is there already as a definition (a line is one result). */
function addLine(run: Run, repo: SearchRepo, path: string, line: number, text: string, ranges: Array<[number, number]>): void {
  if (!run.defined.has(lineKey(repo.id, path, line))) run.results.push({ ...lineResult(repo, path, line, text, ranges), rank: RANK.line });
}

/**
 * Repos whose symbols sym:'s first statement looks through, an index scan each: a common name
 * (`sym:parse` over 1,000 repos: 25,000 definitions) fills the answer from the first repos in name
 * order, ~1 ms a repo. The rest are looked through in one statement, a scan of every symbol (~250
 * ms for 1.45 million, in parallel; their index scans, one a repo, took 640 ms).
 */
const FIRST_SYMBOL_REPOS = 16;
/** Definitions a statement of sym: reads, at most: past it, the last repo read may be cut, and the answer ends before it (truncated). */
const MAX_SYMBOL_ROWS = 10_000;

/** A definition found: its repo (an index in the statement's repos), blob and line. */
interface Definition {
  i: number;
  sha: string;
  line: number;
}

/**
 * sym: definitions whose name contains the text, on lines that match the pattern if there is one:
 * the first repos' first (a common name fills the answer there), then the rest's; each statement's
 * in order of repo name, path and line, their blobs read until the answer is full.
 */
async function symbolResults(m: EntityManager, scope: Scope, c: Compiled, run: Run): Promise<void> {
  const like = `%${c.query.sym!.toLowerCase().replace(/[\\%_]/g, (x) => `\\${x}`)}%`;
  const genOf = new Map(scope.map((s) => [s.repo.id, s.gen]));
  for (const [from, to] of [[0, FIRST_SYMBOL_REPOS], [FIRST_SYMBOL_REPOS, scope.length]]) {
    if (from >= scope.length) return;
    if (Date.now() > run.deadline) return void (run.truncated = true);
    const repos = scope.slice(from, to);
    const found = (await m.query(
      from === 0
        ? // One index scan a repo (OFFSET 0 keeps the planner from scanning every symbol for a few repos).
          `SELECT r.i, s.sha, s.line FROM unnest($1::uuid[]) WITH ORDINALITY AS r(repo_id, i)
             CROSS JOIN LATERAL (SELECT sha, line FROM index_symbols WHERE repo_id = r.repo_id AND lower(name) LIKE $2 ESCAPE '\\' OFFSET 0) s
            ORDER BY r.i LIMIT $3`
        : `SELECT r.i, s.sha, s.line FROM unnest($1::uuid[]) WITH ORDINALITY AS r(repo_id, i)
             JOIN index_symbols s ON s.repo_id = r.repo_id AND lower(s.name) LIKE $2 ESCAPE '\\'
            ORDER BY r.i LIMIT $3`,
      [repos.map((s) => s.repo.id), like, run.maxSymbolRows],
    )) as Array<{ i: string; sha: string; line: number }>;
    const defs: Definition[] = found.map((d) => ({ i: Number(d.i) - 1, sha: d.sha, line: Number(d.line) }));
    const cut = found.length >= run.maxSymbolRows;
    // The last repo read may be cut anywhere in its paths: the answer ends with the repos before it (or with what was read of it, when it is the first).
    const last = defs[defs.length - 1]?.i;
    await addDefinitions(m, repos, cut && defs[0].i !== last ? defs.filter((d) => d.i !== last) : defs, genOf, c, run);
    if (cut || run.results.length >= run.limit) {
      if (cut || to < scope.length) run.truncated = true; // later repos' definitions rank after these
      return;
    }
  }
}

/**
 * The definitions' results, in order of repo, path and line (a line once), each line read from its
 * blob (a batch of blobs a statement) until the answer is full. Grouped by blob: a blob may hold
 * thousands of the definitions and be under many paths (`sym:parse` in the first 16 repos of the
 * bench: 3,930 definitions in 24 blobs), and only the answer's are taken one by one.
 */
async function addDefinitions(m: EntityManager, repos: Scope, defs: Definition[], genOf: Map<string, ScopeGeneration>, c: Compiled, run: Run): Promise<void> {
  const byBlob = new Map<string, { i: number; repo_id: string; sha: string; lines: number[] }>();
  for (const d of defs) {
    const key = `${d.i}:${d.sha}`;
    const blob = byBlob.get(key);
    if (blob) blob.lines.push(d.line);
    else byBlob.set(key, { i: d.i, repo_id: repos[d.i].repo.id, sha: d.sha, lines: [d.line] });
  }
  const pathsOf = await blobPaths(m, [...byBlob.values()], genOf, c, run);
  // Each path of a blob that the filters keep (none: not in the active generation), in order, with the blob's lines in order.
  const files = [...byBlob.values()]
    .flatMap((blob) => {
      const lines = [...new Set(blob.lines)].sort((a, b) => a - b);
      return pathsOf(blob).map((path) => ({ ...blob, lines, path }));
    })
    .sort((a, b) => a.i - b.i || cmp(a.path, b.path));
  const todo = (function* () {
    for (const f of files) for (const line of f.lines) yield { ...f, line };
  })();
  const symbol = c.query.sym!.toLowerCase();
  const texts = new Map<string, string[]>();
  for (;;) {
    // Each definition gives one result at most: the next as many as there is room for, their blobs not read yet in one statement.
    const next: Array<{ repo_id: string; sha: string; i: number; path: string; line: number }> = [];
    for (let room = run.limit - run.results.length; next.length < room; ) {
      const d = todo.next();
      if (d.done) break;
      next.push(d.value);
    }
    if (next.length === 0) return;
    if (Date.now() > run.deadline) return void (run.truncated = true);
    const unread = [...new Map(next.map((d) => [`${d.repo_id}:${d.sha}`, d])).entries()].filter(([key]) => !texts.has(key));
    if (unread.length > 0) {
      const rows = (await m.query(
        `SELECT k.i, convert_from(b.content, 'UTF8') AS text FROM unnest($1::uuid[], $2::text[]) WITH ORDINALITY AS k(repo_id, sha, i)
           JOIN index_blobs b ON b.repo_id = k.repo_id AND b.sha = k.sha`,
        [unread.map(([, d]) => d.repo_id), unread.map(([, d]) => d.sha)],
      )) as Array<{ i: string; text: string }>;
      for (const r of rows) texts.set(unread[Number(r.i) - 1][0], r.text.split('\n'));
    }
    for (const d of next) {
      const { repo } = repos[d.i];
      let text = texts.get(`${d.repo_id}:${d.sha}`)?.[d.line - 1] ?? '';
      if (text.endsWith('\r')) text = text.slice(0, -1);
      const ranges = c.match ? c.match(text) : (() => {
        const at = text.toLowerCase().indexOf(symbol);
        return at >= 0 ? [[at, at + symbol.length] as [number, number]] : [[0, 0] as [number, number]];
      })();
      if (ranges.length === 0) continue;
      run.files.add(`${repo.id}:${d.path}`);
      run.defined.add(lineKey(repo.id, d.path, d.line));
      run.results.push({ ...lineResult(repo, d.path, d.line, text, ranges), rank: RANK.definition });
    }
    if (run.results.length >= run.limit) {
      if (!todo.next().done) run.truncated = true; // definitions left that rank after these
      return;
    }
  }
}

/** The repos of `scope` whose file paths' filter admits `plan` (a repo without a filter: admitted). */
async function withPathsAdmitting(m: EntityManager, scope: Scope, plan: Plan): Promise<Scope> {
  const filters = await filtersOf(m, 'generation', scope.map((s) => s.repo.id), scope.map((s) => s.gen));
  return scope.filter((_, i) => {
    const f = filters[i];
    return !f || mayMatch(plan, (key) => bloomHas(f, key));
  });
}

/** Paths that match the pattern (or, with no pattern, every path the file: filters keep). */
async function pathResults(m: EntityManager, all: Scope, c: Compiled, run: Run): Promise<void> {
  let scope = all;
  // A path that matches holds the plan's trigrams (the plan holds for any text): generations whose
  // file paths' filter rules the plan out have no path to look at.
  if (c.match && c.plan.op !== 'all' && run.filters) {
    scope = await withPathsAdmitting(m, scope, c.filterPlan);
    if (scope.length === 0) return;
  }
  // In waves of repos in name order: once the answer's room is filled, later repos' paths rank after it.
  const room = run.limit - run.results.length;
  let found = 0;
  let looked = 0;
  for (let at = 0, size = FIRST_PATH_WAVE; at < scope.length; at += size, size *= WAVE_GROWTH) {
    if (Date.now() > run.deadline) return void (run.truncated = true);
    const wave = scope.slice(at, at + size);
    for (const { repo, paths, languages, tried } of await waveFiles(m, wave, c, run)) {
      for (const i of tried) {
        if (++looked % PATHS_BETWEEN_CLOCKS === 0 && Date.now() > run.deadline) return void (run.truncated = true);
        const path = paths[i];
        // A path without the literal (or an expression's required string) cannot match.
        if (c.anchor?.(path).length === 0) continue;
        const ranges = c.match?.(path) ?? [];
        if (c.match && ranges.length === 0) continue;
        if (!c.pathOk(path, languages[i])) continue;
        if (!c.match) run.results.push({ repo, path, line: 0, column: 0, preview: path, matches: [], rank: RANK.path });
        else run.results.push({ ...lineResult(repo, path, 0, path, ranges), column: 0, rank: RANK.path });
        found++;
      }
    }
    if (found >= room) {
      if (at + size < scope.length) run.truncated = true;
      return;
    }
  }
}

/**
 * The files of a wave's repos, and the indexes of the paths to try (those that may hold what every
 * match holds): kept (file-cache.ts), or, when the scope has too many to keep, those whose path
 * holds the literal (or an expression's longest required string) read in SQL — at most MAX_PATHS.
 */
async function waveFiles(m: EntityManager, wave: Scope, c: Compiled, run: Run): Promise<Array<{ repo: SearchRepo; paths: string[]; languages: Array<string | null>; tried: Iterable<number> }>> {
  if (run.keepFiles) {
    const files = await filesOf(m, wave.map((s) => s.gen));
    return wave.map(({ repo }, i) => ({ repo, paths: files[i].paths, languages: files[i].languages, tried: pathsHolding(files[i], c.longestRequired) }));
  }
  const rows = (await m.query(
    // One index scan per generation (a join would scan every generation's rows).
    `SELECT g.repo_id, e.path, e.language
       FROM unnest($1::uuid[], $2::bigint[]) AS g(repo_id, generation_id)
       CROSS JOIN LATERAL (SELECT path, language FROM index_entries WHERE generation_id = g.generation_id AND type = 'file'
                             AND ($3::text IS NULL OR strpos(lower(path), lower($3)) > 0) OFFSET 0) e
      LIMIT $4`,
    [wave.map((s) => s.repo.id), wave.map((s) => s.gen.id), c.longestRequired, MAX_PATHS],
  )) as Array<{ repo_id: string; path: string; language: string | null }>;
  if (rows.length >= MAX_PATHS) run.truncated = true;
  const out = new Map(wave.map(({ repo }) => [repo.id, { repo, paths: [] as string[], languages: [] as Array<string | null> }]));
  for (const r of rows) {
    const files = out.get(r.repo_id)!;
    files.paths.push(r.path);
    files.languages.push(r.language);
  }
  return [...out.values()].map((f) => ({ ...f, tried: f.paths.keys() }));
}

/** A blob of a repo (what a block, or a definition, is in). */
interface BlobRef {
  repo_id: string;
  sha: string;
}

interface Block extends BlobRef {
  start: number;
  length: number;
  tail: number;
  line: number;
  line_start: number | null;
}

interface Segment {
  id: string;
  repo_id: string;
  /** Its Bloom filter (null: written before there were filters, may hold anything). */
  filter: TrigramBloom | null;
}

/**
 * The segments of the scope's repos that may hold a match, in the scope's (repo name) order, each
 * repo's tested against the filters when the search reaches it (a common literal fills its answer
 * from the first repos: testing a thousand segments' filters cost it ~7 ms of a ~30 ms search).
 * A segment whose trigram filter rules out the plan with every trigram of each literal
 * (filterPlan), or whose 4-gram filter lacks one of the query's 4-grams, holds no block with a
 * match. `rarity`: how rare each trigram of the plan is across the scope (see keyRarity).
 */
class Admission {
  private next = 0;
  private constructor(
    private readonly m: EntityManager,
    private readonly repoIds: string[],
    /** Each repo's segments with their trigram filters (null: none, may hold anything), in the scope's order. */
    private readonly repos: Array<Array<{ s: ScopeSegment; filter: TrigramBloom | null }>>,
    private readonly c: Compiled,
    private readonly plan: Plan | null,
    readonly rarity: Map<number, number>,
  ) {}

  static async open(m: EntityManager, scope: Scope, segmentsOf: Map<string, ScopeSegment[]>, c: Compiled, useFilters: boolean): Promise<Admission> {
    const repoIds = scope.map((s) => s.repo.id);
    // In the scope's order, each repo's in id order.
    const byRepo = repoIds.map((id) => segmentsOf.get(id)).filter((r) => r !== undefined);
    const segments = byRepo.flat();
    const filters = useFilters ? await filtersOf(m, 'segment', repoIds, segments) : segments.map(() => null);
    let i = 0;
    const repos = byRepo.map((r) => r.map((s) => ({ s, filter: filters[i++] })));
    if (!useFilters) return new Admission(m, repoIds, repos, c, null, new Map());
    const rarity = keyRarity(filters, [...planKeys(c.filterPlan)]);
    // Rarest trigrams first: most segments are ruled out by the first one tested (each test is a cache miss in a 25 KB filter).
    return new Admission(m, repoIds, repos, c, rarestFirst(c.filterPlan, rarity), rarity);
  }

  /** Whether every repo's segments were tested. */
  get done(): boolean {
    return this.next >= this.repos.length;
  }

  /** The admitted segments of the next repos, whole repos, until there are `want` or the repos end. */
  async take(want: number): Promise<Segment[]> {
    const out: Segment[] = [];
    const plan = this.plan;
    while (out.length < want && !this.done) {
      // The trigram filters, a repo at a time, until as many segments pass as are wanted still.
      const passed: Array<{ s: ScopeSegment; filter: TrigramBloom | null }> = [];
      while (out.length + passed.length < want && !this.done) {
        for (const x of this.repos[this.next++]) {
          const f = x.filter;
          if (!plan || !f || mayMatch(plan, (key) => bloomHas(f, key))) passed.push(x);
        }
      }
      // Then the 4-gram filters of those (read, the first time, only for the segments the trigrams left).
      const quads = plan && this.c.quads.length ? await filtersOf(this.m, 'segment 4-grams', this.repoIds, passed.map(({ s }) => s.quads)) : null;
      passed.forEach(({ s, filter }, i) => {
        const q = quads?.[i];
        if (!q || this.c.quads.every((key) => bloomHas(q, key))) out.push({ id: s.id, repo_id: s.repo_id, filter });
      });
    }
    return out;
  }
}

/** Segment filters sampled to tell how rare a trigram is across the scope (evenly spread, at most). */
const RARITY_SAMPLE = 128;

/** How many of a sample of the scope's segment filters may hold each key (a filter-less segment holds all). */
function keyRarity(filters: Array<TrigramBloom | null>, keys: number[]): Map<number, number> {
  const df = new Map(keys.map((k) => [k, 0]));
  const step = Math.max(1, Math.ceil(filters.length / RARITY_SAMPLE));
  for (let i = 0; i < filters.length; i += step) {
    const f = filters[i];
    for (const k of keys) if (!f || bloomHas(f, k)) df.set(k, df.get(k)! + 1);
  }
  return df;
}

/** The plan with each AND's trigrams in order of rarity (a test that stops at the first missing one stops sooner). */
function rarestFirst(plan: Plan, rarity: Map<number, number>): Plan {
  if (plan.op !== 'and' && plan.op !== 'or') return plan;
  const of = plan.of.map((p) => rarestFirst(p, rarity));
  const rank = (p: Plan) => (p.op === 'key' ? (rarity.get(p.key) ?? Infinity) : Infinity);
  return { op: plan.op, of: plan.op === 'and' ? of.sort((a, b) => rank(a) - rank(b)) : of };
}

/**
 * The plan to look up in `segments` segments: every trigram of each literal, or as many as the
 * budget allows, when that is more than the usual MAX_LITERAL_KEYS. A long plain literal's
 * trigrams are then its rarest: those the fewest of the scope's segment filters hold (`rarity`:
 * a trigram in few segments is in few blocks), which leave about as few blocks as all of them
 * (`classPrivateGetter` over node_modules' sources in segments of 20 files: 21 blocks hold its 6
 * rarest trigrams, 19 all 16, 102 the 6 spread over it).
 */
function lookupPlan(c: Compiled, segments: number, rarity: Map<number, number>, budget: number): Plan {
  const perLiteral = Math.max(MAX_LITERAL_KEYS, Math.floor(budget / Math.max(1, segments)));
  if (c.literalKeys) {
    if (perLiteral >= c.literalKeys.length) return c.filterPlan;
    const rarest = [...c.literalKeys].sort((a, b) => (rarity.get(a) ?? 0) - (rarity.get(b) ?? 0)).slice(0, perLiteral);
    return and(rarest.map((key): Plan => ({ op: 'key', key })));
  }
  const usual = planKeys(c.plan).size;
  for (const plan of [c.filterPlan, ...(perLiteral > MAX_LITERAL_KEYS ? [c.planWith(perLiteral)] : [])]) {
    const n = planKeys(plan).size;
    if (n > usual && n * segments <= budget) return plan;
  }
  return c.plan;
}

type Lists = Map<string, Map<number, Buffer>>;

/**
 * The posting lists of `keys` in segments (each with its filter, or null) added to `into`, in one
 * statement bounded by the scope's repos: only the keys each segment's filter may hold (a key it
 * rules out has no list there). Segments looked up with every key go as one list (an AND's
 * admitted ones, old ones), the others as (segment, key) pairs.
 */
async function lookUp(m: EntityManager, scopeRepos: Set<string>, segments: Segment[], keys: number[], into: Lists): Promise<void> {
  // Bounded by the scope's repos that these segments are of: a few uuids, not the account's thousand (~1 ms each to send and plan).
  const repoIds = [...new Set(segments.map((s) => s.repo_id))].filter((id) => scopeRepos.has(id));
  const whole: string[] = [];
  const pairs: { segments: string[]; keys: number[] } = { segments: [], keys: [] };
  for (const s of segments) {
    const f = s.filter;
    const kept = f ? keys.filter((key) => bloomHas(f, key)) : keys;
    if (kept.length === keys.length) whole.push(s.id);
    else
      for (const k of kept) {
        pairs.segments.push(s.id);
        pairs.keys.push(k);
      }
  }
  if (whole.length === 0 && pairs.segments.length === 0) return;
  const rows = (await m.query(
    `SELECT s.id AS segment_id, w.k AS key, substring(x.postings FROM coalesce(x.ends[x.pos - 1], 0) + 1 FOR x.ends[x.pos] - coalesce(x.ends[x.pos - 1], 0)) AS list
       FROM (SELECT a.s, b.k FROM unnest($2::bigint[]) AS a(s) CROSS JOIN unnest($3::int[]) AS b(k)
             UNION ALL SELECT * FROM unnest($4::bigint[], $5::int[])) AS w(s, k)
       JOIN index_segments s ON s.id = w.s
       CROSS JOIN LATERAL (SELECT postings, ends, array_position(keys, w.k) AS pos FROM index_postings
                            WHERE segment_id = s.id AND bucket = ((w.k::bigint * ${FIB_HASH}) & 4294967295) >> (32 - s.bucket_bits) OFFSET 0) x
      WHERE s.repo_id = ANY($1::uuid[]) AND x.pos IS NOT NULL`,
    [repoIds, whole, keys, pairs.segments, pairs.keys],
  )) as Array<{ segment_id: string; key: number; list: Buffer }>;
  for (const r of rows) {
    if (!into.has(r.segment_id)) into.set(r.segment_id, new Map());
    into.get(r.segment_id)!.set(r.key, r.list);
  }
}

/** The blocks the plan admits in each of `segments` (in their order) from their `lists` (a key without a list there: in no block). */
function admittedBlocks(plan: Plan, segments: Segment[], lists: Lists): Candidate[] {
  const out: Candidate[] = [];
  for (const { id: segment, repo_id: repo } of segments) {
    const encoded = lists.get(segment);
    if (!encoded) continue;
    // Lists are decoded when the plan needs them, smallest (in bytes) first.
    const decoded = new Map<number, number[]>();
    const list = (k: number) => {
      if (!decoded.has(k)) {
        const buf = encoded.get(k);
        decoded.set(k, buf ? decodeList(buf, 0, buf.length) : []);
      }
      return decoded.get(k)!;
    };
    const size = (p: Plan): number => (p.op === 'key' ? (encoded.get(p.key)?.length ?? 0) : p.op === 'all' ? Infinity : Math.max(...p.of.map(size)));
    const found = evaluate(plan, list, size);
    for (const ordinal of found ?? []) out.push({ segment, repo, ordinal });
  }
  return out;
}

type Candidate = { segment: string; repo: string; ordinal: number };

/**
 * Candidate blocks in `segments` (a wave of the admitted ones): (segment, ordinal) per block the
 * plan admits, from their posting lists (one statement). When a long literal's usual
 * MAX_LITERAL_KEYS trigrams leave many blocks, the rest of its trigrams are looked up too in the
 * segments holding them (a second statement, within LOOKUP_BUDGET), and only the blocks holding
 * every one remain.
 */
async function candidates(m: EntityManager, scopeRepos: Set<string>, segments: Segment[], rarity: Map<number, number>, c: Compiled, run: Run): Promise<Candidate[]> {
  const plan = run.filters ? lookupPlan(c, segments.length, rarity, run.lookupBudget) : c.plan;
  const keys = [...planKeys(plan)];
  const lists: Lists = new Map();
  await lookUp(m, scopeRepos, segments, keys, lists);
  const found = admittedBlocks(plan, segments, lists);
  if (!run.filters || found.length <= REFINE_BLOCKS) return found;
  const looked = new Set(keys);
  const extra = [...planKeys(c.filterPlan)].filter((k) => !looked.has(k));
  const holding = new Set(found.map((b) => b.segment));
  if (extra.length === 0 || holding.size * extra.length > run.lookupBudget) return found;
  const narrowed = segments.filter((s) => holding.has(s.id));
  await lookUp(m, scopeRepos, narrowed, extra, lists);
  return admittedBlocks(c.filterPlan, narrowed, lists);
}

/**
 * The admitted segments in waves of whole repos, in the scope's order: all at once when looking
 * them all up is cheap (a rare literal, one repo), else a first wave of FIRST_WAVE segments and
 * each next one WAVE_GROWTH times larger — a common literal over 1,000 repos finds its `limit`
 * lines in the first repos' segments without reading (or testing) every repo's.
 */
async function* waves(admission: Admission, keys: number, sizes: Run['waves']): AsyncGenerator<Segment[]> {
  const cheap = Math.floor(sizes.oneWaveLookups / keys);
  let pending = await admission.take(cheap + 1);
  if (admission.done && pending.length <= cheap) {
    if (pending.length > 0) yield pending;
    return;
  }
  for (let size = sizes.firstWave; pending.length > 0 || !admission.done; size *= WAVE_GROWTH) {
    if (pending.length < size) pending = pending.concat(await admission.take(size - pending.length));
    if (pending.length === 0) return; // the last repos admitted none
    // Whole repos: the wave ends where its last segment's repo does (take gives whole repos).
    let end = Math.min(size, pending.length);
    while (end < pending.length && pending[end].repo_id === pending[end - 1].repo_id) end++;
    yield pending.slice(0, end);
    pending = pending.slice(end);
  }
}

/** Lines that match: through the index when the plan asks for anything, else by reading files in order, within the deadline. */
async function lineResults(m: EntityManager, scope: Scope, segments: Map<string, ScopeSegment[]>, c: Compiled, run: Run): Promise<void> {
  // Lines rank after definitions and file names: when those fill the answer, no line would show.
  run.lineRoom = run.limit - run.results.length;
  if (run.lineRoom <= 0) return void (run.truncated = true);
  if (c.plan.op === 'all') return scanFiles(m, scope, c, run);
  const scopeRepos = new Set(scope.map((s) => s.repo.id));
  const admission = await Admission.open(m, scope, segments, c, run.filters);
  for await (const wave of waves(admission, planKeys(c.plan).size, run.waves)) {
    if (Date.now() > run.deadline || enoughLines(run)) return void (run.truncated = true);
    const found = await candidates(m, scopeRepos, wave, admission.rarity, c, run);
    if (!(await verify(m, scope, found, c, run))) return;
  }
}

/** Whether the line pass has as many lines as the answer has room for. */
function enoughLines(run: Run): boolean {
  return linesFound(run) >= run.lineRoom;
}

function linesFound(run: Run): number {
  return run.results.filter((r) => r.rank === RANK.line).length;
}

/**
 * Blocks the next batch reads: once lines were found, as many as the rest of the answer's room
 * needs at the rate they were found, a quarter more (`export default` over 1,000 repos: 16 blocks,
 * then the ~100 it needs in one statement rather than 32 and 64: ~3 ms less); before, blockBatch
 * (doubling). Between FIRST_BLOCKS and MAX_BLOCKS.
 */
function batchSize(run: Run): number {
  const lines = linesFound(run);
  if (lines === 0) return run.blockBatch;
  const needed = Math.ceil((((run.lineRoom - lines) * run.blocksRead) / lines) * 1.25);
  return Math.max(FIRST_BLOCKS, Math.min(MAX_BLOCKS, needed));
}

/** Ends a pass early: what was not searched is left out. */
function cutShort(run: Run): false {
  run.truncated = true;
  return false;
}

/** A candidate block read back: its row, its text (from its cut line's start) and the paths of its blob the filters keep. */
interface ReadBlock {
  b: Block;
  text: string;
  paths: string[];
}

/** For blobs of these repos (blocks', definitions'), the paths of each one the filters keep, from the kept files. */
async function keptPaths(m: EntityManager, repos: string[], genOf: Map<string, ScopeGeneration>, c: Compiled): Promise<(b: BlobRef) => string[]> {
  const files = await filesOf(m, repos.map((r) => genOf.get(r)!));
  const filesOfRepo = new Map(repos.map((r, i) => [r, files[i]]));
  return (b) => {
    const f = filesOfRepo.get(b.repo_id)!;
    return (f.textBySha.get(b.sha) ?? []).filter((i) => c.pathOk(f.paths[i], f.languages[i])).map((i) => f.paths[i]);
  };
}

/**
 * For blobs (of blocks read, of definitions), the paths of each one in its repo's generation that
 * the filters keep (none: not in the generation, or filtered out): from the kept files, or read in
 * one statement.
 */
async function blobPaths(m: EntityManager, refs: BlobRef[], genOf: Map<string, ScopeGeneration>, c: Compiled, run: Run): Promise<(b: BlobRef) => string[]> {
  if (run.keepFiles) return keptPaths(m, [...new Set(refs.map((b) => b.repo_id))], genOf, c);
  const blobs = [...new Map(refs.map((b) => [`${b.repo_id}:${b.sha}`, b])).values()];
  const rows = (await m.query(
    `SELECT k.repo_id, e.sha, e.path, e.language FROM unnest($1::uuid[], $2::text[], $3::bigint[]) AS k(repo_id, sha, generation_id)
       JOIN index_entries e ON e.generation_id = k.generation_id AND e.sha = k.sha AND e.is_text`,
    [blobs.map((b) => b.repo_id), blobs.map((b) => b.sha), blobs.map((b) => genOf.get(b.repo_id)!.id)],
  )) as Array<{ repo_id: string; sha: string; path: string; language: string | null }>;
  const pathsOf = new Map<string, string[]>();
  for (const r of rows) {
    if (!c.pathOk(r.path, r.language)) continue;
    const key = `${r.repo_id}:${r.sha}`;
    const same = pathsOf.get(key);
    if (same) same.push(r.path);
    else pathsOf.set(key, [r.path]);
  }
  return (b) => pathsOf.get(`${b.repo_id}:${b.sha}`) ?? [];
}

const BLOCK_SQL = `SELECT repo_id, sha, start, length, tail, line, line_start FROM index_blocks WHERE segment_id = c.s AND ordinal = c.o OFFSET 0`;
/**
 * Where a statement reading a batch reads each block's text from (`r`: the block's columns, in the
 * batch's order `i`): a block that starts inside a line from the line's start (an expression's match
 * may begin in an earlier block), except that when the block just before it in the batch is of the
 * same line, from where that one's read ended — CutLines joins the two. A minified line of 1 MB is
 * 128 blocks: read once, not each block from its start (64 MB when all are candidates).
 */
const readFrom = (r: string, i: string) => {
  const sameLine = `OVER (PARTITION BY ${r}.repo_id, ${r}.sha, ${r}.line_start ORDER BY ${i})`;
  return `CASE WHEN ${r}.line_start IS NULL THEN ${r}.start
               WHEN lag(${i}) ${sameLine} = ${i} - 1 THEN greatest(${r}.line_start, lag(${r}.start + ${r}.length + ${r}.tail) ${sameLine})
               ELSE ${r}.line_start END`;
};
/** A block's text from its blob (x), from `read_from` (see readFrom) to its end. */
const textOf = (r: string) => `convert_from(substring(x.content FROM ${r}.read_from + 1 FOR ${r}.start + ${r}.length + ${r}.tail - ${r}.read_from), 'UTF8')`;

/**
 * The text of a batch's blocks from their cut line's start, as the rows come (in the batch's order):
 * a block read from where the one just before it ended (see readFrom) is joined to that one's text,
 * so only the last line's text is held.
 */
class CutLines {
  private key = '';
  private text = '';

  of(b: Block & { read_from: number }, text: string): string {
    if (b.line_start === null) return text;
    const key = `${b.repo_id}:${b.sha}:${b.line_start}`;
    if (b.read_from > b.line_start) {
      if (key !== this.key) throw new Error(`a block of a cut line was read without the block before it (${key})`);
      text = this.text + text;
    }
    this.key = key;
    this.text = text;
    return text;
  }
}
/** Candidate blocks' rows read in one statement, at most, when file:, -file: or lang: filter them by path before their text is read. */
const ROWS_AT_ONCE = 4096;

/**
 * The candidate blocks read back a batch at a time (16, 32, … 256 blocks; once lines were found,
 * what the answer needs: see batchSize), each with its text and the paths of its blob the filters
 * keep (see blobPaths). Without file:, -file: or lang:, one statement reads a batch's rows and
 * text, streamed when the repos' files are kept: each block's lines are matched as its row arrives,
 * while PostgreSQL reads the next blocks (src/db/each-row.ts; `/use[A-Z]\w+Effect/` over 1,000
 * repos reads 3,372 blocks, 30 MB); else the rows come whole, for one statement to read their
 * paths. With them, the rows of the candidates come first (small: up to ROWS_AT_ONCE in a
 * statement), so blocks no kept path holds are never read, and the kept blocks' text then comes a
 * batch at a time.
 */
class BlockReader {
  private next = 0;
  /** With path filters: the rows read so far that a kept path holds, and how many of them were read. */
  private kept: Array<{ b: Block; paths: string[] }> = [];
  private keptRead = 0;

  constructor(
    private readonly m: EntityManager,
    private readonly found: Candidate[],
    private readonly genOf: Map<string, ScopeGeneration>,
    private readonly c: Compiled,
    private readonly run: Run,
  ) {}

  /** Whether every candidate was read. */
  get done(): boolean {
    return this.next >= this.found.length && this.keptRead >= this.kept.length;
  }

  /** The next batch, each block kept by the filters handed to `onBlock` (as its row arrives, when it can be). */
  async read(onBlock: (r: ReadBlock) => void): Promise<void> {
    const size = batchSize(this.run);
    this.run.blockBatch = Math.min(size * 2, MAX_BLOCKS);
    if (!this.c.pathFiltered) {
      const slice = this.found.slice(this.next, (this.next += size));
      this.run.blocksRead += slice.length;
      // The blocks' rows in the batch's order (sorted before any text is read), then each one's text.
      const sql = `SELECT k.repo_id, k.sha, k.start, k.length, k.tail, k.line, k.line_start, k.read_from, ${textOf('k')} AS text
           FROM (SELECT b.*, ${readFrom('b', 'c.i')} AS read_from
                   FROM unnest($1::bigint[], $2::int[]) WITH ORDINALITY AS c(s, o, i)
                   CROSS JOIN LATERAL (${BLOCK_SQL}) b
                  ORDER BY c.i OFFSET 0) k
           CROSS JOIN LATERAL (SELECT content FROM index_blobs WHERE repo_id = k.repo_id AND sha = k.sha OFFSET 0) x`;
      const params = [slice.map((x) => x.segment), slice.map((x) => x.ordinal)];
      type Row = Block & { read_from: number; text: string };
      const cut = new CutLines();
      // Each row in the batch's order: its text joined to its line's (see CutLines), handed over when a kept path holds it.
      const handOver = (pathsOf: (b: Block) => string[]) => ({ text, ...b }: Row) => {
        const whole = cut.of(b, text);
        const paths = pathsOf(b);
        if (paths.length > 0) onBlock({ b, text: whole, paths });
      };
      if (this.run.keepFiles) {
        // The files of the batch's repos first: then each block is matched as its row arrives (PostgreSQL reads the next ones meanwhile).
        const pathsOf = await keptPaths(this.m, [...new Set(slice.map((x) => x.repo))], this.genOf, this.c);
        return eachRow<Row>(this.m, sql, params, handOver(pathsOf));
      }
      const rows = (await this.m.query(sql, params)) as Row[];
      rows.forEach(handOver(await blobPaths(this.m, rows, this.genOf, this.c, this.run)));
      return;
    }
    while (this.keptRead >= this.kept.length && this.next < this.found.length) {
      const slice = this.found.slice(this.next, (this.next += ROWS_AT_ONCE));
      const blocks = (await this.m.query(`SELECT b.* FROM unnest($1::bigint[], $2::int[]) AS c(s, o) CROSS JOIN LATERAL (${BLOCK_SQL}) b`, [
        slice.map((x) => x.segment),
        slice.map((x) => x.ordinal),
      ])) as Block[];
      const pathsOf = await blobPaths(this.m, blocks, this.genOf, this.c, this.run);
      this.kept = blocks.map((b) => ({ b, paths: pathsOf(b) })).filter((k) => k.paths.length > 0);
      this.keptRead = 0;
    }
    const kept = this.kept.slice(this.keptRead, (this.keptRead += size));
    if (kept.length === 0) return;
    this.run.blocksRead += kept.length;
    const texts = (await this.m.query(
      `SELECT k.i, k.read_from, ${textOf('k')} AS text
         FROM (SELECT c.*, ${readFrom('c', 'c.i')} AS read_from
                 FROM unnest($1::uuid[], $2::text[], $3::int[], $4::int[], $5::int[], $6::int[]) WITH ORDINALITY AS c(repo_id, sha, start, length, tail, line_start, i)
                ORDER BY c.i OFFSET 0) k
         CROSS JOIN LATERAL (SELECT content FROM index_blobs WHERE repo_id = k.repo_id AND sha = k.sha OFFSET 0) x`,
      [kept.map(({ b }) => b.repo_id), kept.map(({ b }) => b.sha), kept.map(({ b }) => b.start), kept.map(({ b }) => b.length), kept.map(({ b }) => b.tail), kept.map(({ b }) => b.line_start)],
    )) as Array<{ i: string; read_from: number; text: string }>;
    const cut = new CutLines();
    for (const t of texts) {
      const k = kept[Number(t.i) - 1];
      onBlock({ ...k, text: cut.of({ ...k.b, read_from: t.read_from }, t.text) });
    }
  }
}

/**
 * Reads the candidate blocks a batch at a time (see BlockReader) and adds the lines that match,
 * each block's as it arrives. False once the deadline or the limit stopped it (`truncated` set).
 * (Reading the next batch in a second statement while one was verified was tried before the
 * streaming: the batch read for nothing when the answer filled held up the COMMIT.)
 */
async function verify(m: EntityManager, scope: Scope, found: Candidate[], c: Compiled, run: Run): Promise<boolean> {
  const genOf = new Map(scope.map((s) => [s.repo.id, s.gen]));
  const repoOf = new Map(scope.map((s) => [s.repo.id, s.repo]));
  const seen = new Set<string>();
  const reader = new BlockReader(m, found, genOf, c, run);
  let late = false;
  const addLines = ({ b, text: blockText, paths }: ReadBlock) => {
    if (late || (late = Date.now() > run.deadline)) return;
    const key = `${b.repo_id}:${b.sha}`;
    for (const path of paths) run.files.add(`${b.repo_id}:${path}`);
    // A block that starts inside a line comes with the text from the line's start (see CutLines); when
    // an earlier block of that line put it in the answer already, this one can add nothing to it (a
    // line is one result): only the lines after it are tried (a minified line of 1 MB is 128 blocks).
    const cutLineDone = b.line_start !== null && seen.has(`${key}:${b.line}`);
    const from = cutLineDone ? blockText.indexOf('\n') + 1 : 0;
    if (cutLineDone && from === 0) return; // nothing but that line
    // Lines are tried only where the literal or the expression's required string is (an expression without one: in a block RE2 may match in).
    const hits = c.anchor?.(blockText, from) ?? null;
    if (hits?.length === 0 || c.textMayMatch?.(from > 0 ? blockText.slice(from) : blockText) === false) return;
    // Lines that start in the block (a cut line is read from its start), each once.
    const end = blockText.length - unitsInLastBytes(blockText, b.tail);
    const lineNumber = lineCounter(blockText, b.line);
    for (const [at, stop] of linesToTry(blockText, from, end, hits)) {
      let text = blockText.slice(at, stop);
      if (text.endsWith('\r')) text = text.slice(0, -1);
      let ranges = c.match!(text);
      if (ranges.length > 0 && stop >= blockText.length && b.tail > 0) {
        // A line that goes on past what was read: only matches starting in this block count here
        // (one starting in its overlap belongs to the next block, which reads the line again from
        // its start); without one, a later block decides. With one, it is the line's first.
        ranges = ranges.filter(([from]) => at + from < end);
      }
      if (ranges.length === 0) continue;
      // Numbered only when it matches: counting a block's lines costs more than finding its few matches.
      const lineNo = lineNumber(at);
      const id = `${key}:${lineNo}`;
      if (seen.has(id)) continue;
      seen.add(id);
      for (const path of paths) addLine(run, repoOf.get(b.repo_id)!, path, lineNo, text, ranges);
    }
  };
  while (!reader.done) {
    if (Date.now() > run.deadline || enoughLines(run)) return cutShort(run);
    await reader.read(addLines);
    if (late) return cutShort(run);
  }
  return true;
}

/**
 * The lines of a block's text to try, as [start, stop): each line starting at or after `from` and
 * before `end`, or, with `hits` (where the literal or an expression's required string is, from
 * `from` on), only the lines holding one.
 */
function* linesToTry(text: string, from: number, end: number, hits: number[] | null): Generator<[number, number]> {
  let at = from;
  for (let h = 0; at < end; ) {
    if (hits) {
      while (h < hits.length && hits[h] < at) h++;
      if (h >= hits.length) return;
      at = hits[h] === 0 ? 0 : text.lastIndexOf('\n', hits[h] - 1) + 1; // the hit's line, from its start
      if (at >= end) return;
    }
    let stop = text.indexOf('\n', hits ? hits[h] : at);
    if (stop < 0) stop = text.length;
    yield [at, stop];
    at = stop + 1;
  }
}

/** The line number at a position of a text whose first line is `first` (positions asked in increasing order). */
function lineCounter(text: string, first: number): (at: number) => number {
  let counted = 0;
  let line = first;
  return (at) => {
    for (let nl = text.indexOf('\n', counted); nl >= 0 && nl < at; nl = text.indexOf('\n', nl + 1)) {
      line++;
      counted = nl + 1;
    }
    return line;
  };
}

/** No trigram to go by (a one-character literal, an expression without a literal): files in order, until the deadline. */
async function scanFiles(m: EntityManager, scope: Scope, c: Compiled, run: Run): Promise<void> {
  for (const { repo, gen } of scope) {
    let after = '';
    for (;;) {
      if (Date.now() > run.deadline || enoughLines(run)) return void (run.truncated = true);
      const page = (await m.query(
        `SELECT e.path, e.language, convert_from(b.content, 'UTF8') AS text FROM index_entries e
           JOIN index_blobs b ON b.repo_id = $1 AND b.sha = e.sha
          WHERE e.generation_id = $2 AND e.is_text AND e.path > $3 ORDER BY e.path LIMIT 64`,
        [repo.id, gen.id, after],
      )) as Array<{ path: string; language: string | null; text: string }>;
      if (page.length === 0) break;
      after = page[page.length - 1].path;
      for (const f of page) {
        if (Date.now() > run.deadline) return void (run.truncated = true);
        if (!c.pathOk(f.path, f.language)) continue;
        run.files.add(`${repo.id}:${f.path}`);
        if (c.textMayMatch && !c.textMayMatch(f.text)) continue;
        const lines = f.text.split('\n');
        for (let i = 0; i < lines.length; i++) {
          const text = lines[i].endsWith('\r') ? lines[i].slice(0, -1) : lines[i];
          const ranges = c.match!(text);
          if (ranges.length > 0) addLine(run, repo, f.path, i + 1, text, ranges);
        }
      }
    }
  }
}
