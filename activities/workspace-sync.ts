// Control-queue activities of the workspace-sync workflow (CONTRACT §13). Each takes the account
// and workspace and reads everything else from PostgreSQL; Bitbucket calls made here are
// background calls of the REST budget.
import { Context } from '@temporalio/activity';
import type { DataSource } from 'typeorm';
import type { BitbucketIntegration } from '../src/bitbucket/integration';
import type { Config } from '../src/config';
import { failureCode, TypedFailureError } from '../src/failures';
import type { Logger } from '../src/logger';
import type { SecretBox } from '../src/security/secret-box';
import { coverRepos, ensureWorkspaceWebhook, finishStop } from '../src/workspaces/workspace-webhook';
import { recordSyncFailure, syncListing, WorkspaceNotFoundError, type ListingResult } from '../src/workspaces/workspace-sync';

export interface WorkspaceSyncActivityDeps {
  ds: DataSource;
  box: SecretBox;
  config: Config;
  log: Logger;
  bitbucket: BitbucketIntegration;
}

type Ref = { accountId: string; workspace: string };

export function createWorkspaceSyncActivities(deps: WorkspaceSyncActivityDeps) {
  /** A failure retrying will not fix is the workspace's error (shown on its object) before it ends the activity. */
  const recordingLasting = async <T>(ref: Ref, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (err) {
      if (err instanceof TypedFailureError && !err.retryable) {
        const code = err instanceof WorkspaceNotFoundError ? 'bitbucket_workspace_not_found' : failureCode(err.failureType);
        await recordSyncFailure(deps.ds, ref.accountId, ref.workspace, code, err.message);
      }
      throw err;
    }
  };

  return {
    /** Lists the workspace and registers, adopts, releases; null when it is not synced any more. */
    async listWorkspace(ref: Ref): Promise<(ListingResult & { intervalMs: number }) | null> {
      const result = await recordingLasting(ref, () => syncListing(deps, ref.accountId, ref.workspace));
      if (result) deps.log.info({ accountId: ref.accountId, workspace: ref.workspace, ...result, vanished: result.vanished.length }, 'workspace listed');
      return result && { ...result, intervalMs: deps.config.workspaceSyncIntervalMs };
    },

    /** The workspace webhook when the user owns the workspace, else repo hooks; the scope (null: not synced). */
    ensureWorkspaceWebhook(ref: Ref): Promise<'workspace' | 'repo' | null> {
      return recordingLasting(ref, () => ensureWorkspaceWebhook(deps, ref.accountId, ref.workspace));
    },

    /** Covers the workspace's repos with hooks for up to a minute; what remains and how long the budget asks to wait. */
    coverReposWithHooks(input: Ref & { retryFailed: boolean }) {
      const ctx = Context.current();
      return coverRepos(deps, input.accountId, input.workspace, { forMs: 60_000, retryFailed: input.retryFailed, onProgress: () => ctx.heartbeat() });
    },

    /** "Stop syncing": the workspace hook and the row go; the repos it covered, to be told. */
    finishWorkspaceStop(ref: Ref): Promise<{ resumed: boolean; uncovered: string[] }> {
      return finishStop(deps, ref.accountId, ref.workspace);
    },
  };
}

export type WorkspaceSyncActivities = ReturnType<typeof createWorkspaceSyncActivities>;
