// The files of the repos' active generations — each file's path, language and blob — kept per
// process, so the file-name pass and the paths of the blocks a search reads cost no statement once
// a generation has been searched. A generation's files never change once it is active (a push
// builds a new generation with new rows), and an entry is checked against the generation's
// creation time like the filters (filter-cache.ts).
import type { EntityManager } from 'typeorm';
import { ByteLru, type Kept } from './byte-lru';

/**
 * Bytes of files kept, at most: 64 MiB per process. Each file is counted as its path's UTF-16
 * bytes, its lowercased name's and 68 bytes more, a text file 120 more for its blob's sha and its
 * place under it (1,000 repos of node_modules' sources, 168,610 files: counted 54 MiB; 46 MB of
 * heap, 273 bytes a file, measured before the lowercased names were added).
 */
export const FILE_CACHE_BYTES = 64 * 1024 * 1024;
/**
 * Files a search's repos may have in all for their files to be kept (at ~340 bytes a file, what
 * the cache holds: the bench's count 335 bytes each, with paths of 49 characters on average): a
 * search over more reads paths in SQL as it needs them, rather than whole generations' files
 * that the cache would drop again before the next search.
 */
export const MAX_KEPT_FILES = Math.floor(FILE_CACHE_BYTES / 340);

/** A generation's files. */
export interface GenerationFiles {
  /** Every file, in path order, and its language. */
  paths: string[];
  languages: Array<string | null>;
  /** The text files' indexes in `paths`, by their blob's sha. */
  textBySha: Map<string, number[]>;
  /** Every path lowercased, one after another with a newline between (see pathsHolding), and where each starts. */
  lowerNames: string;
  nameStarts: Int32Array;
}

/**
 * The indexes of the paths that may hold `literal` case-insensitively (as JavaScript's `i` flag
 * matches it), ascending: found by one search of the lowercased names rather than an expression
 * run on each path (~2 ms over 168,610 paths). Only for a literal of ASCII characters — no other
 * character matches one of those case-insensitively, and lowercasing keeps them — else every
 * path. The caller still matches each path given: a hit may span two paths where they are joined.
 */
export function* pathsHolding(files: GenerationFiles, literal: string | null): Generator<number> {
  const n = files.paths.length;
  if (!literal || !/^[\x00-\x7f]+$/.test(literal)) {
    for (let i = 0; i < n; i++) yield i;
    return;
  }
  const needle = literal.toLowerCase();
  const { lowerNames: names, nameStarts: starts } = files;
  for (let at = names.indexOf(needle); at >= 0; ) {
    // The path holding position `at`: the last that starts at or before it.
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= at) lo = mid;
      else hi = mid - 1;
    }
    yield lo;
    if (lo + 1 >= n) return;
    at = names.indexOf(needle, starts[lo + 1]);
  }
}

/** The lowercased names of `paths` for pathsHolding. */
export function lowerNamesOf(paths: string[]): Pick<GenerationFiles, 'lowerNames' | 'nameStarts'> {
  const lower = paths.map((p) => p.toLowerCase()); // one by one: a path's length may change, and each start is its own
  const nameStarts = new Int32Array(paths.length);
  let at = 0;
  lower.forEach((p, i) => {
    nameStarts[i] = at;
    at += p.length + 1;
  });
  return { lowerNames: lower.join('\n'), nameStarts };
}

/** What names a generation: its repo (every statement of a search is bounded by the account's repos), id and creation time. */
export interface GenerationRef {
  repo_id: string;
  id: string;
  stamp: string;
}

const cache = new ByteLru<Kept<GenerationFiles>>(FILE_CACHE_BYTES);

/** Empties the cache (tests). */
export function clearFileCache(): void {
  cache.clear();
}

export function fileCacheStats(): { entries: number; bytes: number } {
  return cache.stats();
}

/** The files of each generation, in the refs' order: from the cache, and those it lacks in one statement. */
export async function filesOf(m: EntityManager, gens: GenerationRef[]): Promise<GenerationFiles[]> {
  const out = new Array<GenerationFiles | undefined>(gens.length);
  const missing: number[] = [];
  gens.forEach((g, i) => {
    out[i] = cache.get(g.id, g.stamp)?.value ?? undefined;
    if (!out[i]) missing.push(i);
  });
  if (missing.length > 0) {
    const rows = (await m.query(
      `SELECT k.generation_id::text AS generation, e.path, e.language, e.sha, e.is_text
         FROM unnest($1::uuid[], $2::bigint[]) AS k(repo_id, generation_id)
         JOIN index_generations g ON g.id = k.generation_id AND g.repo_id = k.repo_id
         CROSS JOIN LATERAL (SELECT path, language, sha, is_text FROM index_entries
                              WHERE generation_id = k.generation_id AND type = 'file' ORDER BY path OFFSET 0) e`,
      [missing.map((i) => gens[i].repo_id), missing.map((i) => gens[i].id)],
    )) as Array<{ generation: string; path: string; language: string | null; sha: string | null; is_text: boolean }>;
    const read = new Map<string, { files: GenerationFiles; bytes: number }>(
      missing.map((i) => [gens[i].id, { files: { paths: [], languages: [], textBySha: new Map(), lowerNames: '', nameStarts: new Int32Array(0) }, bytes: 0 }]),
    );
    for (const r of rows) {
      const at = read.get(r.generation)!;
      const { files } = at;
      at.bytes += 3 * r.path.length + 68; // the path (UTF-16), its lowercased name and start
      if (r.is_text && r.sha) {
        const same = files.textBySha.get(r.sha);
        if (same) same.push(files.paths.length);
        else files.textBySha.set(r.sha, [files.paths.length]);
        at.bytes += 120;
      }
      files.paths.push(r.path);
      files.languages.push(r.language);
    }
    for (const i of missing) {
      const { files, bytes } = read.get(gens[i].id)!;
      Object.assign(files, lowerNamesOf(files.paths));
      out[i] = files;
      cache.set(gens[i].id, { stamp: gens[i].stamp, bytes, value: files, used: true });
    }
  }
  return out as GenerationFiles[];
}
