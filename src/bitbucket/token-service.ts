// Valid access tokens for an installation. The stored token is used while it has more than five
// minutes left; otherwise one refresh runs, single-flight per installation: in this process (one
// promise per installation) and across processes (a row lock, then a re-read, since another
// worker may have refreshed meanwhile). The rotated refresh token is committed before anyone uses
// the new access token. A rejected refresh marks the installation needs_reauth.
import type { DataSource } from 'typeorm';
import { tokenRefreshes } from '../metrics';
import type { SecretBox } from '../security/secret-box';
import { BitbucketUnavailableError, NeedsReauthError, NotConnectedError } from './errors';
import type { Fetch } from './http';
import { refreshTokens, type OAuthConsumer, type TokenSet } from './oauth';

export const REFRESH_MARGIN_MS = 5 * 60_000;

interface Row {
  id: string;
  access_token: string;
  refresh_token: string;
  expires_at: Date;
  meta: { needs_reauth?: boolean; refreshed_at?: string } | null;
}


type LockedOutcome = { token: string } | { error: Error };

export class TokenService {
  private readonly inflight = new Map<string, Promise<string>>();

  constructor(
    private readonly ds: DataSource,
    private readonly box: SecretBox,
    private readonly consumer: OAuthConsumer | null,
    private readonly now: () => Date = () => new Date(),
    private readonly doFetch: Fetch = fetch,
  ) {}

  /** A token with more than five minutes left, refreshing if needed. */
  async getAccessToken(installationId: string): Promise<string> {
    return (await this.tokenFrom(this.now().getTime(), await this.load('id', installationId))).token;
  }

  /**
   * The same for the account's Bitbucket installation, found by the account in the one read
   * (NotConnectedError when it has none): the add path's way, which knows the account only.
   */
  async getAccessTokenOfAccount(accountId: string): Promise<{ installationId: string; token: string }> {
    return this.tokenFrom(this.now().getTime(), await this.load('account_id', accountId));
  }

  private async tokenFrom(asked: number, row: Row): Promise<{ installationId: string; token: string }> {
    if (this.isFresh(row)) return { installationId: row.id, token: this.box.open(row.access_token) };
    // Refresh only if, under the lock, the row still holds the token we judged expiring.
    const seen = row.access_token;
    const token = await this.singleFlight(row.id, () => this.refreshLocked(row.id, (locked) => locked.access_token === seen && !this.refreshedSince(locked, asked)));
    return { installationId: row.id, token };
  }

  /** Bitbucket answered 401 to `rejected`: refresh once (unless someone already did) and return the new token. */
  async afterRejection(installationId: string, rejected: string): Promise<string> {
    return this.singleFlight(installationId, () => this.refreshLocked(installationId, (locked) => this.box.open(locked.access_token) === rejected));
  }

  private async load(by: 'id' | 'account_id', key: string): Promise<Row> {
    const rows: Row[] = await this.ds.query(
      `SELECT id, access_token, refresh_token, expires_at, meta FROM provider_installations WHERE ${by} = $1 AND provider = 'bitbucket'`,
      [key],
    );
    if (!rows[0]) throw new NotConnectedError();
    if (rows[0].meta?.needs_reauth) throw new NeedsReauthError();
    return rows[0];
  }

  private isFresh(row: Row): boolean {
    return new Date(row.expires_at).getTime() - this.now().getTime() > REFRESH_MARGIN_MS;
  }

  /**
   * Refreshed (by any process) after this need began, and not expired: the need is served by that
   * refresh. A token that lives less than the margin (a short-lived consumer, the sandbox) counts as
   * expiring the moment it is issued, so without this a need that read the row just after another
   * process's refresh would refresh it again.
   */
  private refreshedSince(row: Row, asked: number): boolean {
    const at = row.meta?.refreshed_at ? Date.parse(row.meta.refreshed_at) : NaN;
    return at >= asked && new Date(row.expires_at).getTime() > this.now().getTime();
  }

  private singleFlight(installationId: string, run: () => Promise<string>): Promise<string> {
    const pending = this.inflight.get(installationId);
    if (pending) return pending;
    const promise = run().finally(() => this.inflight.delete(installationId));
    this.inflight.set(installationId, promise);
    return promise;
  }

  /** `stillStale` says, on the locked row, whether a refresh is still needed (else someone else did it). */
  private async refreshLocked(installationId: string, stillStale: (locked: Row) => boolean): Promise<string> {
    // The outcome is decided inside the transaction but thrown after it: a needs_reauth mark must
    // be committed, not rolled back with the error.
    const outcome = await this.ds.transaction(async (m): Promise<LockedOutcome> => {
      const rows: Row[] = await m.query(
        `SELECT id, access_token, refresh_token, expires_at, meta FROM provider_installations WHERE id = $1 FOR UPDATE`,
        [installationId],
      );
      const row = rows[0];
      if (!row) return { error: new NotConnectedError() };
      if (row.meta?.needs_reauth) return { error: new NeedsReauthError() };
      if (!stillStale(row)) {
        tokenRefreshes.inc({ outcome: 'reused' });
        return { token: this.box.open(row.access_token) };
      }
      if (!this.consumer) return { error: new NotConnectedError('The Bitbucket integration is not configured on this server.') };
      let tokens: TokenSet;
      try {
        tokens = await refreshTokens(this.consumer, this.box.open(row.refresh_token), this.now, this.doFetch);
      } catch (err) {
        if (err instanceof NeedsReauthError) {
          await m.query(
            `UPDATE provider_installations SET meta = meta || jsonb_build_object('needs_reauth', true, 'needs_reauth_reason', $2::text), updated_at = now() WHERE id = $1`,
            [installationId, err.message],
          );
          tokenRefreshes.inc({ outcome: 'needs_reauth' });
          return { error: err };
        }
        tokenRefreshes.inc({ outcome: 'retryable_error' });
        return { error: err instanceof BitbucketUnavailableError ? err : new BitbucketUnavailableError('The token refresh failed; it will be retried.') };
      }
      await m.query(
        `UPDATE provider_installations SET access_token = $2, refresh_token = $3, expires_at = $4, scopes = COALESCE($5, scopes),
           meta = COALESCE(meta, '{}'::jsonb) || jsonb_build_object('refreshed_at', $6::text), updated_at = now() WHERE id = $1`,
        [installationId, this.box.seal(tokens.accessToken), this.box.seal(tokens.refreshToken), tokens.expiresAt, tokens.scopes, this.now().toISOString()],
      );
      tokenRefreshes.inc({ outcome: 'refreshed' });
      return { token: tokens.accessToken };
    });
    if ('error' in outcome) throw outcome.error;
    return outcome.token;
  }
}
