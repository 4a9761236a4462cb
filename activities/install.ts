// Activities of the installBitbucket workflow. They take ids; the code and the tokens move only
// between the database (sealed) and Bitbucket, never through Temporal.
import type { DataSource } from 'typeorm';
import { ExchangeFailedError, NotConnectedError } from '../src/bitbucket/errors';
import { loadAttempt, clearAttempt, storeAttemptTokens } from '../src/bitbucket/install-attempts';
import { findInstallation, saveInstallation, setProviderUser } from '../src/bitbucket/installations';
import type { BitbucketIntegration } from '../src/bitbucket/integration';
import { exchangeCode, type TokenSet } from '../src/bitbucket/oauth';
import type { SecretBox } from '../src/security/secret-box';

export interface InstallDeps {
  ds: DataSource;
  box: SecretBox;
  bitbucket: BitbucketIntegration;
}

export function createInstallActivities({ ds, box, bitbucket }: InstallDeps) {
  return {
    /** Exchanges the attempt's code at the token endpoint and keeps the tokens, sealed, on the attempt. */
    async exchangeInstallCode(input: { attemptId: string }): Promise<void> {
      const attempt = await loadAttempt(ds, input.attemptId);
      if (!attempt) throw new ExchangeFailedError('The install attempt no longer exists; start Connect Bitbucket again.');
      if (attempt.tokens) return; // a retry after the exchange already succeeded
      if (!attempt.code || new Date(attempt.expires_at) < bitbucket.now()) throw new ExchangeFailedError('The install attempt expired; start Connect Bitbucket again.');
      if (!bitbucket.consumer) throw new NotConnectedError('The Bitbucket integration is not configured on this server.');
      const tokens = await exchangeCode(bitbucket.consumer, box.open(attempt.code), bitbucket.now, bitbucket.doFetch);
      await storeAttemptTokens(ds, attempt.id, box.seal(JSON.stringify(tokens)));
    },

    /** Replaces the account's installation with the attempt's tokens (clearing needs_reauth). */
    async saveInstallation(input: { attemptId: string; accountId: string }): Promise<{ installationId: string }> {
      const attempt = await loadAttempt(ds, input.attemptId);
      if (!attempt?.tokens) {
        // A retry after the save committed: the installation is already there.
        const existing = await findInstallation(ds, input.accountId);
        if (existing) return { installationId: existing.id };
        throw new ExchangeFailedError('The install attempt has no tokens; start Connect Bitbucket again.');
      }
      const parsed = JSON.parse(box.open(attempt.tokens)) as Omit<TokenSet, 'expiresAt'> & { expiresAt: string };
      const installationId = await saveInstallation(ds, box, attempt.account_id, { ...parsed, expiresAt: new Date(parsed.expiresAt) }, bitbucket.now());
      await clearAttempt(ds, attempt.id);
      return { installationId };
    },

    /** Reads /2.0/user for the display name shown in the UI. */
    async fetchBitbucketUser(input: { installationId: string }): Promise<{ uuid: string; displayName: string }> {
      const user = await bitbucket.clientFor(input.installationId).currentUser();
      const result = { uuid: user.uuid, displayName: user.display_name };
      await setProviderUser(ds, input.installationId, result);
      return result;
    },
  };
}

export type InstallActivities = ReturnType<typeof createInstallActivities>;
