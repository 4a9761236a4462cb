// The account's webhook secret (CONTRACT §8: random, one per account, sealed in
// accounts.webhook_secret): the one place it is read, by the receiver to check signatures and by
// the hook management to set it on Bitbucket.
import type { DataSource } from 'typeorm';
import type { SecretBox } from '../security/secret-box';

/** The opened secret, or null for an account that does not exist. */
export async function readWebhookSecret(ds: DataSource, box: SecretBox, accountId: string): Promise<string | null> {
  const rows: Array<{ webhook_secret: string }> = await ds.query(`SELECT webhook_secret FROM accounts WHERE id = $1`, [accountId]);
  return rows[0] ? box.open(rows[0].webhook_secret) : null;
}
