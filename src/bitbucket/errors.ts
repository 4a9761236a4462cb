// Errors of the Bitbucket integration. Messages are written for people and never carry a token,
// code or secret; each is a typed failure of the one vocabulary (src/failures.ts).
import { TypedFailureError } from '../failures';

/** Errors of the integration are typed failures (see src/failures.ts). */
export class IntegrationError extends TypedFailureError {}

export class NeedsReauthError extends IntegrationError {
  constructor(message = 'Bitbucket refused the stored authorization: reconnect Bitbucket.') {
    super('NeedsReauth', message);
  }
}

export class NotConnectedError extends IntegrationError {
  constructor(message = 'Bitbucket is not connected for this account.') {
    super('NotConnected', message);
  }
}

export class ExchangeFailedError extends IntegrationError {
  constructor(message: string) {
    super('ExchangeFailed', message);
  }
}

/** The token endpoint issued no refresh token: the OAuth consumer is not private (CONTRACT §5). */
export class ConsumerNotPrivateError extends IntegrationError {
  constructor() {
    super(
      'ConsumerNotPrivate',
      "Bitbucket issued no refresh token: Lettuce's OAuth consumer must be private. Tick 'This is a private consumer' in the consumer's settings, then connect again.",
    );
  }
}

/** Bitbucket answered 5xx/429 or could not be reached: worth retrying later. */
export class BitbucketUnavailableError extends IntegrationError {
  constructor(message: string) {
    super('BitbucketUnavailable', message);
  }
}

/** What Bitbucket's `{"type":"error","error":{…}}` body said, as far as it is safe to keep. */
export interface BitbucketErrorBody {
  message: string | null;
  /** `error.detail.required` of a 403 for missing scopes (real captures put the scope lists there). */
  requiredScopes: string[];
}

/** A REST call failed with a definite answer (4xx other than 401/429). */
export class BitbucketApiError extends Error {
  override name = 'BitbucketApiError';
  constructor(
    readonly status: number,
    message: string,
    readonly body: BitbucketErrorBody = { message: null, requiredScopes: [] },
  ) {
    super(message);
  }

  /**
   * True for Bitbucket's 403 "Your credentials lack one or more required privilege scopes": the
   * OAuth consumer lacks a permission, which is not the same as the user lacking a role.
   */
  get lacksScopes(): boolean {
    return this.status === 403 && (this.body.requiredScopes.length > 0 || /privilege scopes/i.test(this.body.message ?? ''));
  }
}
