// Makes sure every synced workspace's workflow heard what the API last asked of it. The routes
// signal-with-start the workflow right after committing the row; when Temporal could not be
// reached then, a workspace would wait forever for its first listing (or its stop). This sweep,
// in every API process, asks again for rows left in that state for a minute.
import type { DataSource } from 'typeorm';
import type { Logger } from '../logger';
import type { TemporalGateway } from '../temporal/gateway';

const EVERY_MS = 60_000;

export class WorkspaceNudger {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;

  constructor(
    private readonly ds: DataSource,
    private readonly temporal: Pick<TemporalGateway, 'signalWorkspace'>,
    private readonly log: Logger,
  ) {}

  begin(): void {
    const tick = () => {
      this.running = this.sweep()
        .catch((err: Error) => this.log.warn({ err: err.message }, 'could not nudge the workflows of synced workspaces'))
        .finally(() => {
          this.running = null;
          if (this.timer) this.timer = setTimeout(tick, EVERY_MS);
        });
    };
    this.timer = setTimeout(tick, EVERY_MS);
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  /** Workspaces never listed (and not failed), or stopped, for a minute: their workflow is told again. */
  async sweep(): Promise<number> {
    const rows: Array<{ account_id: string; workspace: string; stopped: boolean }> = await this.ds.query(
      `SELECT account_id, workspace, stopped_at IS NOT NULL AS stopped FROM synced_workspaces
        WHERE updated_at < now() - interval '1 minute'
          AND (stopped_at IS NOT NULL OR (last_synced_at IS NULL AND error_code IS NULL))
        LIMIT 100`,
    );
    for (const r of rows) await this.temporal.signalWorkspace({ accountId: r.account_id, workspace: r.workspace }, r.stopped ? 'stop' : 'resync');
    return rows.length;
  }
}
