// Helpers for repo tests: wait for a repo to reach a state, read it, add one.
import type { TestService } from './service';

export async function getRepo(svc: TestService, token: string, id: string) {
  const res = await svc.request('GET', `/v1/repos/${id}`, { token });
  if (res.status !== 200) throw new Error(`GET repo ${id}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.repo;
}

/** Polls the repo until `done(repo)` holds; returns the statuses seen on the way. */
export async function waitForRepo(svc: TestService, token: string, id: string, done: (repo: any) => boolean, timeoutMs = 60_000) {
  const seen: string[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const repo = await getRepo(svc, token, id);
    if (seen[seen.length - 1] !== repo.status) seen.push(repo.status);
    if (done(repo)) return { repo, seen };
    if (Date.now() > deadline) throw new Error(`repo ${id} never got there; last: ${JSON.stringify(repo)}; statuses seen: ${seen.join(' → ')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const isReadyAt = (commit?: string | null) => (repo: any) => repo.status === 'ready' && (!commit || repo.lastIndexedCommit === commit);
