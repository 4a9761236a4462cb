import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export type RepoSource = 'bitbucket' | 'url';
export type RepoStatus = 'pending' | 'indexing' | 'ready' | 'failed';
export type WebhookStatus = 'none' | 'active' | 'failed';

@Entity({ name: 'repos' })
export class Repo {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'account_id', type: 'uuid' }) accountId: string;
  @Column({ type: 'text' }) source: RepoSource;
  /** Identity of the repo within the account (bitbucket:ws/slug, or the normalised URL): adding it twice finds this row. */
  @Column({ name: 'source_key', type: 'text' }) sourceKey: string;
  @Column({ type: 'text' }) name: string;
  /** Never carries credentials. */
  @Column({ name: 'clone_url', type: 'text' }) cloneUrl: string;
  /** Sealed "user:password" split off a pasted URL, or null. */
  @Column({ name: 'url_credentials', type: 'text', nullable: true }) urlCredentials: string | null;
  @Column({ name: 'bitbucket_workspace', type: 'text', nullable: true }) bitbucketWorkspace: string | null;
  @Column({ name: 'bitbucket_slug', type: 'text', nullable: true }) bitbucketSlug: string | null;
  @Column({ name: 'bitbucket_uuid', type: 'text', nullable: true }) bitbucketUuid: string | null;
  @Column({ name: 'is_private', type: 'boolean', default: false }) isPrivate: boolean;
  /** Bytes, as Bitbucket reported the repo when it was added (null: unknown); see MAX_REPO_SIZE. */
  @Column({ name: 'reported_size', type: 'bigint', nullable: true, transformer: { to: (v: number | null) => v, from: (v: string | null) => (v === null ? null : Number(v)) } })
  reportedSize: number | null;
  /** The synced workspace (CONTRACT §13) this repo belongs to; null for repos added by hand. */
  @Column({ name: 'synced_from', type: 'text', nullable: true }) syncedFrom: string | null;
  /** The deployment (LETTUCE_TASK_QUEUE_PREFIX) whose starter starts this repo's workflow. */
  @Column({ name: 'task_queue_prefix', type: 'text', default: '' }) taskQueuePrefix: string;
  @Column({ name: 'default_branch', type: 'text', nullable: true }) defaultBranch: string | null;
  @Column({ type: 'text', default: 'pending' }) status: RepoStatus;
  @Column({ name: 'webhook_status', type: 'text', default: 'none' }) webhookStatus: WebhookStatus;
  @Column({ name: 'webhook_error', type: 'text', nullable: true }) webhookError: string | null;
  @Column({ name: 'webhook_uuid', type: 'text', nullable: true }) webhookUuid: string | null;
  @Column({ name: 'last_indexed_commit', type: 'text', nullable: true }) lastIndexedCommit: string | null;
  @Column({ name: 'last_indexed_at', type: 'timestamptz', nullable: true }) lastIndexedAt: Date | null;
  @Column({ name: 'error_code', type: 'text', nullable: true }) errorCode: string | null;
  @Column({ name: 'error_message', type: 'text', nullable: true }) errorMessage: string | null;
  @Column({ type: 'jsonb', nullable: true }) progress: { filesDone: number; filesTotal: number } | null;
  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true }) deletedAt: Date | null;
  /** When its workflow was known started; NULL for a moment after the add (src/repos/repo-starter.ts). */
  @Column({ name: 'workflow_started_at', type: 'timestamptz', nullable: true, default: () => 'now()' }) workflowStartedAt: Date | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt: Date;
}
