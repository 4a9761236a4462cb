// Hostile repositories as an attacker writes them: straight into the fake Bitbucket's bare
// repository with `git fast-import`, so names and bytes no working tree or `git add` would allow
// (Latin-1 names, newlines, leading dashes, 100 MB lines) reach the service as they are.
import { git, isolatedGitEnv } from '../fakes/bitbucket/git';
import type { FakeBitbucket } from '../support/bitbucket';
import type { TestService } from '../support/service';

export interface HostileFile {
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

/** One commit on `branch` of the bare repo at `gitDir` (on top of its head): the files written, the rest kept. */
export async function importCommit(gitDir: string, branch: string, files: HostileFile[], message = 'hostile commit'): Promise<string> {
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

/** A new private repo of `acme` that demo administers, seeded with one file, then `files` imported on top. */
export async function hostileRepo(fake: FakeBitbucket, slug: string, files: HostileFile[]): Promise<{ fullName: string; head: string; gitDir: string }> {
  await fake.addRepo({ workspace: 'acme', slug, owner: 'demo', files: { 'README.md': `# ${slug}\n` } });
  const gitDir = fake.gitDirOf('acme', slug);
  const head = await importCommit(gitDir, 'main', files);
  return { fullName: `acme/${slug}`, head, gitDir };
}

/** The service is whole: ready, and a repo indexed before still answers its tree, a file and a search. */
export async function expectServiceWhole(svc: TestService, token: string, healthyRepoId: string): Promise<void> {
  const ready = await fetch(`${svc.url}/readyz`);
  expect(ready.status).toBe(200);
  const tree = await svc.request('GET', `/v1/repos/${healthyRepoId}/tree?path=`, { token });
  expect(tree.status).toBe(200);
  const file = await svc.request('GET', `/v1/repos/${healthyRepoId}/file?path=src/greet.ts`, { token });
  expect(file.status).toBe(200);
  const search = await svc.request('GET', `/v1/repos/${healthyRepoId}/search?q=greet`, { token });
  expect(search.status).toBe(200);
  expect(search.body.results.length).toBeGreaterThan(0);
}
