// The account's Bitbucket installation row: tokens sealed at rest, reconnects replace them and
// clear needs_reauth, a disconnect deletes the row and its tokens.
import type { DataSource } from 'typeorm';
import { ProviderInstallation } from '../db/entities';
import type { SecretBox } from '../security/secret-box';
import type { TokenSet } from './oauth';

export function findInstallation(ds: DataSource, accountId: string): Promise<ProviderInstallation | null> {
  return ds.getRepository(ProviderInstallation).findOne({ where: { accountId, provider: 'bitbucket' } });
}

export async function saveInstallation(ds: DataSource, box: SecretBox, accountId: string, tokens: TokenSet, now: Date): Promise<string> {
  const rows: Array<{ id: string }> = await ds.query(
    `INSERT INTO provider_installations (account_id, provider, access_token, refresh_token, expires_at, scopes, meta, connected_at, updated_at)
     VALUES ($1, 'bitbucket', $2, $3, $4, $5, '{}'::jsonb, $6, $6)
     ON CONFLICT (account_id, provider) DO UPDATE SET
       access_token = excluded.access_token, refresh_token = excluded.refresh_token, expires_at = excluded.expires_at,
       scopes = excluded.scopes, meta = provider_installations.meta - 'needs_reauth' - 'needs_reauth_reason',
       connected_at = excluded.connected_at, updated_at = excluded.updated_at
     RETURNING id`,
    [accountId, box.seal(tokens.accessToken), box.seal(tokens.refreshToken), tokens.expiresAt, tokens.scopes, now],
  );
  return rows[0].id;
}

export async function setProviderUser(ds: DataSource, installationId: string, user: { uuid: string; displayName: string }): Promise<void> {
  await ds.query(`UPDATE provider_installations SET provider_user_uuid = $2, provider_user_name = $3 WHERE id = $1`, [installationId, user.uuid, user.displayName]);
}

export async function deleteInstallation(ds: DataSource, accountId: string): Promise<boolean> {
  const result = await ds.getRepository(ProviderInstallation).delete({ accountId, provider: 'bitbucket' });
  return (result.affected ?? 0) > 0;
}

export function needsReauth(installation: Pick<ProviderInstallation, 'meta'>): boolean {
  return installation.meta?.needs_reauth === true;
}
