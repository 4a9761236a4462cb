// The OAuth consumer's token endpoint: authorization-code exchange and refresh (rotating refresh
// tokens). HTTP Basic with key:secret, form body; accepts `scope` (2026) and `scopes` (legacy).
import { BitbucketUnavailableError, ConsumerNotPrivateError, ExchangeFailedError, NeedsReauthError } from './errors';
import { DEFAULT_RETRY, fetchWithRetry, TransientHttpError, type Fetch, type RetryPolicy } from './http';

export interface TokenSet {
  accessToken: string;
  refreshToken: string;
  expiresAt: Date;
  scopes: string | null;
}

export interface OAuthConsumer {
  siteUrl: string;
  clientId: string;
  clientSecret: string;
}

export function authorizeUrl(consumer: OAuthConsumer, state: string): string {
  const q = new URLSearchParams({ client_id: consumer.clientId, response_type: 'code', state });
  return `${consumer.siteUrl}/site/oauth2/authorize?${q.toString()}`;
}

async function tokenRequest(consumer: OAuthConsumer, form: Record<string, string>, now: () => Date, doFetch: Fetch, policy: RetryPolicy) {
  const basic = Buffer.from(`${consumer.clientId}:${consumer.clientSecret}`).toString('base64');
  let res: Response;
  try {
    res = await fetchWithRetry(
      doFetch,
      `${consumer.siteUrl}/site/oauth2/access_token`,
      {
        method: 'POST',
        headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams(form).toString(),
      },
      `Bitbucket's token endpoint (${form.grant_type})`,
      policy,
    );
  } catch (err) {
    if (err instanceof TransientHttpError) throw new BitbucketUnavailableError(err.message);
    throw err;
  }
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text);
  } catch {
    /* an HTML error page */
  }
  return { status: res.status, body };
}

function toTokenSet(body: Record<string, unknown>, now: Date): TokenSet | null {
  const { access_token, refresh_token, expires_in } = body;
  if (typeof access_token !== 'string' || typeof refresh_token !== 'string') return null;
  const seconds = typeof expires_in === 'number' && expires_in > 0 ? expires_in : 3600;
  const scopes = typeof body.scope === 'string' ? body.scope : typeof body.scopes === 'string' ? body.scopes : null;
  return { accessToken: access_token, refreshToken: refresh_token, expiresAt: new Date(now.getTime() + seconds * 1000), scopes };
}

/** Only the OAuth error code and Bitbucket's description reach messages: they never echo credentials. */
function describeOAuthError(status: number, body: Record<string, unknown>): string {
  const code = typeof body.error === 'string' ? body.error : `HTTP ${status}`;
  const description = typeof body.error_description === 'string' ? `: ${body.error_description.slice(0, 200)}` : '';
  return `${code}${description}`;
}

export async function exchangeCode(consumer: OAuthConsumer, code: string, now: () => Date = () => new Date(), doFetch: Fetch = fetch, policy = DEFAULT_RETRY): Promise<TokenSet> {
  const { status, body } = await tokenRequest(consumer, { grant_type: 'authorization_code', code }, now, doFetch, policy);
  // Lettuce refreshes tokens for as long as the repos live; a consumer that issues none cannot serve it.
  if (status === 200 && typeof body.access_token === 'string' && typeof body.refresh_token !== 'string') throw new ConsumerNotPrivateError();
  const tokens = status === 200 ? toTokenSet(body, now()) : null;
  if (!tokens) throw new ExchangeFailedError(`Bitbucket did not accept the authorization code (${describeOAuthError(status, body)}).`);
  return tokens;
}

/** A 400/401 from the token endpoint means the grant is gone: the account must reconnect. */
export async function refreshTokens(consumer: OAuthConsumer, refreshToken: string, now: () => Date = () => new Date(), doFetch: Fetch = fetch, policy = DEFAULT_RETRY): Promise<TokenSet> {
  const { status, body } = await tokenRequest(consumer, { grant_type: 'refresh_token', refresh_token: refreshToken }, now, doFetch, policy);
  if (status === 200) {
    const tokens = toTokenSet(body, now());
    if (tokens) return tokens;
    throw new BitbucketUnavailableError('Bitbucket answered the token refresh without tokens.');
  }
  if (status === 400 || status === 401) throw new NeedsReauthError(`Bitbucket rejected the token refresh (${describeOAuthError(status, body)}): reconnect Bitbucket.`);
  throw new BitbucketUnavailableError(`Bitbucket's token endpoint answered HTTP ${status}.`);
}
