// Hostile repositories as an attacker writes them: straight into the fake Bitbucket's bare
// repository with `git fast-import` (test/support/fast-import.ts), so names and bytes no working tree or `git add` would allow
// (Latin-1 names, newlines, leading dashes, 100 MB lines) reach the service as they are.
import type { FakeBitbucket } from '../support/bitbucket';
import { importCommit, type ImportedFile } from '../support/fast-import';
import type { TestService } from '../support/service';

/** A new private repo of `acme` that demo administers, seeded with one file, then `files` imported on top. */
export async function hostileRepo(fake: FakeBitbucket, slug: string, files: ImportedFile[]): Promise<{ fullName: string; head: string; gitDir: string }> {
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
