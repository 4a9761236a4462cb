import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

export interface InstallationMeta {
  needs_reauth?: boolean;
  needs_reauth_reason?: string;
}

/** One OAuth installation per account and provider; tokens sealed with TOKEN_ENCRYPTION_KEY. */
@Entity({ name: 'provider_installations' })
export class ProviderInstallation {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'account_id', type: 'uuid' }) accountId: string;
  @Column({ type: 'text' }) provider: 'bitbucket';
  @Column({ name: 'access_token', type: 'text' }) accessToken: string;
  @Column({ name: 'refresh_token', type: 'text' }) refreshToken: string;
  @Column({ name: 'expires_at', type: 'timestamptz' }) expiresAt: Date;
  @Column({ type: 'text', nullable: true }) scopes: string | null;
  @Column({ name: 'provider_user_uuid', type: 'text', nullable: true }) providerUserUuid: string | null;
  @Column({ name: 'provider_user_name', type: 'text', nullable: true }) providerUserName: string | null;
  @Column({ type: 'jsonb', default: () => "'{}'::jsonb" }) meta: InstallationMeta;
  @Column({ name: 'connected_at', type: 'timestamptz' }) connectedAt: Date;
  @Column({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
