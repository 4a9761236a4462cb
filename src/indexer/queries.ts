// Navigator reads (CONTRACT §7). Each runs in one REPEATABLE READ transaction that starts by
// finding the repo's active generation, so a switch or a clean-up in between cannot mix two
// generations. They answer null while the repo has no active generation.
import type { DataSource, EntityManager } from 'typeorm';
import { IndexNotFoundError, InvalidQueryError } from './errors';
import { normalizeRepoPath } from './paths';
import { MAX_QUERY } from './blocks';
import { escapeLike } from './text';
import { codeSearch } from '../search/code-search';
// The answers' shapes are the API's (src/shapes.ts): the routes send these objects as they are.
import type { FileView, SearchResultView as SearchResult, SearchView, SymbolsView, SymbolView, TreeEntryView, TreeView } from '../shapes';

export type { FileView, SearchResult, SearchView, SymbolsView, SymbolView, TreeEntryView, TreeView };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 200;
export { MAX_QUERY };

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
 * One repo's search, as the navigator answered it before CONTRACT §14 (lines only, path order):
 * the benches and the indexer's own tests read it. It is the code search (src/search/code-search.ts)
 * with the text quoted as a literal.
 */
export async function searchCode(ds: DataSource, repoId: string, q: string, limit?: number): Promise<SearchView | null> {
  const query = checkQuery(q);
  const max = checkLimit(limit);
  if (typeof repoId !== 'string' || !UUID.test(repoId)) return null;
  return ds.transaction('REPEATABLE READ', async (m) => {
    const found = await codeSearch(m, [{ id: repoId, name: '' }], `"${query.replace(/"/g, '\\"')}"`, max, 10_000, { linesOnly: true });
    const commit = found.commits.get(repoId);
    if (!commit) return null;
    return { commit, results: found.results.map(({ path, line, column, preview }) => ({ path, line, column, preview })) };
  });
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
