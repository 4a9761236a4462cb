// The one error shape of the API (CONTRACT §2): {"error":{"code","message"}}, and the one place
// where the domain's errors become HTTP answers (the error middleware calls httpErrorOf): routes
// throw what the domain throws.
import { BitbucketApiError, BitbucketUnavailableError, NeedsReauthError, NotConnectedError } from '../bitbucket/errors';
import { isDatabaseRestart } from '../db/database-restart';
import { UrlPolicyError } from '../git/url-policy';
import { AddRepoError } from '../repos/add-repo';
import { InvalidSearchQuery } from '../search/query';
import { TemporalUnavailableError } from '../temporal/gateway';

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const errors = {
  unauthorized: () => new ApiError(401, 'unauthorized', 'A valid bearer token is required.'),
  forbidden: (message = 'You are not allowed to do this.') => new ApiError(403, 'forbidden', message),
  notFound: (what = 'resource') => new ApiError(404, 'not_found', `No such ${what}.`),
  invalidJson: () => new ApiError(400, 'invalid_json', 'The request body is not valid JSON.'),
  invalidRequest: (message: string) => new ApiError(400, 'invalid_request', message),
  payloadTooLarge: (limit: number) => new ApiError(413, 'payload_too_large', `The request body is larger than ${limit} bytes.`),
};

/** The answer for an error a route let through; null for one that is not the client's to know (a 500). */
export function httpErrorOf(err: unknown): ApiError | null {
  if (err instanceof ApiError) return err;
  if (err instanceof NeedsReauthError) return new ApiError(409, 'needs_reauth', 'Bitbucket needs to be reconnected: its authorization was revoked or expired.');
  if (err instanceof NotConnectedError) return new ApiError(409, 'not_connected', 'Connect Bitbucket first.');
  if (err instanceof BitbucketUnavailableError) return new ApiError(502, 'bitbucket_unavailable', 'Bitbucket is not answering right now; try again in a minute.');
  if (err instanceof BitbucketApiError) return new ApiError(502, 'bitbucket_error', `Bitbucket refused the request (HTTP ${err.status}).`);
  if (err instanceof UrlPolicyError) return new ApiError(400, err.code, err.message);
  if (err instanceof AddRepoError) return new ApiError(err.status, err.code, err.message);
  if (err instanceof InvalidSearchQuery) return new ApiError(400, 'invalid_query', err.message);
  if (err instanceof TemporalUnavailableError) return new ApiError(503, 'temporal_unavailable', 'Temporal did not answer; try again.');
  if (isDatabaseRestart(err)) return new ApiError(503, 'database_unavailable', 'The database is not answering (restarting?); try again in a few seconds.');
  return null;
}
