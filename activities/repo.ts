// Control-queue activities of the repo workflow: registration, the webhook, failure status,
// deletion. Each takes the repo id and reads everything else from PostgreSQL.
import { setTimeout as sleep } from 'node:timers/promises';
import { Context } from '@temporalio/activity';
import type { DataSource } from 'typeorm';
import { BitbucketApiError, IntegrationError } from '../src/bitbucket/errors';
import { findInstallation } from '../src/bitbucket/installations';
import type { BitbucketIntegration } from '../src/bitbucket/integration';
import type { Config } from '../src/config';
import { CODES_FIXED_BY_RECONNECT } from '../src/failures';
import { Repo } from '../src/db/entities';
import type { Logger } from '../src/logger';
import { findLiveRepo, markFailed } from '../src/repos/repo-store';
import { ensureWebhook, removeWebhook } from '../src/webhooks/bitbucket-hooks';
import type { SecretBox } from '../src/security/secret-box';

const FRESH_METADATA_MS = 60_000;

export interface RepoDeps {
  ds: DataSource;
  box: SecretBox;
  config: Config;
  log: Logger;
  bitbucket: BitbucketIntegration;
}

export function createRepoActivities(deps: RepoDeps) {
  const { ds } = deps;
  return {
    /**
     * Confirms the repo row exists (the API commits it before it starts this workflow) and
     * refreshes Bitbucket metadata. `exists: false` ends a workflow whose row is gone (deleted
     * before the workflow began) or never came.
     */
    async registerRepo(input: { repoId: string }): Promise<{ exists: boolean; source: 'bitbucket' | 'url' | null }> {
      // An API of the version before started the workflow inside the transaction that inserts
      // the row, a few ms before its commit: look again soon, then less often, for up to 10 s.
      let repo = await findLiveRepo(ds, input.repoId);
      for (let waited = 0, pause = 5; !repo && waited < 10_000; waited += pause, pause = Math.min(pause * 2, 100)) {
        await sleep(pause);
        repo = await findLiveRepo(ds, input.repoId);
      }
      if (!repo) return { exists: false, source: null };
      // A repo added a moment ago carries the metadata the API has just read from Bitbucket; one
      // registered again later (a workflow restarted by an operator) gets it refreshed.
      // A repo of a synced workspace has it from the workspace's listing (no call per repo, CONTRACT §13).
      const freshlyAdded = Date.now() - repo.createdAt.getTime() < FRESH_METADATA_MS || repo.syncedFrom !== null;
      if (!freshlyAdded && repo.source === 'bitbucket' && repo.bitbucketWorkspace && repo.bitbucketSlug) {
        const installation = await findInstallation(ds, repo.accountId);
        if (installation) {
          try {
            const meta = await deps.bitbucket.clientFor(installation.id, installation.accountId).repository(repo.bitbucketWorkspace, repo.bitbucketSlug);
            await ds.getRepository(Repo).update({ id: repo.id }, { defaultBranch: meta.mainbranch?.name ?? repo.defaultBranch, isPrivate: meta.is_private });
          } catch (err) {
            // Indexing reports a lasting problem (needs_reauth, repo_gone) with its own error; registration goes on.
            if (!(err instanceof IntegrationError || err instanceof BitbucketApiError)) throw err;
          }
        }
      }
      return { exists: true, source: repo.source };
    },

    async ensureWebhook(input: { repoId: string }): Promise<{ status: 'active' | 'failed' | 'none' }> {
      const repo = await findLiveRepo(ds, input.repoId);
      if (!repo || repo.source !== 'bitbucket') return { status: 'none' };
      // Registration (a local activity) leaves a synced workspace's repo hooks to the workspace's
      // sync, which paces them within the REST budget; a re-check someone asked for runs now.
      const registering = Context.current().info.isLocal;
      if (!registering) Context.current().heartbeat();
      return { status: (await ensureWebhook(repo, deps, { now: !registering })).status };
    },

    async removeWebhook(input: { repoId: string }): Promise<void> {
      const repo = await ds.getRepository(Repo).findOne({ where: { id: input.repoId } });
      if (!repo) return;
      try {
        await removeWebhook(repo, deps);
      } catch (err) {
        deps.log.warn({ repoId: input.repoId, err: (err as Error).message }, 'could not remove the webhook (best effort)');
      }
    },

    async markRepoFailed(input: { repoId: string; code: string; message: string }): Promise<void> {
      await markFailed(ds, input.repoId, input.code, input.message);
    },

    /** The last step of a delete: the row goes, and its index with it (ON DELETE CASCADE). */
    async deleteRepoRecord(input: { repoId: string }): Promise<void> {
      await ds.getRepository(Repo).delete({ id: input.repoId });
    },

    /**
     * Repos a successful reconnect heals (CONTRACT §6): those that failed on a code a reconnect
     * fixes, and Bitbucket repos whose webhook failed (the new grant may carry the missing
     * permission). Each is sent `reauthorized`. (The name is the one recorded in install histories.)
     */
    async listReposAwaitingReauth(input: { accountId: string }): Promise<string[]> {
      const rows: Array<{ id: string }> = await ds.query(
        `SELECT id FROM repos WHERE account_id = $1 AND deleted_at IS NULL
           AND ((status = 'failed' AND error_code = ANY($2::text[])) OR (source = 'bitbucket' AND webhook_status = 'failed'))`,
        [input.accountId, CODES_FIXED_BY_RECONNECT],
      );
      return rows.map((r) => r.id);
    },
  };
}

export type RepoActivities = ReturnType<typeof createRepoActivities>;
