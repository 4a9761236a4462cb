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
}
