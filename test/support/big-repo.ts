// Hostile repositories for size tests: a commit of incompressible (random) files, written with
// `git fast-import` straight into a bare repository (the fake Bitbucket's, for instance), so a
// clone of it really is that large on the wire and on disk.
import crypto from 'node:crypto';
import { git } from '../fakes/bitbucket/git';

/** Commits `files` (path → size in bytes of random content) on top of `branch`; returns the new sha. */
export async function commitRandomFiles(gitDir: string, branch: string, files: Record<string, number>, message = 'Add large random files'): Promise<string> {
  const ref = `refs/heads/${branch}`;
  const parent = (await git(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { cwd: gitDir }).catch(() => '')).trim();
  const parts: Buffer[] = [];
  const line = (s: string) => parts.push(Buffer.from(`${s}\n`));
  const msg = Buffer.from(`${message}\n`);
  line(`commit ${ref}`);
  line(`committer Hostile <hostile@example.test> ${Math.floor(Date.now() / 1000)} +0000`);
  line(`data ${msg.length}`);
  parts.push(msg);
  if (parent) line(`from ${parent}`);
  for (const [p, size] of Object.entries(files)) {
    line(`M 100644 inline ${p}`);
    line(`data ${size}`);
    parts.push(crypto.randomBytes(size));
    line('');
  }
  line('done');
  await git(['fast-import', '--quiet', '--done'], { cwd: gitDir, input: Buffer.concat(parts) });
  // Random data never deltas: without this, serving it costs seconds of delta search on the server.
  await git(['config', 'core.bigFileThreshold', '1m'], { cwd: gitDir });
  return (await git(['rev-parse', ref], { cwd: gitDir })).trim();
}

export const MiB = 1024 * 1024;
