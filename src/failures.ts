// The service's failure vocabulary, in one table: each typed failure an activity can end with,
// the code people see for it (a repo's `error.code`, CONTRACT §6, or the callback's
// `bitbucket_error`, §5), whether retrying can help, and whether reconnecting Bitbucket fixes it.
// Domain code throws TypedFailureError (or its own errors, which the activity interceptor types —
// src/temporal/failure-interceptor.ts, the one boundary); the workflows read codes and retry
// policies from here. Pure module: it is bundled into the workflow code.

export const FAILURES = {
  NeedsReauth: { code: 'needs_reauth', retryable: false, fixedByReconnect: true },
  NotConnected: { code: 'not_connected', retryable: false, fixedByReconnect: true },
  RepoGone: { code: 'repo_gone', retryable: false, fixedByReconnect: false },
  CloneFailed: { code: 'clone_failed', retryable: true, fixedByReconnect: false },
  TooLarge: { code: 'too_large', retryable: false, fixedByReconnect: false },
  IndexFailed: { code: 'index_failed', retryable: true, fixedByReconnect: false },
  ExchangeFailed: { code: 'exchange_failed', retryable: false, fixedByReconnect: false },
  ConsumerNotPrivate: { code: 'consumer_not_private', retryable: false, fixedByReconnect: false },
  BitbucketUnavailable: { code: 'bitbucket_unavailable', retryable: true, fixedByReconnect: false },
  /** A definite 4xx from Bitbucket's REST API that retrying will not change. */
  BitbucketRefused: { code: 'bitbucket_error', retryable: false, fixedByReconnect: false },
} as const;

export type FailureType = keyof typeof FAILURES;

/** Failure types no retry policy retries: someone has to act (reconnect, fix permissions, pick another repo). */
export const NON_RETRYABLE: string[] = Object.entries(FAILURES)
  .filter(([, f]) => !f.retryable)
  .map(([type]) => type);

/** Repo error codes a successful reconnect of Bitbucket fixes (CONTRACT §6). */
export const CODES_FIXED_BY_RECONNECT: string[] = Object.values(FAILURES)
  .filter((f) => f.fixedByReconnect)
  .map((f) => f.code);

function isFailureType(type: string | null | undefined): type is FailureType {
  return typeof type === 'string' && Object.prototype.hasOwnProperty.call(FAILURES, type);
}

/** The code a failure of `type` is shown as; anything untyped is an index failure. */
export function failureCode(type: string | null | undefined): string {
  return isFailureType(type) ? FAILURES[type].code : FAILURES.IndexFailed.code;
}

export function isFixedByReconnect(code: string | null | undefined): boolean {
  return code != null && CODES_FIXED_BY_RECONNECT.includes(code);
}

/**
 * A domain error that knows its failure type. `retryable` defaults to the type's; an instance may
 * be firmer (a clone refused for bad credentials will not pass by retrying, a network error may).
 */
export class TypedFailureError extends Error {
  constructor(
    readonly failureType: FailureType,
    message: string,
    readonly retryable: boolean = FAILURES[failureType].retryable,
  ) {
    super(message);
    this.name = failureType;
  }
}
