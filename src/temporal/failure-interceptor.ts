// The one boundary where the service's errors become typed Temporal failures: activities throw
// domain errors (integration errors, git errors, the indexer's limits, Bitbucket's definite
// answers), and this interceptor gives each the type of src/failures.ts that the workflows' retry
// policies, the repo's error code and the Temporal UI go by — with a message written without
// secrets.
import { ApplicationFailure } from '@temporalio/common';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, Next } from '@temporalio/worker';
import { BitbucketApiError } from '../bitbucket/errors';
import { RestBudgetSpentError } from '../bitbucket/rest-budget';
import { TypedFailureError, type FailureType } from '../failures';
import { GitSyncError, type GitSyncErrorCode } from '../git/repo-sync';
import { IndexTooLargeError } from '../indexer/errors';

/** What each git failure means for a repo; `retryable` false = waiting will not fix it. */
const GIT_FAILURES: Record<Exclude<GitSyncErrorCode, 'cancelled'>, { type: FailureType; retryable: boolean; message?: string }> = {
  repo_gone: { type: 'RepoGone', retryable: false },
  auth_failed: { type: 'CloneFailed', retryable: false },
  forbidden: { type: 'CloneFailed', retryable: false },
  empty_repo: { type: 'CloneFailed', retryable: false, message: 'The repository has no commits yet; push something, then re-index.' },
  branch_not_found: { type: 'CloneFailed', retryable: false },
  rate_limited: { type: 'CloneFailed', retryable: true },
  timeout: { type: 'CloneFailed', retryable: true },
  clone_failed: { type: 'CloneFailed', retryable: true },
  // MAX_REPO_SIZE: the same repo will be as large on the next attempt.
  too_large: { type: 'TooLarge', retryable: false },
};

export function toTypedFailure(err: unknown): unknown {
  if (err instanceof ApplicationFailure) return err;
  const typed = (type: FailureType, message: string, retryable: boolean) => ApplicationFailure.create({ type, message, nonRetryable: !retryable });
  if (err instanceof TypedFailureError) return typed(err.failureType, err.message, err.retryable);
  if (err instanceof GitSyncError && err.code !== 'cancelled') {
    const f = GIT_FAILURES[err.code];
    return typed(f.type, f.message ?? err.message, f.retryable);
  }
  if (err instanceof IndexTooLargeError) return typed('TooLarge', err.message, false);
  // Out of REST budget: retried once the budget has room again, as long as that is.
  if (err instanceof RestBudgetSpentError) return ApplicationFailure.create({ type: 'BitbucketUnavailable', message: err.message, nextRetryDelay: err.waitMs });
  if (err instanceof BitbucketApiError) {
    // A definite 4xx will not change by retrying; anything else might.
    const definite = err.status >= 400 && err.status < 500 && err.status !== 408 && err.status !== 409;
    return definite ? typed('BitbucketRefused', err.message, false) : ApplicationFailure.create({ type: 'BitbucketApiError', message: err.message });
  }
  return err;
}

export class TypedFailureInterceptor implements ActivityInboundCallsInterceptor {
  async execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    try {
      return await next(input);
    } catch (err) {
      throw toTypedFailure(err);
    }
  }
}
