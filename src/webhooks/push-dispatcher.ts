// Delivers recorded pushes to their repo workflows. The receiver only records an accepted push
// (webhook_deliveries.dispatched_at IS NULL) and answers; this loop claims whatever is waiting,
// sends each repo's workflow ONE signal for all of its waiting deliveries, and marks them
// dispatched in the same transaction. A crash anywhere leaves the rows waiting for the next sweep
// (this process after a restart, or another API process): at least once, never lost. The workflow
// ignores a delivery id it has seen and a commit it has already indexed, so a repeat is harmless.
import type { DataSource } from 'typeorm';
import type { Logger } from '../logger';
import { pushDispatchFailures, pushDispatchLag } from '../metrics';
import type { RepoWorkflows } from '../repos/repo-workflows';
import type { PushEvent } from '../repos/repo-workflows';
import { SweepLoop, type RoundOutcome } from '../sweep-loop';
import { DISPATCHED_OUTCOMES } from './delivery-recorder';

export type PushSignaller = Pick<RepoWorkflows, 'signalRepo'>;

/** One repo's waiting deliveries, oldest first (parallel arrays: a round at full load holds thousands). */
interface WaitingGroup {
  repo_id: string | null;
  account_id: string | null;
  name: string | null;
  live: boolean;
  uuids: string[];
  outcomes: string[];
  commits: Array<string | null>;
  branches: Array<string | null>;
  /** received_at as epoch ms. */
  received: number[];
}

export interface DispatcherOptions {
  /** How often waiting rows left by another process (or a failed signal) are looked for. */
  sweepMs?: number;
  /** Deliveries claimed per round; a round that claims this many is followed by the next at once (a backlog waits). */
  batch?: number;
  /** Signals in flight at once. */
  concurrency?: number;
  /**
   * Least time between two signals to one repo while it is pushed to in bursts (its last signal
   * stood for several deliveries); a repo pushed to one delivery at a time waits a quarter of it.
   * A push after a quiet spell goes out at once; during a burst each repo gets at most one signal
   * per interval, which keeps Temporal's load bounded by the number of repos pushed to, not the
   * number of deliveries. The repo workflow folds the pushes that arrive during an index run into
   * the next, so a burst still ends at its newest head.
   */
  signalIntervalMs?: number;
}

/** What one round did; `deferredUntil`: when the first repo it left waiting (signalled a moment ago) is due. */
export interface RoundResult {
  dispatched: number;
  failed: number;
  deferredUntil?: number;
}

const MAX_BACKOFF_MS = 30_000;
// Constants in the SQL, so PostgreSQL can use the partial index on waiting deliveries.
const DISPATCHED_SQL = DISPATCHED_OUTCOMES.map((o) => `'${o}'`).join(', ');
/** How long a delivery's row is kept: it is what recognises a redelivery of the same X-Request-UUID. */
export const DELIVERY_RETENTION_DAYS = 7;
const PRUNE_EVERY_MS = 60 * 60_000;

export class PushDispatcher {
  private readonly loop: SweepLoop;
  private prunedAt = 0;
  private readonly batch: number;
  private readonly concurrency: number;
  private readonly signalIntervalMs: number;
  /** When each repo was last signalled by this process, and whether that signal stood for several deliveries. */
  private readonly lastSignal = new Map<string, { at: number; burst: boolean }>();

  constructor(
    private readonly ds: DataSource,
    /** This deployment's task-queue prefix: only the deliveries it accepted are its to signal. */
    private readonly taskQueuePrefix: string,
    private readonly temporal: PushSignaller,
    private readonly log: Logger,
    opts: DispatcherOptions = {},
  ) {
    this.batch = opts.batch ?? 20_000;
    this.concurrency = opts.concurrency ?? 16;
    this.signalIntervalMs = opts.signalIntervalMs ?? 1000;
    this.loop = new SweepLoop(() => this.round(), log, { everyMs: opts.sweepMs ?? 5_000, maxBackoffMs: MAX_BACKOFF_MS, what: 'read waiting push deliveries' });
  }

  start(): void {
    this.loop.start();
  }

  /** New accepted pushes were recorded: dispatch now rather than at the next sweep. */
  wake(): void {
    this.loop.wake();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  private async round(): Promise<RoundOutcome> {
    if (Date.now() - this.prunedAt > PRUNE_EVERY_MS) {
      this.prunedAt = Date.now();
      await this.pruneOldDeliveries().catch((err: Error) => this.log.warn({ err: err.message }, 'could not prune old webhook deliveries'));
    }
    const result = await this.dispatchWaiting();
    if (result.failed > 0) return { failed: true };
    // Repos signalled a moment ago wait for their turn; new pushes then wait with them, so a
    // burst costs one round per interval rather than one per delivery.
    if (result.deferredUntil !== undefined) return { pauseMs: result.deferredUntil - Date.now() };
    return { again: result.dispatched >= this.batch };
  }

  /**
   * Deletes rows older than the retention that are settled (ignored, or signalled): at a thousand
   * deliveries a second the table would otherwise grow without end. A push still waiting for its
   * signal is kept whatever its age.
   */
  async pruneOldDeliveries(): Promise<number> {
    let total = 0;
    for (;;) {
      const deleted: [unknown[], number] = await this.ds.query(
        `DELETE FROM webhook_deliveries WHERE request_uuid IN (
           SELECT request_uuid FROM webhook_deliveries
            WHERE received_at < now() - make_interval(days => $1) AND (outcome <> ALL($2::text[]) OR dispatched_at IS NOT NULL)
            LIMIT 10000)`,
        [DELIVERY_RETENTION_DAYS, DISPATCHED_OUTCOMES],
      );
      total += deleted[1];
      if (deleted[1] < 10_000 || this.loop.isStopping) return total;
    }
  }

  /** One round: claim, signal each repo once (unless it was signalled a moment ago), mark what was signalled. */
  async dispatchWaiting(): Promise<RoundResult> {
    const now = Date.now();
    for (const [repoId, last] of this.lastSignal) if (now - last.at >= this.signalIntervalMs) this.lastSignal.delete(repoId);
    return this.ds.transaction(async (m) => {
      // Grouped by repo in SQL: a round at full load claims thousands of rows, and one result row
      // per repo costs this process far less than one per delivery.
      const groups: WaitingGroup[] = await m.query(
        `SELECT w.repo_id, r.account_id, r.name, (r.id IS NOT NULL AND r.deleted_at IS NULL) AS live,
                array_agg(w.request_uuid ORDER BY w.received_at) AS uuids, array_agg(w.outcome ORDER BY w.received_at) AS outcomes,
                array_agg(w.commit ORDER BY w.received_at) AS commits, array_agg(w.branch ORDER BY w.received_at) AS branches,
                array_agg(extract(epoch FROM w.received_at) * 1000 ORDER BY w.received_at)::float8[] AS received
           FROM (SELECT request_uuid, repo_id, outcome, commit, branch, received_at FROM webhook_deliveries
                  WHERE task_queue_prefix = $1 AND outcome IN (${DISPATCHED_SQL}) AND dispatched_at IS NULL
                  ORDER BY received_at
                  LIMIT $2
                  FOR UPDATE SKIP LOCKED) w
           LEFT JOIN repos r ON r.id = w.repo_id
          GROUP BY w.repo_id, r.id
          ORDER BY min(w.received_at)`,
        [this.taskQueuePrefix, this.batch],
      );
      if (groups.length === 0) return { dispatched: 0, failed: 0 };
      let deferredUntil: number | undefined;
      const due = groups.filter((group) => {
        const last = group.live ? this.lastSignal.get(group.repo_id!) : undefined;
        const until = last ? last.at + (last.burst ? this.signalIntervalMs : this.signalIntervalMs / 4) : 0;
        // An eighth of the interval early is on time: the repos of one round, signalled over a few
        // ms, then come due in one later round rather than one round each.
        if (until <= now + this.signalIntervalMs / 8) return true;
        deferredUntil = Math.min(deferredUntil ?? until, until); // left waiting for a later round
        return false;
      });
      const done: string[] = [];
      let failed = 0;
      const signalNext = async () => {
        for (let group = due.shift(); group; group = due.shift()) {
          try {
            // A deleted (or never committed) repo's pushes are settled without a signal, which
            // would otherwise start its workflow again.
            if (group.live) {
              await this.temporal.signalRepo({ id: group.repo_id!, accountId: group.account_id!, name: group.name! }, { kind: 'push', event: pushEventOf(rowsOf(group)) });
              this.lastSignal.set(group.repo_id!, { at: Date.now(), burst: group.uuids.length > 1 });
            }
            done.push(...group.uuids);
            const now = Date.now();
            for (const at of group.received) pushDispatchLag.observe((now - at) / 1000);
          } catch (err) {
            failed++;
            pushDispatchFailures.inc();
            this.log.warn({ repoId: group.repo_id, deliveries: group.uuids.length, err: (err as Error).message }, 'could not signal a repo workflow; the pushes stay recorded and are retried');
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(this.concurrency, due.length) }, signalNext));
      if (done.length > 0) await m.query(`UPDATE webhook_deliveries SET dispatched_at = now() WHERE request_uuid = ANY($1::text[])`, [done]);
      return deferredUntil === undefined ? { dispatched: done.length, failed } : { dispatched: done.length, failed, deferredUntil };
    });
  }
}

function rowsOf(group: WaitingGroup): Array<{ request_uuid: string; outcome: string; commit: string | null; branch: string | null }> {
  return group.uuids.map((request_uuid, i) => ({ request_uuid, outcome: group.outcomes[i], commit: group.commits[i], branch: group.branches[i] }));
}

/**
 * One push event standing for a repo's waiting deliveries (oldest first). If the main-branch
 * pushes name different heads the event names none, so the workflow fetches whatever the branch
 * holds now; one stale commit must not make it skip a newer one that arrived in the same batch.
 * Pushes to other branches add only the hint that the main branch may have changed.
 */
export function pushEventOf(group: Array<{ request_uuid: string; outcome?: string; commit: string | null; branch?: string | null }>): PushEvent {
  const moved = group.filter((row) => (row.outcome ?? 'accepted') === 'accepted');
  const commits = new Set(moved.map((row) => row.commit));
  const event: PushEvent = { commit: commits.size === 1 ? moved[0].commit : null, deliveryId: group[group.length - 1].request_uuid };
  if (moved.length === 0) event.mainBranchMoved = false;
  if (moved.length < group.length) {
    event.mainBranchMayHaveChanged = true;
    event.branches = [...new Set(group.map((row) => row.branch).filter((b): b is string => !!b))].slice(0, 10);
  }
  return event;
}
