import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Every delivery Bitbucket made, keyed by X-Request-UUID so a redelivery is recognised. */
@Entity({ name: 'webhook_deliveries' })
export class WebhookDelivery {
  @PrimaryColumn({ name: 'request_uuid', type: 'text' }) requestUuid: string;
  @Column({ name: 'account_id', type: 'uuid', nullable: true }) accountId: string | null;
  @Column({ name: 'repo_id', type: 'uuid', nullable: true }) repoId: string | null;
  @Column({ name: 'event_key', type: 'text' }) eventKey: string;
  @Column({ type: 'text' }) outcome: string;
  @Column({ name: 'received_at', type: 'timestamptz' }) receivedAt: Date;
  /** The pushed head of the default branch, for an accepted push. */
  @Column({ type: 'text', nullable: true }) commit: string | null;
  /** When the repo's workflow was signalled; NULL while an accepted push still has to reach it. */
  /** The deployment (task-queue prefix) whose API accepted it and whose dispatcher signals it. */
  @Column({ name: 'task_queue_prefix', type: 'text', default: '' }) taskQueuePrefix: string;
  @Column({ name: 'dispatched_at', type: 'timestamptz', nullable: true }) dispatchedAt: Date | null;
}
