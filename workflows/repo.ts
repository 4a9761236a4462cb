// repo (id repo:{repoId}): the long-lived workflow of one repo.
//   register → ensure the webhook (Bitbucket repos; both local activities) → loop {
//     wait for a push, a re-index, a reconnect, a due reconcile or a delete;
//     check the main branch on the remote when due (a ref listing, nothing fetched);
//     index at the newest head when something moved
//   } → continue-as-new when Temporal suggests it.
// A push is indexed at once; pushes that arrive during a run are folded into the next one. A
// failure only a reconnect fixes parks the repo until the install workflow sends `reauthorized`.
// `delete` removes webhook, clone, index and row, then ends. State and handlers: repo-state.ts.
import { ActivityFailure, ApplicationFailure, allHandlersFinished, condition, continueAsNew, log, patched, proxyActivities, proxyLocalActivities, setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { ReconcileActivities } from '../activities/reconcile';
import type { RepoActivities } from '../activities/repo';
import type { RepoIndexingActivities } from '../activities/repo-indexing';
import { failureCode, FAILURES, NON_RETRYABLE } from '../src/failures';
import { indexingQueueFor, LettuceRepoStatus } from './definitions';
import type { RepoWorkflowInput } from './repo-input';
import { RepoState } from './repo-state';
import { repoV1 } from './repo-v1';

/** Marks runs of this code (RepoState); a history without it replays the code before (repo-v1.ts). */
export const REPO_STATE_PATCH = 'repo-state';
/** Marks runs that register as local activities; runs begun before it replay the activity tasks they recorded. */
export const LOCAL_REGISTRATION_PATCH = 'local-registration';

export type { RepoWorkflowInput };

const control = proxyActivities<RepoActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE },
});

// A ref listing is short and idempotent: a local activity, so a reconcile adds one marker to the history, not a task round trip.
const remote = proxyLocalActivities<ReconcileActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumAttempts: 3, nonRetryableErrorTypes: NON_RETRYABLE },
});

// Registration and a new repo's first webhook check are short and idempotent (the row is read,
// the hook is found again by its URL): local activities, so a new repo's first workflow task runs
// both and schedules its clone — not two activity tasks, each with a workflow task after it.
const registration = proxyLocalActivities<RepoActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 10, nonRetryableErrorTypes: NON_RETRYABLE },
});

type Status = 'pending' | 'indexing' | 'ready' | 'failed';

export async function repo(input: RepoWorkflowInput): Promise<void> {
  if (!patched(REPO_STATE_PATCH)) return repoV1(input);
  const { repoId } = input;
  const indexing = proxyActivities<RepoIndexingActivities>({
    taskQueue: indexingQueueFor(workflowInfo().taskQueue),
    startToCloseTimeout: '45 minutes',
    // The activity heartbeats every 5 s and a build stalls its event loop for well under 1 s
    // (bench:index prints the longest stall): 10 s moves a killed worker's clone to another
    // worker within ~13 s instead of ~33 s (npm run test:stack prints it).
    heartbeatTimeout: '10 seconds',
    retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '2 minutes', maximumAttempts: 5, nonRetryableErrorTypes: NON_RETRYABLE },
  });
  const state = new RepoState(input.carried, input.reconcileIntervalMs);
  state.installHandlers();

  const describe = (status: Status, details: string) => {
    state.phase = details;
    setCurrentDetails(`**${status}** — ${details}${state.lastError ? `\n\nLast error: ${state.lastError}` : ''}${state.lastIndexedCommit ? `\n\nIndexed commit: \`${state.lastIndexedCommit}\`` : ''}`);
  };
  const show = (status: Status, details: string) => {
    upsertSearchAttributes([{ key: LettuceRepoStatus, value: status }]);
    describe(status, details);
  };

  const recordFailure = async (err: unknown) => {
    const failure = failureOf(err);
    const code = failureCode(failure.type);
    state.failed(code, failure.message);
    await control.markRepoFailed.executeWithOptions({ summary: `record the failure (${code})` }, [{ repoId, code, message: failure.message }]);
    show('failed', state.parked ? 'waiting for Bitbucket to be reconnected' : `failed (${code}); waiting for a push, a re-index or the next reconcile`);
  };

  // A webhook problem never stops indexing: the activity records it on the repo; here it is only noted.
  const ensureWebhook = async (locally = false) => {
    state.webhookRecheck = false;
    if (state.source !== 'bitbucket') return;
    const summary = 'find, repair or create the repo:push webhook';
    try {
      await (locally ? registration.ensureWebhook.executeWithOptions({ summary }, [{ repoId }]) : control.ensureWebhook.executeWithOptions({ summary }, [{ repoId }]));
    } catch (err) {
      log.warn('Could not check the webhook', { error: failureOf(err).message });
    }
  };

  /** Fetches the newest head and indexes it; false when the repo row is gone (it is being deleted). */
  const index = async (): Promise<boolean> => {
    state.startRun();
    show('indexing', 'cloning and indexing');
    try {
      const result = await indexing.syncAndIndex.executeWithOptions({ summary: 'fetch the newest head and index it' }, [{ repoId }]);
      if (!result.exists) return false;
      state.indexed(result);
      show('ready', `ready at ${result.commit.slice(0, 12)}`);
    } catch (err) {
      await recordFailure(err);
    }
    return true;
  };

  /**
   * One ref listing: has the main branch (or its head) moved? A background check yields to a rate
   * limit; one someone is waiting for does not. A lasting problem (the repo is gone, Bitbucket is
   * disconnected) is recorded and the answer is 'failed'; a passing one waits for the next check.
   */
  const check = async (background: boolean): Promise<'moved' | 'unchanged' | 'deferred' | 'failed' | 'gone'> => {
    try {
      const result = await remote.checkMainBranch.executeWithOptions({ summary: 'list the main branch on the remote' }, [{ repoId, missedCandidate: state.unannounced, background }]);
      if (result.outcome === 'repo_deleted') return 'gone';
      if (result.outcome === 'deferred') {
        state.backOff(result.retryInMs);
        return 'deferred';
      }
      state.checked(result);
      return result.outcome;
    } catch (err) {
      state.checked();
      const failure = failureOf(err);
      if (!failure.lasting) {
        log.info('A check of the remote failed; the next one tries again', { error: failure.message });
        return 'unchanged';
      }
      if (failureCode(failure.type) !== state.failedWith) await recordFailure(err);
      return 'failed';
    }
  };

  /** After a failure the remote caused, a check that reads the remote fine is worth another run. */
  const worthRetrying = () => state.failedWith === FAILURES.RepoGone.code || state.failedWith === FAILURES.CloneFailed.code;

  if (!state.registered) {
    const locally = patched(LOCAL_REGISTRATION_PATCH);
    // The workflow starts with the status pending; only the code before said so again.
    const pending = locally ? describe : show;
    pending('pending', 'registering');
    const summary = 'confirm the repo row, refresh Bitbucket metadata';
    const found = await (locally ? registration.registerRepo.executeWithOptions({ summary }, [{ repoId }]) : control.registerRepo.executeWithOptions({ summary }, [{ repoId }]));
    if (!found.exists) return; // the row was never committed: nothing to do
    state.registered = true;
    state.source = found.source;
    pending('pending', 'ensuring the push webhook');
    await ensureWebhook(locally);
  }

  // The row disappears from reads the moment the API deletes a repo: 'gone' means a delete is under way.
  for (;;) {
    const work = await state.nextWork();
    if (work === 'delete') break;
    if (work === 'continue-as-new') {
      await condition(allHandlersFinished);
      return continueAsNew<typeof repo>({ repoId, reconcileIntervalMs: state.reconcileIntervalMs, carried: state.carried() });
    }
    if (work === 'requested') {
      if (state.webhookRecheck) await ensureWebhook();
      if (!state.pushPending && !state.reindexRequested) continue;
      // A re-index someone asked for re-reads the main branch first: it may have been renamed.
      const seen = state.reindexRequested && state.lastIndexedCommit !== null ? await check(false) : 'moved';
      if (seen === 'gone') break;
      if (seen === 'failed') state.startRun();
      else if (!(await index())) break;
      continue;
    }
    // A due reconcile, or a push that hinted at a new main branch: background work.
    const seen = await check(true);
    if (seen === 'gone') break;
    if ((seen === 'moved' || (seen === 'unchanged' && worthRetrying())) && !(await index())) break;
  }

  show('pending', 'deleting');
  await control.removeWebhook.executeWithOptions({ summary: 'delete our webhook (best effort)' }, [{ repoId }]);
  await indexing.removeClone.executeWithOptions({ summary: 'remove the clone' }, [{ repoId }]);
  await control.deleteRepoRecord.executeWithOptions({ summary: 'delete the repo row and its index' }, [{ repoId }]);
}

/** An activity's failure as the vocabulary names it; `lasting` = retrying will not fix it. */
function failureOf(err: unknown): { type: string; message: string; lasting: boolean } {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (!(cause instanceof ApplicationFailure)) return { type: 'Error', message: (cause as Error)?.message ?? String(cause), lasting: false };
  const type = cause.type ?? 'Error';
  return { type, message: cause.message, lasting: cause.nonRetryable || NON_RETRYABLE.includes(type) };
}
