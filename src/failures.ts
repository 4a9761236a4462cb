// A domain error that knows its Temporal failure type (NeedsReauth, RepoGone, CloneFailed, …) and
// whether retrying can help. The activity interceptor turns it into a typed ApplicationFailure.
import type { FailureTypeName } from '../workflows/failure-types';

export class TypedFailureError extends Error {
  constructor(
    readonly failureType: FailureTypeName,
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = failureType;
  }
}
