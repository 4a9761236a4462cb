import { Context } from '@temporalio/activity';
import os from 'node:os';
import type { DataSource } from 'typeorm';
import { gitVersion } from '../src/git/run-git';

export interface WorkerCheck {
  taskQueue: string;
  identity: string;
  databaseTime: string;
  git: string;
}

export function createDiagnosticsActivities(deps: { ds: DataSource }) {
  return {
    /** Proves this worker polls its queue, reaches PostgreSQL and has git. */
    async checkWorker(): Promise<WorkerCheck> {
      const { taskQueue } = Context.current().info;
      const identity = `${process.pid}@${os.hostname()}`;
      const rows: Array<{ now: Date }> = await deps.ds.query(
        `INSERT INTO worker_heartbeats (task_queue, identity, last_seen_at) VALUES ($1, $2, now())
         ON CONFLICT (task_queue, identity) DO UPDATE SET last_seen_at = excluded.last_seen_at
         RETURNING last_seen_at AS now`,
        [taskQueue, identity],
      );
      return { taskQueue, identity, databaseTime: new Date(rows[0].now).toISOString(), git: await gitVersion() };
    },
  };
}

export type DiagnosticsActivities = ReturnType<typeof createDiagnosticsActivities>;
