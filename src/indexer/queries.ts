// Navigator reads (CONTRACT §7). Each runs in one REPEATABLE READ transaction that starts by
// finding the repo's active generation, so a switch or a clean-up in between cannot mix two
// generations. They answer null while the repo has no active generation.
import type { DataSource, EntityManager } from 'typeorm';
import { IndexNotFoundError, InvalidQueryError } from './errors';
import { normalizeRepoPath } from './paths';
import { MAX_QUERY, queryKeys, unitsInLastBytes } from './blocks';
import { decodeList, FIB_HASH, intersect, union } from './postings';
import { escapeLike, findLineMatches } from './text';
// The answers' shapes are the API's (src/shapes.ts): the routes send these objects as they are.
import type { FileView, SearchResultView as SearchResult, SearchView, SymbolsView, SymbolView, TreeEntryView, TreeView } from '../shapes';

export type { FileView, SearchResult, SearchView, SymbolsView, SymbolView, TreeEntryView, TreeView };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 200;
export { MAX_QUERY };
/** One-character queries scan the files in path order for at most this long. */
const SCAN_BUDGET_MS = 3_000;
const SCAN_PAGE = 256;
/** Candidate blocks (~8 KB each) read in the first batch; each next batch doubles, up to MAX_BLOCKS. */
const FIRST_BLOCKS = 8;
const MAX_BLOCKS = 128;

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
 * among the text read). Queries of two or more characters go through the search index (blocks.ts,
 * postings.ts):
 * 1. candidates: in each of the repo's segments, the blocks whose posting lists hold all of the
 *    query's trigrams (one list per trigram and segment, intersected here);
 * 2. the candidates are read a batch at a time — the block's text only (and its overlap), with the
 *    active generation's paths of its blob — and searched in JS, which confirms them and finds the
 *    lines. Blocks of blobs the generation does not have (a build in progress, or postings whose
 *    blocks are gone) drop out.
 *    Batches grow from FIRST_BLOCKS to MAX_BLOCKS blocks, and the search stops as soon as `limit` lines
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

type QueryKeys = NonNullable<ReturnType<typeof queryKeys>>;

/**
 * (segment, block) of every block holding the query's keys, segment by segment: one statement,
 * in which PostgreSQL finds each key's bucket row in each of the repo's segments (bucketOf, in
 * SQL) and cuts the key's list out of it, so only the lists travel.
 */
async function candidateBlocks(m: EntityManager, repoId: string, keys: QueryKeys): Promise<Array<{ segment: string; ordinal: number }>> {
  const wanted = [...new Set([...keys.all, ...(keys.any ?? [])])];
  const rows = (await m.query(
    `SELECT s.id AS segment_id, w.k AS key, substring(x.postings FROM coalesce(x.ends[x.pos - 1], 0) + 1 FOR x.ends[x.pos] - coalesce(x.ends[x.pos - 1], 0)) AS list
       FROM index_segments s CROSS JOIN unnest($2::int[]) AS w(k)
       CROSS JOIN LATERAL (SELECT postings, ends, array_position(keys, w.k) AS pos FROM index_postings
                            WHERE segment_id = s.id AND bucket = ((w.k::bigint * ${FIB_HASH}) & 4294967295) >> (32 - s.bucket_bits) OFFSET 0) x
      WHERE s.repo_id = $1 AND x.pos IS NOT NULL`,
    [repoId, wanted],
  )) as Array<{ segment_id: string; key: number; list: Buffer }>;
  const bySegment = new Map<string, Map<number, number[]>>();
  for (const r of rows) {
    if (!bySegment.has(r.segment_id)) bySegment.set(r.segment_id, new Map());
    bySegment.get(r.segment_id)!.set(r.key, decodeList(r.list, 0, r.list.length));
  }
  const out: Array<{ segment: string; ordinal: number }> = [];
  for (const segment of [...bySegment.keys()].sort((x, y) => Number(BigInt(x) - BigInt(y)))) {
    const lists = bySegment.get(segment)!;
    const list = (k: number) => lists.get(k) ?? [];
    const all = keys.all.map(list);
    if (keys.any) all.push(union(keys.any.map(list)));
    for (const ordinal of intersect(all)) out.push({ segment, ordinal });
  }
  return out;
}

async function searchBlocks(m: EntityManager, repoId: string, generationId: string, query: string, keys: QueryKeys, max: number, results: SearchResult[]): Promise<void> {
  const candidates = await candidateBlocks(m, repoId, keys);
  const found = new Set<string>();
  let batchSize = FIRST_BLOCKS;
  for (let next = 0; next < candidates.length && results.length < max; next += batchSize, batchSize = Math.min(batchSize * 2, MAX_BLOCKS)) {
    const batch = await readBlocks(m, repoId, generationId, candidates.slice(next, next + batchSize));
    // A match on the first line of a block that starts inside that line (cut for being too long)
    // is that line's result only if the line has none earlier: such lines are read again from
    // their start, up to the end of their earliest block with a match, once.
    const cutLines = new Map<string, Candidate>();
    for (const { block: c, paths, text } of batch) {
      for (const hit of findLineMatches(text, query, max, text.length - unitsInLastBytes(text, c.tail))) {
        if (hit.line > 1 || c.line_start === null) {
          addResult(results, found, c.sha, paths, { ...hit, line: c.line + hit.line - 1 });
          continue;
        }
        const key = `${c.sha}:${c.line}`;
        const earlier = cutLines.get(key);
        if (!found.has(key) && (!earlier || c.start < earlier.start)) cutLines.set(key, c);
      }
    }
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
  }
}

/**
 * Candidate blocks with their text (and overlap) and the generation's paths of their blob, in
 * one statement; blocks that are gone, or whose blob the generation does not have, drop out.
 */
async function readBlocks(
  m: EntityManager,
  repoId: string,
  generationId: string,
  candidates: Array<{ segment: string; ordinal: number }>,
): Promise<Array<{ block: Candidate; paths: string[]; text: string }>> {
  // LATERAL … OFFSET 0 keeps each lookup on an index, whatever the statistics say about a
  // generation that was just switched in; content is bytea stored uncompressed, so substring
  // fetches only the TOAST chunks of the range.
  const rows = (await m.query(
    `SELECT b.sha, b.start, b.length, b.tail, b.line, b.line_start, p.paths, t.text
       FROM unnest($3::bigint[], $4::int[]) WITH ORDINALITY AS c(s, o, i)
       CROSS JOIN LATERAL (SELECT sha, start, length, tail, line, line_start FROM index_blocks WHERE segment_id = c.s AND ordinal = c.o OFFSET 0) b
       CROSS JOIN LATERAL (SELECT array_agg(path) AS paths FROM index_entries WHERE generation_id = $2 AND sha = b.sha AND is_text) p
       CROSS JOIN LATERAL (SELECT convert_from(substring(content FROM b.start + 1 FOR b.length + b.tail), 'UTF8') AS text
                             FROM index_blobs WHERE repo_id = $1 AND sha = b.sha AND p.paths IS NOT NULL OFFSET 0) t
      ORDER BY c.i`,
    [repoId, generationId, candidates.map((c) => c.segment), candidates.map((c) => c.ordinal)],
  )) as Array<Candidate & { paths: string[]; text: string }>;
  return rows.map(({ paths, text, ...block }) => ({ block, paths, text }));
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

/** Removes every generation, file row, blob, symbol, search block and segment of a repo. */
export async function deleteIndex(ds: DataSource, repoId: string): Promise<void> {
  if (typeof repoId !== 'string' || !UUID.test(repoId)) return;
  await ds.transaction(async (m) => {
    await m.query(`DELETE FROM index_generations WHERE repo_id = $1`, [repoId]);
    await m.query(`DELETE FROM index_blobs WHERE repo_id = $1`, [repoId]);
    await m.query(`DELETE FROM index_symbols WHERE repo_id = $1`, [repoId]);
    await m.query(`DELETE FROM index_blocks WHERE repo_id = $1`, [repoId]);
    await m.query(`DELETE FROM index_segments WHERE repo_id = $1`, [repoId]);
  });
}
