// The OAuth consumer's REST budget (BITBUCKET_REST_BUDGET, CONTRACT §13): Bitbucket allows 1,000
// calls an hour for repository and webhook resources, measured against the consumer, so every
// account and process of a deployment shares one budget, counted in PostgreSQL (migration 720:
// one statement per call). Background work (activities) stops short of the budget, leaving
// user-facing calls (a request of the API) a reserve that grows with their demand, and is shared
// fairly between accounts; after a 429 every process holds its background calls back for a moment
// (migration 740).
import { AsyncLocalStorage } from 'node:async_hooks';
import type { DataSource } from 'typeorm';

export type RestCallKind = 'user' | 'background';

const callKind = new AsyncLocalStorage<RestCallKind>();

/** Runs `fn` so that the Bitbucket REST calls it makes (however deep) count as `kind`. */
export function withRestCallKind<T>(kind: RestCallKind, fn: () => T): T {
  return callKind.run(kind, fn);
}

/** What the calls being made now count as: background inside an activity, user-facing otherwise. */
export function currentRestCallKind(): RestCallKind {
  return callKind.getStore() ?? 'user';
}

/** Only repository and webhook resources are limited by Bitbucket (not `/user`, `/user/workspaces`, tokens or git). */
export function isBudgetedPath(pathname: string): boolean {
  return /\/2\.0\/repositories\//.test(pathname) || /\/2\.0\/workspaces\/[^/]+\/hooks(\/|$)/.test(pathname);
}

export interface RestBudget {
  /**
   * Resolves once a call of the current kind, for `account` (its fair share of background work),
   * may go, and counts it; RestBudgetSpentError when that is too far off.
   */
  take(account: string, signal?: AbortSignal): Promise<void>;
  /** Bitbucket answered 429: background calls of every process hold back a moment (the call itself is retried with backoff by http.ts). */
  rateLimited(): Promise<void>;
}

/** The share of the budget background work leaves to user-facing calls at least. */
const USER_RESERVE = 0.1;
/** A wait is re-checked at least this often (another process may have been slower to spend). */
const MAX_WAIT_STEP_MS = 2_000;
/**
 * How long a call waits in place for budget: a request cannot hang for the window, and an activity
 * (registration runs in local activities, inside a workflow task) should not either: past this,
 * RestBudgetSpentError says how long to wait, and Temporal's retry waits that long durably.
 */
const MAX_INLINE_WAIT_MS = 5_000;

/** The budget has no call for this kind before `waitMs`. */
export class RestBudgetSpentError extends Error {
  override name = 'RestBudgetSpentError';
  constructor(readonly waitMs: number) {
    super(`Bitbucket's REST budget (BITBUCKET_REST_BUDGET) is spent for now; calls resume in about ${Math.ceil(waitMs / 1000)} s.`);
  }
}

export class PostgresRestBudget implements RestBudget {
  /** What background work leaves to user-facing calls at least (more when they spend more: migration 740). */
  private readonly reserve: number;
  private readonly bucketMs: number;

  /** `consumer` names the OAuth consumer whose budget this is (Bitbucket counts per consumer). */
  constructor(
    private readonly ds: DataSource,
    readonly budget: { calls: number; windowMs: number },
    private readonly consumer: string,
  ) {
    this.reserve = Math.min(budget.calls - 1, Math.ceil(budget.calls * USER_RESERVE));
    this.bucketMs = Math.max(1, Math.floor(budget.windowMs / 60));
  }

  async take(account: string, signal?: AbortSignal): Promise<void> {
    const kind = currentRestCallKind();
    let waited = 0;
    for (;;) {
      const [{ wait }] = (await this.ds.query(`SELECT lettuce_take_rest_call($1, $2, $3, $4, $5, $6::interval, $7::interval) AS wait`, [
        this.consumer,
        kind,
        account,
        this.budget.calls,
        this.reserve,
        `${this.budget.windowMs} milliseconds`,
        `${this.bucketMs} milliseconds`,
      ])) as Array<{ wait: number }>;
      if (wait <= 0) return;
      if (waited + wait > MAX_INLINE_WAIT_MS) throw new RestBudgetSpentError(wait);
      const step = Math.min(Math.ceil(wait), MAX_WAIT_STEP_MS);
      await sleep(step, signal);
      waited += step;
    }
  }

  async rateLimited(): Promise<void> {
    await this.ds.query(`SELECT lettuce_rest_rate_limited($1)`, [this.consumer]);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
