// workspace-sync (id workspace-sync:{accountId}:{workspace}): the long-lived workflow of one synced
// workspace (CONTRACT §13).
//   check the webhook (a workspace hook if the user owns the workspace) → list the workspace and
//   register what is new → ask vanished repos for a check → cover the repos with hooks, waiting
//   for REST budget when it is spent → wait WORKSPACE_SYNC_INTERVAL or a signal → continue-as-new.
// New repos' workflows are started by the RepoStarter (a few per account at a time), the same
// door a single add goes through. "Stop syncing" removes the workspace webhook and ends.
import { ActivityFailure, ApplicationFailure, condition, type SignalDefinition, continueAsNew, getExternalWorkflowHandle, log, proxyActivities, setCurrentDetails, setHandler } from '@temporalio/workflow';
import type { WorkspaceSyncActivities } from '../activities/workspace-sync';
import { NON_RETRYABLE } from '../src/failures';
import { workflowIds } from './definitions';
import { reindexSignal, webhookChangedSignal } from './repo-signals';
import { resyncSignal, stopSyncSignal, workspaceReconnectedSignal, workspaceStatusQuery, type WorkspaceSyncStatus } from './workspace-signals';

export interface WorkspaceSyncInput {
  accountId: string;
  workspace: string;
  /** Carried across continue-as-new. */
  carried?: { webhookCheckedAt: number | null; retryFailedHooks: boolean };
}

/** The workspace webhook is re-checked (repaired if someone changed it) at most this often. */
const WEBHOOK_CHECK_EVERY_MS = 60 * 60_000;
const SIGNAL_BATCH = 50;

const control = proxyActivities<WorkspaceSyncActivities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', nonRetryableErrorTypes: NON_RETRYABLE },
});

export async function workspaceSync(input: WorkspaceSyncInput): Promise<void> {
  const { accountId, workspace } = input;
  const ref = { accountId, workspace };
  let stopRequested = false;
  let resync = false;
  let reconnected = false;
  let webhookCheckedAt = input.carried?.webhookCheckedAt ?? null;
  let retryFailedHooks = input.carried?.retryFailedHooks ?? false;
  const status: WorkspaceSyncStatus = { phase: 'starting', lastListing: null };
  setHandler(resyncSignal, () => void (resync = true));
  setHandler(stopSyncSignal, () => void (stopRequested = true));
  setHandler(workspaceReconnectedSignal, () => {
    reconnected = true;
    resync = true;
  });
  setHandler(workspaceStatusQuery, () => status);
  const show = (phase: string) => {
    status.phase = phase;
    setCurrentDetails(`**${phase}**${status.lastListing ? `\n\nLast listing: ${status.lastListing.listed} repos, ${status.lastListing.selected} selected, ${status.lastListing.added} new, ${status.lastListing.vanished} vanished` : ''}`);
  };
  const interrupted = () => stopRequested || resync;

  /** Sends a signal to many repo workflows, a batch at a time; one not running yet needs none (it reads the row). */
  const tell = async (repoIds: string[], signal: SignalDefinition<[]>) => {
    for (let i = 0; i < repoIds.length; i += SIGNAL_BATCH) {
      await Promise.all(repoIds.slice(i, i + SIGNAL_BATCH).map((id) => getExternalWorkflowHandle(workflowIds.repo(id)).signal(signal).catch(() => undefined)));
    }
  };

  const stop = async (): Promise<'ended' | 'resumed'> => {
    show('stopping: removing the workspace webhook');
    const done = await control.finishWorkspaceStop(ref);
    if (done.resumed) return 'resumed';
    await tell(done.uncovered, webhookChangedSignal);
    show('stopped');
    return 'ended';
  };

  // A reconnect that arrived during this cycle is the next one's: its webhook check and failed hooks.
  const again = () => continueAsNew<typeof workspaceSync>({ accountId, workspace, carried: { webhookCheckedAt: reconnected ? null : webhookCheckedAt, retryFailedHooks: retryFailedHooks || reconnected } });
  /** Not synced any more: finish the stop, unless the workspace was added again meanwhile. */
  const stopOrGoOn = async () => ((await stop()) === 'ended' ? undefined : again());

  if (stopRequested) return stopOrGoOn();

  // One cycle per run: the history stays short however long the workspace is synced.
  resync = false;
  let intervalMs = 0;
  try {
    if (reconnected || webhookCheckedAt === null || Date.now() - webhookCheckedAt >= WEBHOOK_CHECK_EVERY_MS) {
      show('checking the webhook');
      if ((await control.ensureWorkspaceWebhook(ref)) === null) return stopOrGoOn();
      webhookCheckedAt = Date.now();
    }
    retryFailedHooks ||= reconnected;
    reconnected = false;
    show('listing the workspace');
    const listing = await control.listWorkspace(ref);
    if (!listing) return stopOrGoOn();
    intervalMs = listing.intervalMs;
    status.lastListing = { listed: listing.listed, selected: listing.selected, added: listing.added, vanished: listing.vanished.length };
    if (listing.vanished.length > 0) await tell(listing.vanished, reindexSignal); // each checks its remote: repo_gone if it is
    for (;;) {
      show('covering the repos with webhooks');
      const cover = await control.coverReposWithHooks({ ...ref, retryFailed: retryFailedHooks });
      retryFailedHooks = false;
      if (cover.remaining === 0) break;
      if (cover.waitMs > 0) {
        show(`waiting for Bitbucket's REST budget (${cover.remaining} repos still without a webhook)`);
        if (await condition(interrupted, cover.waitMs)) break;
      }
    }
  } catch (err) {
    // A lasting failure (needs_reauth, the workspace gone) is on the workspace's object already: wait for a reconnect or the next interval.
    const failure = err instanceof ActivityFailure ? err.cause : err;
    if (!(failure instanceof ApplicationFailure)) throw err;
    log.warn('The workspace could not be synced', { error: failure.message });
    show(`failed: ${failure.message}`);
    intervalMs = intervalMs || 10 * 60_000;
  }

  if (!interrupted()) {
    show(intervalMs > 0 ? 'synced; waiting for the next listing' : 'synced; listing again on request only');
    if (intervalMs > 0) await condition(interrupted, intervalMs);
    else await condition(interrupted);
  }
  if (stopRequested) return stopOrGoOn();
  return again();
}
