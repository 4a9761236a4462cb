// Errors of the Bitbucket integration. Messages are written for people and never carry a token,
// code or secret; each maps to one typed Temporal failure (src/temporal/failures.ts).
import { FailureType } from '../../workflows/failure-types';
import { TypedFailureError } from '../failures';

/** Errors of the integration are typed failures (see src/failures.ts). */
export class IntegrationError extends TypedFailureError {}

export class NeedsReauthError extends IntegrationError {
  constructor(message = 'Bitbucket refused the stored authorization: reconnect Bitbucket.') {
    super(FailureType.NeedsReauth, message, false);
  }
}

export class NotConnectedError extends IntegrationError {
  constructor(message = 'Bitbucket is not connected for this account.') {
    super(FailureType.NotConnected, message, false);
  }
}

export class ExchangeFailedError extends IntegrationError {
  constructor(message: string) {
    super(FailureType.ExchangeFailed, message, false);
  }
}

/** Bitbucket answered 5xx/429 or could not be reached: worth retrying later. */
export class BitbucketUnavailableError extends IntegrationError {
  constructor(message: string) {
    super(FailureType.BitbucketUnavailable, message, true);
  }
}

/** A REST call failed with a definite answer (4xx other than 401/429). */
export class BitbucketApiError extends Error {
  override name = 'BitbucketApiError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
