// The loop of an outbox: rows committed in PostgreSQL wait for a call to Temporal (a workflow to
// start, pushes to signal, a workspace to tell), and a loop in every API process takes whatever
// waits, round after round. A round says what comes next: at once (it left a full batch behind),
// after a pause it chooses (pacing), or after the sweep interval, when a wake() cuts the wait short.
// A round that fails backs off, doubling up to a limit. Shared by the RepoStarter, the
// PushDispatcher and the WorkspaceNudger.
import type { Logger } from './logger';

export interface RoundOutcome {
  /** Run the next round at once. */
  again?: boolean;
  /** Run the next round after this long (pacing: a wake() does not cut it short). */
  pauseMs?: number;
  /** The round failed: back off. */
  failed?: boolean;
}

export interface SweepLoopOptions {
  /** The pause between rounds when nothing asks for another sooner. */
  everyMs: number;
  /** The longest back-off after failed rounds. */
  maxBackoffMs?: number;
  /** The first round runs after this long (default at once). */
  firstAfterMs?: number;
  /** What the loop does, for the log line of a round that threw. */
  what: string;
}

export class SweepLoop {
  private stopped = false;
  private loop: Promise<void> | null = null;
  private wakeUp: (() => void) | null = null;
  private woken = false;

  constructor(
    private readonly round: () => Promise<RoundOutcome | void>,
    private readonly log: Logger,
    private readonly opts: SweepLoopOptions,
  ) {}

  start(): void {
    this.loop ??= this.run();
  }

  /** Work was just committed: run a round now rather than at the end of the sweep interval. */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /** Ends the loop after the round under way. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeUp?.();
    await this.loop;
  }

  get isStopping(): boolean {
    return this.stopped;
  }

  private async run(): Promise<void> {
    let backoffMs = 0;
    if (this.opts.firstAfterMs) await this.pause(this.opts.firstAfterMs, true);
    while (!this.stopped) {
      this.woken = false;
      let outcome: RoundOutcome;
      try {
        outcome = (await this.round()) ?? {};
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, `could not ${this.opts.what}`);
        outcome = { failed: true };
      }
      if (this.stopped) break;
      if (outcome.failed) {
        backoffMs = Math.min(this.opts.maxBackoffMs ?? this.opts.everyMs, Math.max(500, backoffMs * 2));
        await this.pause(backoffMs, false);
        continue;
      }
      backoffMs = 0;
      if (outcome.pauseMs !== undefined) await this.pause(outcome.pauseMs, false);
      else if (outcome.again || this.woken) continue;
      else await this.pause(this.opts.everyMs, true);
    }
  }

  private async pause(ms: number, wakeable: boolean): Promise<void> {
    if (ms <= 0) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wakeUp = () => {
        if (!wakeable && !this.stopped) return; // backing off or pacing: new work waits for the next round
        clearTimeout(timer);
        resolve();
      };
    });
    this.wakeUp = null;
  }
}
