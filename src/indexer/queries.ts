// Navigator reads (CONTRACT §7). Each runs in one REPEATABLE READ transaction that starts by
// finding the repo's active generation, so a switch or a clean-up in between cannot mix two
// generations. They answer null while the repo has no active generation.
import type { DataSource, EntityManager } from 'typeorm';
import { IndexNotFoundError, InvalidQueryError } from './errors';
import { normalizeRepoPath } from './paths';
import { MAX_QUERY, queryKeys, repoKey, unitsInLastBytes } from './blocks';
import { escapeLike, findLineMatches } from './text';
// The answers' shapes are the API's (src/api/shapes.ts): the routes send these objects as they are.
import type { FileView, SearchResultView as SearchResult, SearchView, SymbolsView, SymbolView, TreeEntryView, TreeView } from '../api/shapes';

export type { FileView, SearchResult, SearchView, SymbolsView, SymbolView, TreeEntryView, TreeView };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 200;
export { MAX_QUERY };
/** One-character queries scan the files in path order for at most this long. */
const SCAN_BUDGET_MS = 3_000;
const SCAN_PAGE = 256;
/** Candidate blocks fetched from the cursor at a time (metadata only). */
const CANDIDATE_PAGE = 256;
/** Bytes of candidate blocks read in the first batch; each next batch doubles, up to MAX_READ. */
const FIRST_READ = 64 * 1024;
const MAX_READ = 1024 * 1024;

interface Active {
  id: string;
  commit: string;
}

async function withActive<T>(ds: DataSource, repoId: string, read: (m: EntityManager, gen: Active) => Promise<T>): Promise<T | null> {
  if (typeof repoId !== 'string' || !UUID.test(repoId)) return null;
  return ds.transaction('REPEATABLE READ', async (m) => {
    const [gen] = (await m.query(`SELECT id, commit FROM index_generations WHERE repo_id = $1 AND state = 'active'`, [repoId])) as Active[];
    if (!gen) return null;
    return read(m, gen);
  });
}

function checkLimit(limit: number | undefined): number {
  if (limit === undefined || limit === null) return DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) throw new InvalidQueryError(`limit must be an integer from 1 to ${MAX_LIMIT}.`);
  return limit;
}

function checkQuery(q: string): string {
  if (typeof q !== 'string' || q.length < 1 || q.length > MAX_QUERY) throw new InvalidQueryError(`q must be 1 to ${MAX_QUERY} characters.`);
  if (q.includes('\0')) throw new InvalidQueryError('q must not contain NUL characters.');
  return q;
}

function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

/** The entries of a directory of the active index: directories first, then files, each by name. */
export async function listTree(ds: DataSource, repoId: string, path: string): Promise<TreeView | null> {
  const dir = normalizeRepoPath(path);
  return withActive(ds, repoId, async (m, gen) => {
    if (dir !== '') {
      const [self] = (await m.query(`SELECT type FROM index_entries WHERE generation_id = $1 AND path = $2`, [gen.id, dir])) as Array<{ type: string }>;
      if (!self || self.type !== 'dir') throw new IndexNotFoundError(`No directory ${dir} in the index.`);
    }
    const rows = (await m.query(
      `SELECT name, path, type, size, language FROM index_entries WHERE generation_id = $1 AND parent = $2 ORDER BY type = 'file', name`,
      [gen.id, dir],
    )) as Array<{ name: string; path: string; type: 'file' | 'dir'; size: string | null; language: string | null }>;
    return {
      commit: gen.commit,
      path: dir,
      entries: rows.map((r) => ({
        name: r.name,
        path: r.path,
        type: r.type,
        size: r.type === 'file' && r.size !== null ? Number(r.size) : null,
        language: r.type === 'file' ? r.language : null,
      })),
    };
  });
}

/** A text file of the active index; NotFound for directories, binaries, skipped and absent paths. */
export async function readFile(ds: DataSource, repoId: string, path: string): Promise<FileView | null> {
  const file = normalizeRepoPath(path);
  return withActive(ds, repoId, async (m, gen) => {
    const [row] = (await m.query(
      `SELECT e.language, e.size, convert_from(b.content, 'UTF8') AS content FROM index_entries e
         JOIN index_blobs b ON b.repo_id = $3 AND b.sha = e.sha
        WHERE e.generation_id = $1 AND e.path = $2 AND e.type = 'file' AND e.is_text`,
      [gen.id, file, repoId],
    )) as Array<{ language: string | null; size: string; content: string }>;
    if (!row || file === '') throw new IndexNotFoundError(`No text file ${file || '/'} in the index.`);
    return { commit: gen.commit, path: file, language: row.language, size: Number(row.size), content: row.content };
  });
}

/**
 * Literal, case-insensitive search (one result per matching line; results sorted by path and line
 * among the text read). Queries of two or more characters go through the block index (blocks.ts):
 * 1. candidates: a cursor over the repo's blocks whose keys hold all of the query's trigrams (the
 *    GIN index, the only plan there is: the repo filter is applied after it, never through the
 *    primary key, and sequential scans are off);
 * 2. the candidates are read a batch at a time — the block's text only (and its overlap), with the
 *    active generation's paths of its blob — and searched in JS, which confirms them and finds the
 *    lines.
 *    Batches grow from FIRST_READ to MAX_READ bytes, and the search stops as soon as `limit` lines
 *    are found, so frequent queries read little.
 * One-character queries (no trigram) scan the active generation's text files in path order, page
 * by page, within a time budget.
 */
export async function searchCode(ds: DataSource, repoId: string, q: string, limit?: number): Promise<SearchView | null> {
  const query = checkQuery(q);
  const max = checkLimit(limit);
  const keys = queryKeys(query);
  return withActive(ds, repoId, async (m, gen) => {
    const results: SearchResult[] = [];
    if (keys) await searchBlocks(m, repoId, gen.id, query, keys, max, results);
    else await scanFiles(m, repoId, gen.id, query, max, results);
    return { commit: gen.commit, results: sortResults(results).slice(0, max) };
  });
}

interface Candidate {
  sha: string;
  start: number;
  length: number;
  tail: number;
  line: number;
  line_start: number | null;
}

async function searchBlocks(
  m: EntityManager,
  repoId: string,
  generationId: string,
  query: string,
  keys: NonNullable<ReturnType<typeof queryKeys>>,
  max: number,
  results: SearchResult[],
): Promise<void> {
  await m.query(`SET LOCAL enable_seqscan = off`);
  const params: unknown[] = [repoId, [repoKey(repoId), ...keys.all]];
  if (keys.any) params.push(keys.any);
  await m.query(
    `DECLARE search_blocks NO SCROLL CURSOR FOR
       SELECT sha, start, length, tail, line, line_start FROM index_blocks
        WHERE keys @> $2::int4[] ${keys.any ? 'AND keys && $3::int4[]' : ''} AND (repo_id = $1) IS TRUE`,
    params,
  );
  const found = new Set<string>();
  const queue: Candidate[] = [];
  let queued = 0;
  let exhausted = false;
  let budget = FIRST_READ;
  while (results.length < max) {
    while (!exhausted && queued < budget) {
      const rows = (await m.query(`FETCH ${CANDIDATE_PAGE} FROM search_blocks`)) as Candidate[];
      if (rows.length < CANDIDATE_PAGE) exhausted = true;
      for (const r of rows) queued += r.length + r.tail;
      queue.push(...rows);
    }
    if (queue.length === 0) break;
    const batch: Candidate[] = [];
    let size = 0;
    while (queue.length && (batch.length === 0 || size + queue[0].length + queue[0].tail <= budget)) {
      const c = queue.shift()!;
      batch.push(c);
      size += c.length + c.tail;
      queued -= c.length + c.tail;
    }
    // A match on the first line of a block that starts inside that line (cut for being too long)
    // is that line's result only if the line has none earlier: such lines are read again from
    // their start, up to the end of their earliest block with a match, once.
    const cutLines = new Map<string, Candidate>();
    const texts = await readRanges(m, repoId, generationId, batch);
    batch.forEach((c, i) => {
      const read = texts[i];
      if (!read) return; // not in the generation
      for (const hit of findLineMatches(read.text, query, max, read.text.length - unitsInLastBytes(read.text, c.tail))) {
        if (hit.line > 1 || c.line_start === null) {
          addResult(results, found, c.sha, read.paths, { ...hit, line: c.line + hit.line - 1 });
          continue;
        }
        const key = `${c.sha}:${c.line}`;
        const earlier = cutLines.get(key);
        if (!found.has(key) && (!earlier || c.start < earlier.start)) cutLines.set(key, c);
      }
    });
    const pending = [...cutLines].filter(([key]) => !found.has(key)).map(([, c]) => c);
    if (pending.length) {
      const lines = pending.map((c) => ({ ...c, start: c.line_start!, length: c.start + c.length - c.line_start! }));
      const lineTexts = await readRanges(m, repoId, generationId, lines);
      lines.forEach((c, i) => {
        const read = lineTexts[i];
        const [hit] = read ? findLineMatches(read.text, query, 1) : [];
        if (hit) addResult(results, found, c.sha, read!.paths, { ...hit, line: c.line });
      });
    }
    budget = Math.min(budget * 2, MAX_READ);
  }
  await m.query('CLOSE search_blocks');
}

/** One result per path of the blob, once per line (a long line's blocks may each find it). */
function addResult(results: SearchResult[], found: Set<string>, sha: string, paths: string[], hit: Omit<SearchResult, 'path'>): void {
  const key = `${sha}:${hit.line}`;
  if (found.has(key)) return;
  found.add(key);
  for (const path of paths) results.push({ path, ...hit });
}

/**
 * The text of byte ranges of blobs (each range and its tail), with the generation's paths of the
 * blob; null for a blob the generation does not have.
 */
async function readRanges(
  m: EntityManager,
  repoId: string,
  generationId: string,
  ranges: Array<{ sha: string; start: number; length: number; tail: number }>,
): Promise<Array<{ paths: string[]; text: string } | null>> {
  // content is bytea stored uncompressed: substring fetches only the TOAST chunks of the range.
  // LATERAL … OFFSET 0 keeps each lookup on an index, whatever the statistics say about a
  // generation that was just switched in.
  const rows = (await m.query(
    `SELECT c.i, p.paths, t.text FROM unnest($3::text[], $4::int[], $5::int[]) WITH ORDINALITY AS c(sha, start, length, i)
       CROSS JOIN LATERAL (SELECT array_agg(path) AS paths FROM index_entries WHERE generation_id = $2 AND sha = c.sha AND is_text) p
       CROSS JOIN LATERAL (SELECT convert_from(substring(content FROM c.start + 1 FOR c.length), 'UTF8') AS text
                             FROM index_blobs WHERE repo_id = $1 AND sha = c.sha AND p.paths IS NOT NULL OFFSET 0) t`,
    [repoId, generationId, ranges.map((r) => r.sha), ranges.map((r) => r.start), ranges.map((r) => r.length + r.tail)],
  )) as Array<{ i: string; paths: string[]; text: string }>;
  const out: Array<{ paths: string[]; text: string } | null> = ranges.map(() => null);
  for (const r of rows) out[Number(r.i) - 1] = { paths: r.paths, text: r.text };
  return out;
}

/** Scans the generation's text files in path order, a page at a time, within SCAN_BUDGET_MS. */
async function scanFiles(m: EntityManager, repoId: string, generationId: string, query: string, max: number, results: SearchResult[]): Promise<void> {
  const deadline = Date.now() + SCAN_BUDGET_MS;
  let after = '';
  while (results.length < max && Date.now() < deadline) {
    const page = (await m.query(
      `SELECT path, sha FROM index_entries WHERE generation_id = $1 AND is_text AND path > $2 ORDER BY path LIMIT ${SCAN_PAGE}`,
      [generationId, after],
    )) as Array<{ path: string; sha: string }>;
    if (page.length === 0) break;
    after = page[page.length - 1].path;
    // Content is matched here, not by ILIKE in PostgreSQL: ILIKE lower-cases each whole file
    // (~40 MB/s) where the JS scan runs at hundreds of MB/s.
    const rows = (await m.query(
      `SELECT e.path, b.content FROM unnest($3::text[]) AS c(sha)
         CROSS JOIN LATERAL (SELECT convert_from(content, 'UTF8') AS content FROM index_blobs WHERE repo_id = $1 AND sha = c.sha OFFSET 0) b
         CROSS JOIN LATERAL (SELECT path FROM index_entries WHERE generation_id = $2 AND sha = c.sha AND is_text OFFSET 0) e`,
      [repoId, generationId, [...new Set(page.map((p) => p.sha))]],
    )) as Array<{ path: string; content: string }>;
    for (const r of rows) for (const hit of findLineMatches(r.content, query, max)) results.push({ path: r.path, ...hit });
  }
}

function sortResults(results: SearchResult[]): SearchResult[] {
  return results.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : a.line - b.line));
}

/**
 * Definitions whose name starts with `prefix` (case-insensitive), by name then path and line. A
 * cursor walks the name index in order; each chunk is mapped to the active generation's paths
 * (symbols of blobs no longer in it drop out) until `limit` is reached and the name group at the
 * limit is complete.
 */
export async function findSymbols(ds: DataSource, repoId: string, prefix: string, limit?: number): Promise<SymbolsView | null> {
  const q = checkQuery(prefix);
  const max = checkLimit(limit);
  return withActive(ds, repoId, async (m, gen) => {
    await m.query(
      `DECLARE symbol_cursor NO SCROLL CURSOR FOR
         SELECT name, kind, sha, line, lower(name) AS lname FROM index_symbols
          WHERE repo_id = $1 AND lower(name) LIKE $2 ESCAPE '\\' ORDER BY lower(name), name, sha, line`,
      [repoId, `${escapeLike(asciiLower(q))}%`],
    );
    const out: Array<SymbolView & { lname: string }> = [];
    let chunk = 64;
    for (;;) {
      const rows = (await m.query(`FETCH ${chunk} FROM symbol_cursor`)) as Array<{ name: string; kind: string; sha: string; line: number; lname: string }>;
      if (rows.length) {
        const paths = (await m.query(
          `SELECT c.sha, e.path FROM unnest($2::text[]) AS c(sha)
             CROSS JOIN LATERAL (SELECT path FROM index_entries WHERE generation_id = $1 AND sha = c.sha AND is_text OFFSET 0) e`,
          [gen.id, [...new Set(rows.map((r) => r.sha))]],
        )) as Array<{ sha: string; path: string }>;
        const bySha = new Map<string, string[]>();
        for (const p of paths) bySha.set(p.sha, [...(bySha.get(p.sha) ?? []), p.path]);
        for (const r of rows) for (const path of bySha.get(r.sha) ?? []) out.push({ name: r.name, kind: r.kind, path, line: Number(r.line), lname: r.lname });
      }
      if (rows.length < chunk) break;
      // Enough once the name group at the limit cannot grow any more.
      if (out.length >= max) {
        const sorted = sortSymbols(out);
        if (rows[rows.length - 1].lname > sorted[max - 1].lname) break;
      }
      chunk = Math.min(chunk * 2, 1024);
    }
    await m.query('CLOSE symbol_cursor');
    return { commit: gen.commit, symbols: sortSymbols(out).slice(0, max).map(({ name, kind, path, line }) => ({ name, kind, path, line })) };
  });
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortSymbols<T extends SymbolView & { lname: string }>(list: T[]): T[] {
  return list.sort((a, b) => cmp(a.lname, b.lname) || cmp(a.name, b.name) || cmp(a.path, b.path) || a.line - b.line);
}

/** Removes every generation, file row, blob, symbol and search block of a repo. */
export async function deleteIndex(ds: DataSource, repoId: string): Promise<void> {
  if (typeof repoId !== 'string' || !UUID.test(repoId)) return;
  await ds.transaction(async (m) => {
    await m.query(`DELETE FROM index_generations WHERE repo_id = $1`, [repoId]);
    await m.query(`DELETE FROM index_blobs WHERE repo_id = $1`, [repoId]);
    await m.query(`DELETE FROM index_symbols WHERE repo_id = $1`, [repoId]);
    await m.query(`DELETE FROM index_blocks WHERE repo_id = $1`, [repoId]);
  });
}
