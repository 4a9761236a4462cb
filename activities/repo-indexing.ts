// Indexing-queue activities: fetch the newest head of the repo's default branch (shallow clone
// the first time) and index it — incrementally when the previous commit is there. Heartbeats
// carry progress and what a retry needs to resume; the repo row shows progress while indexing.
import { existsSync } from 'node:fs';
import { Context } from '@temporalio/activity';
import { Repo } from '../src/db/entities';
import { GitSyncError, mainBranchHead, removeRepoDir, repoDir, syncRepo, type SyncResult } from '../src/git/repo-sync';
import { indexCommit, type IndexProgress } from '../src/indexer';
import type { Logger } from '../src/logger';
import { indexBytes, indexDuration } from '../src/metrics';
import { gitHostOf, type BackgroundGate } from '../src/repos/background-gate';
import { remoteOf, repoGitFailure, type GitAccessDeps } from '../src/repos/git-access';
import { findLiveRepo, markIndexing, markReady } from '../src/repos/repo-store';

export type RepoIndexingDeps = GitAccessDeps & { log: Logger; gate: BackgroundGate };

interface Heartbeat {
  phase: 'clone' | 'index';
  resume?: IndexProgress;
}

const GIT_TIMEOUT_MS = 15 * 60_000;

export function createRepoIndexingActivities(deps: RepoIndexingDeps) {
  const { ds, config } = deps;
  return {
    /**
     * Fetches the main branch's newest head and indexes it; `branch` is the main branch it fetched,
     * `reconcileIntervalMs` this worker's REPO_RECONCILE_INTERVAL (so turning it on reaches idle repos at their next push).
     */
    async syncAndIndex(input: { repoId: string }): Promise<{ exists: boolean; commit: string; branch?: string; reconcileIntervalMs?: number }> {
      const ctx = Context.current();
      const repo = await findLiveRepo(ds, input.repoId);
      if (!repo) return { exists: false, commit: '' };
      const previous = ctx.info.heartbeatDetails as Heartbeat | undefined;
      const remote = await remoteOf(repo, deps);
      const dir = repoDir(config.dataDir, repo.id);
      await markIndexing(ds, repo.id);

      ctx.heartbeat({ phase: 'clone' } satisfies Heartbeat);
      const keepAlive = setInterval(() => ctx.heartbeat({ phase: 'clone' } satisfies Heartbeat), 5_000);
      // MAX_REPO_SIZE: a first clone of a repo Bitbucket reported larger (when it was added) fails
      // without a transfer; every clone and fetch is also watched on disk.
      const maxSizeBytes = config.maxRepoSizeBytes;
      const reportedSizeBytes = existsSync(dir) ? null : repo.reportedSize;
      const sync = (branch: string | null) =>
        syncRepo({ ...remote, dir, branch, timeoutMs: GIT_TIMEOUT_MS, signal: ctx.cancellationSignal, maxSizeBytes, reportedSizeBytes });
      let head: string;
      let branch: string;
      try {
        let synced: SyncResult;
        try {
          synced = await sync(repo.defaultBranch);
        } catch (err) {
          // The main branch was renamed (and the old one deleted) before anything told us: follow HEAD.
          if (!(err instanceof GitSyncError && err.code === 'branch_not_found')) throw err;
          const main = await mainBranchHead({ ...remote, branch: null, timeoutMs: 60_000, signal: ctx.cancellationSignal });
          if (!main.branch || main.branch === repo.defaultBranch) throw err;
          synced = await sync(main.branch);
        }
        head = synced.head;
        branch = synced.branch;
        if (repo.defaultBranch !== synced.branch) await ds.getRepository(Repo).update({ id: repo.id }, { defaultBranch: synced.branch });
      } catch (err) {
        if (!(err instanceof GitSyncError) || err.code === 'cancelled') throw err;
        if (err.code === 'rate_limited') await deps.gate.rateLimited(gitHostOf(repo.cloneUrl));
        throw repoGitFailure(repo, remote.credentials, err);
      } finally {
        clearInterval(keepAlive);
      }

      const started = process.hrtime.bigint();
      let lastProgressWrite = 0;
      // A batch can take longer than the heartbeat timeout (a parser that hangs is given 30 s):
      // the last progress is repeated meanwhile, so the activity is not retried for being slow.
      let lastProgress: IndexProgress | undefined = previous?.phase === 'index' ? previous.resume : undefined;
      const indexAlive = setInterval(() => ctx.heartbeat({ phase: 'index', resume: lastProgress } satisfies Heartbeat), 5_000);
      try {
        const result = await indexCommit(ds, {
          repoId: repo.id,
          gitDir: repoDir(config.dataDir, repo.id),
          commit: head,
          baseCommit: repo.lastIndexedCommit,
          resume: previous?.phase === 'index' ? (previous.resume ?? null) : null,
          signal: ctx.cancellationSignal,
          onParserCrash: (crash) =>
            deps.log.warn({ repoId: repo.id, path: crash.path, reason: crash.reason, symbolsFrom: crash.engine }, 'a parser crashed on a file; it is indexed without the symbols of that parser'),
          onProgress: async (p) => {
            lastProgress = p;
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
        throw err;
      } finally {
        clearInterval(indexAlive);
      }
      await markReady(ds, repo.id, head);
      return { exists: true, commit: head, branch, reconcileIntervalMs: config.repoReconcileIntervalMs };
    },

    async removeClone(input: { repoId: string }): Promise<void> {
      await removeRepoDir(config.dataDir, input.repoId);
    },
  };
}

export type RepoIndexingActivities = ReturnType<typeof createRepoIndexingActivities>;
