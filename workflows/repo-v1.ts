// The repo workflow as it ran before RepoState (see repo.ts), kept verbatim so that runs begun
// with it replay and finish: `repo` takes this path only when its history has no
// REPO_STATE_PATCH marker, and such a run moves to the current code at its next continue-as-new.
// Remove once no such run is open (then deprecatePatch in repo.ts).
import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  continueAsNew,
  allHandlersFinished,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { RepoActivities } from '../activities/repo';
import type { RepoIndexingActivities } from '../activities/repo-indexing';
import { indexingQueueFor, LettuceRepoStatus } from './definitions';
import { failureCode, NON_RETRYABLE } from '../src/failures';
import { deleteSignal, pushSignal, reauthorizedSignal, reindexSignal, statusQuery, type RepoWorkflowStatus } from './repo-signals';

import type { RepoWorkflowInput, V1Carried } from './repo-input';

const control = proxyActivities<RepoActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE },
});

function failureOf(err: unknown): { type: string; message: string } {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) return { type: cause.type ?? 'Error', message: cause.message };
  return { type: 'Error', message: (cause as Error)?.message ?? String(cause) };
}

export async function repoV1(input: RepoWorkflowInput): Promise<void> {
  const { repoId } = input;
  const indexing = proxyActivities<RepoIndexingActivities>({
    taskQueue: indexingQueueFor(workflowInfo().taskQueue),
    startToCloseTimeout: '45 minutes',
    heartbeatTimeout: '30 seconds',
    retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE },
  });

  const carried = input.carried as V1Carried | undefined;
  let registered = carried?.registered ?? false;
  let source = carried?.source ?? null;
  let pendingPushes = carried?.pendingPushes ?? 0;
  let reindexRequested = carried?.reindexRequested ?? !registered;
  let lastIndexedCommit = carried?.lastIndexedCommit ?? null;
  const recentDeliveries = carried?.recentDeliveries ?? [];
  let reauthorized = false;
  let webhookRecheck = false; // set by a manual re-index or a reconnect: permissions may have changed
  let deleteRequested = false;
  let phase = 'starting';
  let lastError: string | null = null;

  setHandler(pushSignal, (event) => {
    if (recentDeliveries.includes(event.deliveryId)) return; // a redelivery that slipped past the API
    recentDeliveries.push(event.deliveryId);
    if (recentDeliveries.length > 200) recentDeliveries.shift();
    if (event.commit && event.commit === lastIndexedCommit) return;
    pendingPushes++;
  });
  setHandler(reindexSignal, () => {
    reindexRequested = true;
    webhookRecheck = true;
  });
  setHandler(reauthorizedSignal, () => void (reauthorized = true));
  setHandler(deleteSignal, () => void (deleteRequested = true));
  setHandler(statusQuery, (): RepoWorkflowStatus => ({ phase, pendingPushes, lastIndexedCommit, lastError }));

  const show = (status: 'pending' | 'indexing' | 'ready' | 'failed', details: string) => {
    phase = details;
    upsertSearchAttributes([{ key: LettuceRepoStatus, value: status }]);
    setCurrentDetails(`**${status}** — ${details}${lastError ? `\n\nLast error: ${lastError}` : ''}${lastIndexedCommit ? `\n\nIndexed commit: \`${lastIndexedCommit}\`` : ''}`);
  };

  // A webhook problem never stops indexing: the activity records it on the repo; here it is only noted.
  const ensureWebhook = async () => {
    try {
      await control.ensureWebhook.executeWithOptions({ summary: 'find, repair or create the repo:push webhook' }, [{ repoId }]);
    } catch (err) {
      lastError = `Webhook: ${failureOf(err).message}`;
    }
  };

  if (!registered && !deleteRequested) {
    show('pending', 'registering');
    const found = await control.registerRepo.executeWithOptions({ summary: 'confirm the repo row, refresh Bitbucket metadata' }, [{ repoId }]);
    if (!found.exists && !deleteRequested) return; // the row was never committed: nothing to do
    registered = true;
    source = found.source;
    if (source === 'bitbucket' && !deleteRequested) {
      show('pending', 'ensuring the push webhook');
      await ensureWebhook();
    }
  }

  while (!deleteRequested) {
    if (pendingPushes > 0 || reindexRequested) {
      if (pendingPushes > 0 && !reindexRequested && input.pushDebounceMs !== 0) await sleep(input.pushDebounceMs ?? 1000, { summary: 'let a burst of pushes gather' });
      pendingPushes = 0; // everything pending so far is served by this one run at the newest head
      reindexRequested = false;
      if (webhookRecheck && source === 'bitbucket') {
        webhookRecheck = false;
        await ensureWebhook();
      }
      show('indexing', 'cloning and indexing');
      try {
        const result = await indexing.syncAndIndex.executeWithOptions({ summary: 'fetch the newest head and index it' }, [{ repoId }]);
        if (!result.exists) return;
        lastIndexedCommit = result.commit;
        lastError = null;
        show('ready', `ready at ${result.commit.slice(0, 12)}`);
      } catch (err) {
        const failure = failureOf(err);
        lastError = failure.message;
        const code = failureCode(failure.type);
        await control.markRepoFailed.executeWithOptions({ summary: `record the failure (${code})` }, [{ repoId, code, message: failure.message }]);
        show('failed', code === 'needs_reauth' ? 'waiting for Bitbucket to be reconnected' : `failed (${code}); waiting for a push or a re-index`);
        if (code === 'needs_reauth') {
          reauthorized = false;
          await condition(() => reauthorized || deleteRequested || reindexRequested);
          reindexRequested = !deleteRequested;
          webhookRecheck = true;
        }
      }
      continue;
    }
    if (workflowInfo().continueAsNewSuggested) break;
    await condition(() => pendingPushes > 0 || reindexRequested || deleteRequested || workflowInfo().continueAsNewSuggested);
  }

  if (deleteRequested) {
    show('pending', 'deleting');
    await control.removeWebhook.executeWithOptions({ summary: 'delete our webhook (best effort)' }, [{ repoId }]);
    await indexing.removeClone.executeWithOptions({ summary: 'remove the clone' }, [{ repoId }]);
    await control.deleteRepoRecord.executeWithOptions({ summary: 'delete the repo row and its index' }, [{ repoId }]);
    return;
  }
  await condition(allHandlersFinished);
  await continueAsNew<typeof repoV1>({
    repoId,
    pushDebounceMs: input.pushDebounceMs,
    carried: { registered, source, pendingPushes, reindexRequested, lastIndexedCommit, recentDeliveries },
  });
}

