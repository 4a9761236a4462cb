// The reconcile check (CONTRACT §11): one ref listing tells the repo's main branch on the remote
// and its head, compared with what is indexed. Run by the repo workflow as a local activity when
// its reconcile is due, when a push hints that the main branch may have changed, and before a
// re-index. A check that finds nothing new writes nothing; a background check waits while the
// host is rate limiting (see BackgroundGate) instead of adding to it.
import type { DataSource } from 'typeorm';
import { Repo } from '../src/db/entities';
import { FAILURES } from '../src/failures';
import { GitSyncError, mainBranchHead } from '../src/git/repo-sync';
import type { Logger } from '../src/logger';
import { incrementStoredCounterOnce } from '../src/metrics';
import { gitHostOf, type BackgroundGate } from '../src/repos/background-gate';
import { remoteOf, repoGitFailure, type GitAccessDeps } from '../src/repos/git-access';
import { findLiveRepo } from '../src/repos/repo-store';

export type ReconcileDeps = GitAccessDeps & { log: Logger; gate: BackgroundGate };

export interface MainBranchCheckInput {
  repoId: string;
  /**
   * A head the previous check found that no push had announced, and none has since: now (an
   * interval later, so a delivery merely in flight then is not blamed) it counts as missed, if the
   * webhook is active and no delivery of it is still waiting to reach the workflow.
   */
  missedCandidate: string | null;
  /** Background work (a due reconcile) waits out a rate limit; a check someone asked for does not. */
  background: boolean;
}

export type MainBranchCheck =
  | { outcome: 'repo_deleted' }
  | { outcome: 'deferred'; retryInMs: number }
  | {
      outcome: 'unchanged' | 'moved';
      /** The main branch now (it may have just changed: then `defaultBranch` was updated). */
      branch: string | null;
      head: string | null;
      branchChanged: boolean;
      /** REPO_RECONCILE_INTERVAL as this worker is configured now, so a change reaches running workflows. */
      intervalMs: number;
    };

const CHECK_TIMEOUT_MS = 30_000;

export function createReconcileActivities(deps: ReconcileDeps) {
  const { ds, config, gate } = deps;
  return {
    async checkMainBranch(input: MainBranchCheckInput): Promise<MainBranchCheck> {
      const repo = await findLiveRepo(ds, input.repoId);
      if (!repo) return { outcome: 'repo_deleted' };
      const host = gitHostOf(repo.cloneUrl);
      if (input.background) {
        const wait = await gate.waitMs(host);
        if (wait > 0) return { outcome: 'deferred', retryInMs: wait };
      }
      const remote = await remoteOf(repo, deps);
      let found;
      try {
        found = await mainBranchHead({ ...remote, branch: repo.defaultBranch, timeoutMs: CHECK_TIMEOUT_MS });
      } catch (err) {
        if (!(err instanceof GitSyncError)) throw err;
        if (err.code === 'rate_limited') {
          await gate.rateLimited(host);
          if (input.background) return { outcome: 'deferred', retryInMs: await gate.waitMs(host) };
        }
        throw repoGitFailure(repo, remote.credentials, err);
      }
      const branchChanged = found.branch !== null && found.branch !== repo.defaultBranch;
      if (branchChanged) {
        deps.log.info({ repoId: repo.id, from: repo.defaultBranch, to: found.branch }, 'the main branch changed on the remote; following it');
        await ds.getRepository(Repo).update({ id: repo.id }, { defaultBranch: found.branch });
      }
      if (input.missedCandidate && (await missedByWebhook(ds, repo, input.missedCandidate))) {
        deps.log.warn({ repoId: repo.id, head: input.missedCandidate }, 'a reconcile found a head no webhook delivery announced although the webhook is active');
        // Counted once per head, however often the check runs (a local activity may run again with its workflow task).
        await incrementStoredCounterOnce(ds, 'reconcileMissedPushes', {
          sql: `UPDATE repos SET missed_push_head = $2 WHERE id = $1 AND missed_push_head IS DISTINCT FROM $2 RETURNING 1`,
          params: [repo.id, input.missedCandidate],
        });
      }
      // A repo that failed for MAX_REPO_SIZE is not fetched again in the background: it would be as
      // large at every interval (up to the limit transferred each time). A push or a re-index tries again.
      const tooLarge = input.background && repo.status === 'failed' && repo.errorCode === FAILURES.TooLarge.code;
      const moved = found.head !== null && found.head !== repo.lastIndexedCommit && !tooLarge;
      return { outcome: moved ? 'moved' : 'unchanged', branch: found.branch, head: found.head, branchChanged, intervalMs: config.repoReconcileIntervalMs };
    },
  };
}

/** The webhook is active, and no delivery of this head is waiting to reach the workflow either. */
async function missedByWebhook(ds: DataSource, repo: Repo, head: string): Promise<boolean> {
  if (repo.source !== 'bitbucket' || repo.webhookStatus !== 'active') return false;
  const waiting: unknown[] = await ds.query(
    `SELECT 1 FROM webhook_deliveries WHERE repo_id = $1 AND commit = $2 AND outcome = 'accepted' AND dispatched_at IS NULL LIMIT 1`,
    [repo.id, head],
  );
  return waiting.length === 0;
}

export type ReconcileActivities = ReturnType<typeof createReconcileActivities>;
