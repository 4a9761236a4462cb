// The repo workflow's state and message handlers (the shape of Temporal's safe-message-handlers
// sample): signals only record what was asked, the workflow (repo.ts) decides what to do next.
// Everything here is carried across continue-as-new. Deterministic: time is workflow time and
// the jitter comes from the workflow's seeded Math.random.
import { condition, patched, setHandler, workflowInfo } from '@temporalio/workflow';
import { isFixedByReconnect } from '../src/failures';
import type { RepoCarried, V1Carried } from './repo-input';

export type { RepoCarried };
import { deleteSignal, pushSignal, reauthorizedSignal, reindexSignal, statusQuery, webhookChangedSignal, type PushEvent, type RepoWorkflowStatus } from './repo-signals';


/** Marks runs that drop a push whose head the last push already announced. */
export const PUSH_ONCE_PATCH = 'push-once-per-head';

/** What the loop does next. */
export type Work = 'delete' | 'continue-as-new' | 'requested' | 'check-hint' | 'reconcile';

/** Pushes may re-read the main branch at most this often (CONTRACT §11). */
export const MAIN_BRANCH_CHECK_EVERY_MS = 60_000;
/** A reconcile this late (the service was down) is spread over the next interval instead of run at once with every other repo's. */
const LATE_AFTER_MS = 60_000;
const DEFAULT_RECONCILE_MS = 10 * 60_000;
const KEEP_DELIVERIES = 200;
const KEEP_ANNOUNCED = 20;

/** A repo the workflow has not seen yet: also the list of what is carried across continue-as-new. */
const NEW_REPO: RepoCarried = {
  registered: false,
  source: null,
  mainBranch: null,
  lastIndexedCommit: null,
  failedWith: null,
  parked: false,
  pushPending: false,
  reindexRequested: true, // the first index
  webhookRecheck: false,
  mainBranchHint: false,
  recentDeliveries: [],
  announced: [],
  unannounced: null,
  reconcileDueAt: null,
  mainBranchCheckedAt: 0,
  reconcileIntervalMs: DEFAULT_RECONCILE_MS,
  backoffUntil: 0,
};

// The class carries the fields of RepoCarried (declaration merging), set in the constructor.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unsafe-declaration-merging
export interface RepoState extends RepoCarried {}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class RepoState {
  deleteRequested = false;
  /** What the Temporal UI's query shows. */
  phase = 'starting';
  lastError: string | null = null;

  /** `carried` from this version, from the version before RepoState (repo-v1.ts), or none for a new repo. */
  constructor(carried: Partial<RepoCarried & V1Carried> | undefined, reconcileIntervalMs: number | undefined) {
    const known = Object.fromEntries(Object.entries(carried ?? {}).filter(([key, value]) => key in NEW_REPO && value !== undefined));
    Object.assign(this, NEW_REPO, { recentDeliveries: [], announced: [], reconcileIntervalMs: reconcileIntervalMs ?? DEFAULT_RECONCILE_MS }, known);
    if (carried && !('pushPending' in carried)) {
      // Carried by repo-v1: a count of pending pushes, and no request unless it said so.
      this.pushPending = (carried.pendingPushes ?? 0) > 0;
      this.reindexRequested = carried.reindexRequested ?? !this.registered;
    }
    if (carried?.reconcileDueAt === undefined) this.reconcileDueAt = this.nextReconcile();
  }

  installHandlers(): void {
    setHandler(pushSignal, (event) => this.onPush(event));
    setHandler(reindexSignal, () => {
      this.reindexRequested = true;
      this.webhookRecheck = true; // permissions may have changed since the hook last failed
    });
    setHandler(reauthorizedSignal, () => this.onReconnected());
    setHandler(webhookChangedSignal, () => void (this.webhookRecheck = true));
    setHandler(deleteSignal, () => void (this.deleteRequested = true));
    setHandler(statusQuery, (): RepoWorkflowStatus => ({ phase: this.phase, pendingPushes: this.pushPending ? 1 : 0, lastIndexedCommit: this.lastIndexedCommit, lastError: this.lastError }));
  }

  private onPush(event: PushEvent): void {
    if (this.recentDeliveries.includes(event.deliveryId)) return; // a redelivery that slipped past the API
    remember(this.recentDeliveries, event.deliveryId, KEEP_DELIVERIES);
    if (event.mainBranchMayHaveChanged) this.mainBranchHint = true;
    // A push the receiver took for another branch may be to the main branch it has not yet heard of.
    const toMainBranch = event.mainBranchMoved !== false || (this.mainBranch !== null && (event.branches ?? []).includes(this.mainBranch));
    if (!toMainBranch) return;
    // The same push announced again by another hook (a repo hook and the workspace hook, CONTRACT §13): indexed once.
    if (event.commit && this.announced[this.announced.length - 1] === event.commit && patched(PUSH_ONCE_PATCH)) return;
    if (event.commit) remember(this.announced, event.commit, KEEP_ANNOUNCED);
    if (event.commit && event.commit === this.unannounced) this.unannounced = null; // late, not lost
    if (event.commit && event.commit === this.lastIndexedCommit) return;
    this.pushPending = true;
  }

  /** A reconnect succeeded: what failed for want of it runs again, and the webhook is re-checked. */
  private onReconnected(): void {
    if (this.parked || isFixedByReconnect(this.failedWith)) this.reindexRequested = true;
    this.parked = false;
    this.webhookRecheck = true;
  }

  /** What was asked and can run now, if anything. A parked repo only moves for a re-index, a reconnect or a delete. */
  private asked(): Work | null {
    if (this.deleteRequested) return 'delete';
    if (this.reindexRequested || (!this.parked && (this.pushPending || this.webhookRecheck))) return 'requested';
    if (workflowInfo().continueAsNewSuggested) return 'continue-as-new';
    return null;
  }

  /** Waits for the next thing to do: a message, a due reconcile, or a main-branch hint whose minute has passed. */
  async nextWork(): Promise<Work> {
    for (;;) {
      const asked = this.asked();
      if (asked) return asked;
      const timed = this.parked ? null : this.nextTimedWork();
      // Wake for a message, or when one changes the timetable (a hint arrived, a reconnect unparked).
      const woken = () => this.asked() !== null || !sameTime(this.parked ? null : this.nextTimedWork(), timed);
      if (!timed) {
        await condition(woken);
        continue;
      }
      if (await condition(woken, Math.max(1, timed.at - Date.now()))) continue;
      if (timed.work === 'reconcile' && Date.now() - timed.at > LATE_AFTER_MS) {
        // The workers were down, so every repo's reconcile is due at once: spread them over an interval.
        this.reconcileDueAt = Date.now() + Math.random() * this.reconcileIntervalMs;
        continue;
      }
      return timed.work;
    }
  }

  private nextTimedWork(): { work: Work; at: number } | null {
    const hintAt = this.mainBranchHint ? this.mainBranchCheckedAt + MAIN_BRANCH_CHECK_EVERY_MS : null;
    const next: { work: Work; at: number } | null =
      hintAt !== null && (this.reconcileDueAt === null || hintAt <= this.reconcileDueAt) ? { work: 'check-hint', at: hintAt }
      : this.reconcileDueAt !== null ? { work: 'reconcile', at: this.reconcileDueAt }
      : null;
    return next && { work: next.work, at: Math.max(next.at, this.backoffUntil) };
  }

  /** The git host is rate limiting: background checks wait it out, spread over up to a minute more. */
  backOff(retryInMs: number): void {
    this.backoffUntil = Date.now() + retryInMs + Math.random() * Math.min(retryInMs, 60_000);
  }

  /** Due at most one interval from now, jittered down to 3/4 of it so repos added together drift apart. */
  private nextReconcile(): number | null {
    return this.reconcileIntervalMs > 0 ? Date.now() + this.reconcileIntervalMs * (0.75 + 0.25 * Math.random()) : null;
  }

  /** An index run starts: it serves every push and request made so far. */
  startRun(): void {
    this.pushPending = false;
    this.reindexRequested = false;
  }

  /**
   * The remote's main branch was just listed (`found`; nothing when the listing failed): hints are
   * answered, the next reconcile is an interval away, and a head no push announced is remembered.
   */
  checked(found?: { outcome: 'moved' | 'unchanged'; branch: string | null; head: string | null; intervalMs: number }): void {
    if (found) {
      this.mainBranch = found.branch ?? this.mainBranch;
      this.reconcileIntervalMs = found.intervalMs;
      this.unannounced = found.outcome === 'moved' && found.head && !this.announced.includes(found.head) ? found.head : null;
    }
    this.mainBranchCheckedAt = Date.now();
    this.mainBranchHint = false;
    this.reconcileDueAt = this.nextReconcile();
  }

  /** An index run fetched the main branch's newest head: the reconcile can wait another interval. */
  indexed(run: { commit: string; branch?: string; reconcileIntervalMs?: number }): void {
    this.lastIndexedCommit = run.commit;
    this.mainBranch = run.branch ?? this.mainBranch;
    this.reconcileIntervalMs = run.reconcileIntervalMs ?? this.reconcileIntervalMs;
    this.failedWith = null;
    this.lastError = null;
    this.reconcileDueAt = this.nextReconcile();
  }

  failed(code: string, message: string): void {
    this.failedWith = code;
    this.lastError = message;
    this.parked = isFixedByReconnect(code);
  }

  /** Carried to the next run. */
  carried(): RepoCarried {
    return Object.fromEntries(Object.keys(NEW_REPO).map((key) => [key, this[key as keyof RepoCarried]])) as unknown as RepoCarried;
  }
}

function sameTime(a: { work: Work; at: number } | null, b: { work: Work; at: number } | null): boolean {
  return a === b || (a !== null && b !== null && a.work === b.work && a.at === b.at);
}

function remember(list: string[], value: string, keep: number): void {
  list.push(value);
  if (list.length > keep) list.splice(0, list.length - keep);
}
