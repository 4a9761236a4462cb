import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export type WorkspaceWebhookScope = 'workspace' | 'repo';

/** A Bitbucket workspace an account syncs whole (CONTRACT §13). */
@Entity({ name: 'synced_workspaces' })
export class SyncedWorkspace {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'account_id', type: 'uuid' }) accountId: string;
  /** The workspace slug, as Bitbucket spells it. */
  @Column({ type: 'text' }) workspace: string;
  @Column({ type: 'text' }) name: string;
  /** Glob patterns (`*`, `?`) matched case-insensitively against repo slugs. */
  @Column({ type: 'jsonb', default: () => "'[]'::jsonb" }) exclude: string[];
  /** `workspace`: one workspace webhook covers every repo (the user is an owner); `repo`: one hook per repo. */
  @Column({ name: 'webhook_scope', type: 'text', default: 'repo' }) webhookScope: WorkspaceWebhookScope;
  /** The workspace webhook's own state (scope `workspace` only; for `repo` the repos' hooks say). */
  @Column({ name: 'webhook_status', type: 'text', default: 'none' }) webhookStatus: 'none' | 'active' | 'failed';
  @Column({ name: 'webhook_error', type: 'text', nullable: true }) webhookError: string | null;
  @Column({ name: 'webhook_uuid', type: 'text', nullable: true }) webhookUuid: string | null;
  @Column({ name: 'last_synced_at', type: 'timestamptz', nullable: true }) lastSyncedAt: Date | null;
  @Column({ name: 'error_code', type: 'text', nullable: true }) errorCode: string | null;
  @Column({ name: 'error_message', type: 'text', nullable: true }) errorMessage: string | null;
  /** Set by "Stop syncing": the row is invisible to reads while its workflow removes the webhook. */
  @Column({ name: 'stopped_at', type: 'timestamptz', nullable: true }) stoppedAt: Date | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
