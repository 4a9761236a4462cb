// Repository paths: normalization of user input, and the rules for what the indexer skips.
import { InvalidPathError } from './errors';

/**
 * Normalizes a path inside the repository: '' and '/' are the root (''), `./` segments and
 * repeated, leading and trailing slashes collapse. `..` segments, NUL and backslashes are refused.
 */
export function normalizeRepoPath(p: string): string {
  if (typeof p !== 'string') throw new InvalidPathError('The path must be a string.');
  if (p.length > 4096) throw new InvalidPathError('The path is too long.');
  if (p.includes('\0')) throw new InvalidPathError('The path must not contain NUL characters.');
  if (p.includes('\\')) throw new InvalidPathError('The path must not contain backslashes.');
  const parts: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') throw new InvalidPathError('The path must not contain ".." segments.');
    parts.push(seg);
  }
  return parts.join('/');
}

/** Directories never indexed (vendored dependencies, build output, VCS metadata), at any depth. */
export const SKIPPED_DIRS: ReadonlySet<string> = new Set(['node_modules', 'bower_components', 'vendor', 'dist', '.git', '__pycache__']);

const MINIFIED = /\.min\.(js|mjs|cjs|css)$|\.(js|css)\.map$/i;

/** True when the path lies in a skipped directory or names a minified / source-map file. */
export function isSkippedPath(path: string): boolean {
  if (MINIFIED.test(path)) return true;
  let start = 0;
  for (;;) {
    const slash = path.indexOf('/', start);
    if (slash < 0) return false;
    if (SKIPPED_DIRS.has(path.slice(start, slash))) return true;
    start = slash + 1;
  }
}

export function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Every ancestor directory of a path, nearest first ('a/b/c.ts' → 'a/b', 'a'); the root is not included. */
export function ancestorsOf(path: string): string[] {
  const out: string[] = [];
  for (let i = path.lastIndexOf('/'); i > 0; i = path.lastIndexOf('/', i - 1)) out.push(path.slice(0, i));
  return out;
}
