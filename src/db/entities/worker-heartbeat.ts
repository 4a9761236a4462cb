import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Last time a worker answered the diagnostics workflow on a task queue. */
@Entity({ name: 'worker_heartbeats' })
export class WorkerHeartbeat {
  @PrimaryColumn({ name: 'task_queue', type: 'text' }) taskQueue: string;
  @PrimaryColumn({ type: 'text' }) identity: string;
  @Column({ name: 'last_seen_at', type: 'timestamptz' }) lastSeenAt: Date;
}
