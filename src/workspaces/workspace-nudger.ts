// Makes sure every synced workspace's workflow heard what the API last asked of it. The routes
// signal-with-start the workflow right after committing the row; when Temporal could not be
// reached then, a workspace would wait forever for its first listing (or its stop). This sweep,
// in every API process, asks again for rows left in that state for a minute.
import type { DataSource } from 'typeorm';
import type { Logger } from '../logger';
import { SweepLoop } from '../sweep-loop';
import type { TemporalGateway } from '../temporal/gateway';

const EVERY_MS = 60_000;

export class WorkspaceNudger {
  private readonly loop: SweepLoop;

  constructor(
    private readonly ds: DataSource,
    private readonly temporal: Pick<TemporalGateway, 'signalWorkspace'>,
    log: Logger,
    /** This deployment's task-queue prefix: only its workspaces are its to tell. */
    private readonly taskQueuePrefix = '',
  ) {
    this.loop = new SweepLoop(async () => void (await this.sweep()), log, { everyMs: EVERY_MS, firstAfterMs: EVERY_MS, what: 'nudge the workflows of synced workspaces' });
  }

  begin(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Workspaces never listed (and not failed), or stopped, for a minute: their workflow is told again. */
  async sweep(): Promise<number> {
    const rows: Array<{ account_id: string; workspace: string; stopped: boolean }> = await this.ds.query(
      `SELECT account_id, workspace, stopped_at IS NOT NULL AS stopped FROM synced_workspaces
        WHERE task_queue_prefix = $1 AND updated_at < now() - interval '1 minute'
          AND (stopped_at IS NOT NULL OR (last_synced_at IS NULL AND error_code IS NULL))
        LIMIT 100`,
      [this.taskQueuePrefix],
    );
    for (const r of rows) await this.temporal.signalWorkspace({ accountId: r.account_id, workspace: r.workspace }, r.stopped ? 'stop' : 'resync');
    return rows.length;
  }
}
