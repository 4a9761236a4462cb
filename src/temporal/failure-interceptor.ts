// One place turns the service's errors into typed Temporal failures (NeedsReauth, RepoGone, …):
// activities throw domain errors, this interceptor gives them a type the workflows' retry
// policies and the Temporal UI understand, and a message that was written without secrets.
import { ApplicationFailure } from '@temporalio/common';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, Next } from '@temporalio/worker';
import { BitbucketApiError } from '../bitbucket/errors';
import { TypedFailureError } from '../failures';

export function toTypedFailure(err: unknown): unknown {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof TypedFailureError) {
    return ApplicationFailure.create({ type: err.failureType, message: err.message, nonRetryable: !err.retryable });
  }
  if (err instanceof BitbucketApiError) {
    // A definite 4xx will not change by retrying; anything else might.
    const definite = err.status >= 400 && err.status < 500 && err.status !== 408 && err.status !== 409;
    return ApplicationFailure.create({ type: 'BitbucketApiError', message: err.message, nonRetryable: definite });
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
