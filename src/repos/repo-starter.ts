// Starts the workflows of repos just added. The add request commits the repo row (with
// workflow_started_at NULL) and answers at once; the start follows in the background, a few at a
// time, once no add request is being answered (at most `holdMs` later: the answers of a burst
// go out before Temporal and the control worker are given its workflows to run on the same
// cores), and the rows are marked once their workflows exist. A start that did not happen — the API
// died in between, Temporal was down, the call failed — is made by the sweep, at start and every
// few seconds, in whichever API process runs it. Starts are idempotent (an existing workflow is
// kept), so a repeat is harmless: a committed repo always gets its workflow, and no request waits
// for Temporal.
import type { DataSource } from 'typeorm';
import type { Logger } from '../logger';
import { SweepLoop } from '../sweep-loop';
import type { RepoRef, RepoWorkflows } from './repo-workflows';

export interface RepoStarterOptions {
  /** How often rows still waiting for their start are looked for. */
  sweepMs?: number;
  /** How old a waiting row must be before the sweep starts it (its own request is probably on it). */
  graceMs?: number;
  /**
   * Starts in flight at once. A burst of adds is answered first: fifty starts at once would take
   * the API's CPU from the answers (each start is a gRPC call), and Temporal's queue is no
   * shorter for them arriving together.
   */
  concurrency?: number;
  /** The longest a start waits for the add requests in flight to be answered. */
  holdMs?: number;
  /** Repos of synced workspaces (CONTRACT §13) per account waiting for or in their first index at once. */
  syncInFlight?: number;
  /** This deployment's task-queue prefix: only its repos are its to start (repos.task_queue_prefix). */
  taskQueuePrefix?: string;
}

export class RepoStarter {
  private readonly waiting: Array<{ repo: RepoRef; since: number }> = [];
  private addsInFlight = 0;
  private stopping = false;
  private holdTimer: NodeJS.Timeout | null = null;
  private readonly holdMs: number;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly loop: SweepLoop;
  private readonly graceMs: number;
  private readonly concurrency: number;
  private readonly syncInFlight: number;
  private readonly taskQueuePrefix: string;
  private syncBacklog = false;

  constructor(
    private readonly ds: DataSource,
    private readonly workflows: Pick<RepoWorkflows, 'startRepo'>,
    private readonly log: Logger,
    opts: RepoStarterOptions = {},
  ) {
    this.graceMs = opts.graceMs ?? 10_000;
    this.concurrency = opts.concurrency ?? 4;
    this.holdMs = opts.holdMs ?? 1_000;
    this.syncInFlight = opts.syncInFlight ?? 32;
    this.taskQueuePrefix = opts.taskQueuePrefix ?? '';
    // While a workspace's repos are being started, look again soon: their first indexes finish quickly.
    this.loop = new SweepLoop(async () => {
      await this.sweep();
      return this.syncBacklog ? { pauseMs: 250 } : {};
    }, log, {
      everyMs: opts.sweepMs ?? 5_000,
      what: 'start the workflows of repos waiting for one',
    });
  }

  /** Runs one add request; the starts wait until none is in flight (or `holdMs` has passed). */
  async whileAdding<T>(add: () => Promise<T>): Promise<T> {
    this.addsInFlight++;
    try {
      return await add();
    } finally {
      this.addsInFlight--;
      this.pump();
    }
  }

  /** Starts the workflow of a repo whose row is committed, without waiting for it. */
  startSoon(repo: RepoRef): void {
    this.waiting.push({ repo, since: Date.now() });
    this.pump();
  }

  begin(): void {
    this.loop.start();
  }

  /** Stops the sweep and waits for the starts under way (and those queued behind them). */
  async stop(): Promise<void> {
    this.stopping = true; // what waits starts now, answers or not
    this.pump();
    await this.loop.stop();
    while (this.inFlight.size > 0) await Promise.all(this.inFlight);
  }

  /**
   * Starts every repo whose start has not been recorded for `graceMs`, and repos of synced
   * workspaces (no request waits on those) while fewer than `syncInFlight` of the account's are
   * waiting for or in their first index: a workspace of 1,000 repos fills the indexing queue a
   * few at a time, so another account's pushes never queue behind all of them. Stops at the first
   * start that fails.
   */
  async sweep(): Promise<number> {
    const rows: Array<{ id: string; account_id: string; name: string; synced: boolean }> = await this.ds.query(
      `WITH busy AS (
         SELECT account_id, count(*)::int AS n FROM repos
          WHERE deleted_at IS NULL AND synced_from IS NOT NULL AND workflow_started_at IS NOT NULL AND status IN ('pending', 'indexing')
          GROUP BY account_id),
       synced AS (
         SELECT id, account_id, name, created_at, row_number() OVER (PARTITION BY account_id ORDER BY created_at, id) AS place
           FROM repos WHERE workflow_started_at IS NULL AND deleted_at IS NULL AND synced_from IS NOT NULL AND task_queue_prefix = $3)
       (SELECT id, account_id, name, false AS synced FROM repos
         WHERE workflow_started_at IS NULL AND deleted_at IS NULL AND synced_from IS NULL AND task_queue_prefix = $3 AND created_at < now() - make_interval(secs => $1)
         ORDER BY created_at LIMIT 100)
       UNION ALL
       (SELECT s.id, s.account_id, s.name, true FROM synced s LEFT JOIN busy b USING (account_id)
         WHERE s.place <= $2 - coalesce(b.n, 0) ORDER BY s.created_at LIMIT 100)`,
      [this.graceMs / 1000, this.syncInFlight, this.taskQueuePrefix],
    );
    this.syncBacklog = rows.some((r) => r.synced);
    for (const row of rows) await this.start({ id: row.id, accountId: row.account_id, name: row.name });
    return rows.length;
  }

  private pump(): void {
    if (this.holdTimer) clearTimeout(this.holdTimer);
    this.holdTimer = null;
    if (this.waiting.length === 0) return;
    const heldFor = Date.now() - this.waiting[0].since;
    if (this.addsInFlight > 0 && !this.stopping && heldFor < this.holdMs) {
      this.holdTimer = setTimeout(() => this.pump(), this.holdMs - heldFor);
      return;
    }
    while (this.inFlight.size < this.concurrency && this.waiting.length > 0) {
      const { repo } = this.waiting.shift()!;
      const run: Promise<void> = this.start(repo)
        .catch((err: Error) => this.log.warn({ repoId: repo.id, err: err.message }, 'could not start the repo workflow yet; the sweep retries'))
        .finally(() => {
          this.inFlight.delete(run);
          this.pump();
        });
      this.inFlight.add(run);
    }
  }

  private async start(repo: RepoRef): Promise<void> {
    await this.workflows.startRepo(repo);
    await this.ds.query(`UPDATE repos SET workflow_started_at = now() WHERE id = $1`, [repo.id]);
  }
}
