// Indexing-queue activities: fetch the newest head of the repo's default branch (shallow clone
// the first time) and index it — incrementally when the previous commit is there. Heartbeats
// carry progress and what a retry needs to resume; the repo row shows progress while indexing.
import { Context } from '@temporalio/activity';
import type { DataSource } from 'typeorm';
import type { BitbucketIntegration } from '../src/bitbucket/integration';
import type { Config } from '../src/config';
import { Repo } from '../src/db/entities';
import { TypedFailureError } from '../src/failures';
import { GitSyncError, removeRepoDir, repoDir, syncRepo } from '../src/git/repo-sync';
import { resolveAllowedHost } from '../src/git/url-policy';
import { indexCommit, IndexTooLargeError, type IndexProgress } from '../src/indexer';
import type { Logger } from '../src/logger';
import { indexBytes, indexDuration } from '../src/metrics';
import { gitCredentialsFor } from '../src/repos/git-access';
import { findLiveRepo } from '../src/repos/repo-store';
import type { SecretBox } from '../src/security/secret-box';
import { FailureType } from '../workflows/failure-types';

export interface RepoIndexingDeps {
  ds: DataSource;
  box: SecretBox;
  config: Config;
  log: Logger;
  bitbucket: BitbucketIntegration;
}

interface Heartbeat {
  phase: 'clone' | 'index';
  resume?: IndexProgress;
}

const GIT_TIMEOUT_MS = 15 * 60_000;

function gitFailure(err: GitSyncError): TypedFailureError {
  switch (err.code) {
    case 'repo_gone':
      return new TypedFailureError(FailureType.RepoGone, 'The repository no longer exists or is no longer visible to Lettuce.', false);
    case 'auth_failed':
      return new TypedFailureError(FailureType.CloneFailed, `The git server refused Lettuce's credentials: ${err.message}`, false);
    case 'empty_repo':
      return new TypedFailureError(FailureType.CloneFailed, 'The repository has no commits yet; push something, then re-index.', false);
    default:
      return new TypedFailureError(FailureType.CloneFailed, err.message, err.code !== 'branch_not_found');
  }
}

export function createRepoIndexingActivities(deps: RepoIndexingDeps) {
  const { ds, config } = deps;
  return {
    async syncAndIndex(input: { repoId: string }): Promise<{ exists: boolean; commit: string }> {
      const ctx = Context.current();
      const repo = await findLiveRepo(ds, input.repoId);
      if (!repo) return { exists: false, commit: '' };
      const previous = ctx.info.heartbeatDetails as Heartbeat | undefined;
      const credentials = await gitCredentialsFor(repo, deps);
      // Pasted URLs are checked again at every fetch: DNS may have changed since the repo was added.
      const pinAddresses = repo.source === 'url' ? await resolveAllowedHost({ host: new URL(repo.cloneUrl).hostname }, { allowPrivateHosts: config.gitAllowPrivateHosts }) : undefined;
      await ds.getRepository(Repo).update({ id: repo.id }, { status: 'indexing', progress: null });

      ctx.heartbeat({ phase: 'clone' } satisfies Heartbeat);
      const keepAlive = setInterval(() => ctx.heartbeat({ phase: 'clone' } satisfies Heartbeat), 5_000);
      let head: string;
      try {
        const sync = await syncRepo({
          dir: repoDir(config.dataDir, repo.id),
          url: repo.cloneUrl,
          branch: repo.defaultBranch,
          credentials,
          timeoutMs: GIT_TIMEOUT_MS,
          signal: ctx.cancellationSignal,
          pinAddresses,
        });
        head = sync.head;
        if (repo.defaultBranch !== sync.branch) await ds.getRepository(Repo).update({ id: repo.id }, { defaultBranch: sync.branch });
      } catch (err) {
        throw err instanceof GitSyncError && err.code !== 'cancelled' ? gitFailure(err) : err;
      } finally {
        clearInterval(keepAlive);
      }

      const started = process.hrtime.bigint();
      let lastProgressWrite = 0;
      try {
        const result = await indexCommit(ds, {
          repoId: repo.id,
          gitDir: repoDir(config.dataDir, repo.id),
          commit: head,
          baseCommit: repo.lastIndexedCommit,
          resume: previous?.phase === 'index' ? (previous.resume ?? null) : null,
          signal: ctx.cancellationSignal,
          onProgress: async (p) => {
            ctx.heartbeat({ phase: 'index', resume: p } satisfies Heartbeat);
            if (Date.now() - lastProgressWrite > 1_000) {
              lastProgressWrite = Date.now();
              await ds.getRepository(Repo).update({ id: repo.id }, { progress: { filesDone: p.filesDone, filesTotal: p.filesTotal } });
            }
          },
        });
        indexDuration.observe({ kind: result.kind, outcome: 'ok' }, Number(process.hrtime.bigint() - started) / 1e9);
        indexBytes.inc(result.bytes);
      } catch (err) {
        indexDuration.observe({ kind: 'unknown', outcome: 'error' }, Number(process.hrtime.bigint() - started) / 1e9);
        if (err instanceof IndexTooLargeError) throw new TypedFailureError(FailureType.TooLarge, err.message, false);
        throw err;
      }
      await ds.getRepository(Repo).update(
        { id: repo.id },
        { status: 'ready', lastIndexedCommit: head, lastIndexedAt: new Date(), errorCode: null, errorMessage: null, progress: null },
      );
      return { exists: true, commit: head };
    },

    async removeClone(input: { repoId: string }): Promise<void> {
      await removeRepoDir(config.dataDir, input.repoId);
    },
  };
}

export type RepoIndexingActivities = ReturnType<typeof createRepoIndexingActivities>;
