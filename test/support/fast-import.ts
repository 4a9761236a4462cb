// Commits written with `git fast-import` straight into a bare repository (the fake Bitbucket's,
// for instance): names and bytes no working tree or `git add` would allow (Latin-1 names,
// newlines, leading dashes, 100 MB lines) and incompressible files of any size arrive as they are.
import crypto from 'node:crypto';
import { git, isolatedGitEnv } from '../fakes/bitbucket/git';

export interface ImportedFile {
  /** Bytes of the path (a string is UTF-8). */
  path: Buffer | string;
  content: Buffer | string;
}

/** A path as fast-import reads it: C-quoted, every byte outside printable ASCII in octal. */
function quotePath(p: Buffer): string {
  let out = '"';
  for (const b of p) {
    if (b === 0x22 || b === 0x5c) out += `\\${String.fromCharCode(b)}`;
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += `\\${b.toString(8).padStart(3, '0')}`;
  }
  return `${out}"`;
}

/** One commit on `branch` of the bare repo at `gitDir` (on top of its head): the files written, the rest kept; returns its sha. */
export async function importCommit(gitDir: string, branch: string, files: ImportedFile[], message = 'imported commit'): Promise<string> {
  const parts: Buffer[] = [];
  const data = (b: Buffer) => parts.push(Buffer.from(`data ${b.length}\n`), b, Buffer.from('\n'));
  const parent = await git(['rev-parse', '--verify', '--quiet', `refs/heads/${branch}`], { cwd: gitDir }).then((s) => s.trim(), () => null);
  parts.push(Buffer.from(`commit refs/heads/${branch}\ncommitter Mallory <mallory@evil.test> ${Math.floor(Date.now() / 1000)} +0000\n`));
  data(Buffer.from(message));
  if (parent) parts.push(Buffer.from(`from ${parent}\n`));
  for (const f of files) {
    parts.push(Buffer.from(`M 100644 inline ${quotePath(Buffer.isBuffer(f.path) ? f.path : Buffer.from(f.path))}\n`));
    data(Buffer.isBuffer(f.content) ? f.content : Buffer.from(f.content));
  }
  await git(['fast-import', '--quiet'], { cwd: gitDir, input: Buffer.concat(parts), env: isolatedGitEnv() });
  return (await git(['rev-parse', `refs/heads/${branch}`], { cwd: gitDir })).trim();
}

/** Commits `files` (path → size in bytes of random, incompressible content) on top of `branch`; returns the new sha. */
export async function commitRandomFiles(gitDir: string, branch: string, files: Record<string, number>, message = 'Add large random files'): Promise<string> {
  const head = await importCommit(gitDir, branch, Object.entries(files).map(([path, size]) => ({ path, content: crypto.randomBytes(size) })), message);
  // Random data never deltas: without this, serving it costs seconds of delta search on the server.
  await git(['config', 'core.bigFileThreshold', '1m'], { cwd: gitDir });
  return head;
}

export const MiB = 1024 * 1024;
