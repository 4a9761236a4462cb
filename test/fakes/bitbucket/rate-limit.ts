// Bitbucket Cloud's REST rate limit as the fake applies it (reference §2.8, CONTRACT §13): a rolling
// window, repository and webhook resources counted together, calls made with OAuth tokens counted
// against the OAuth consumer whichever user the token belongs to. Only calls let through count.

export interface RestLimit {
  /** Calls allowed in any window of `windowMs`. */
  calls: number;
  windowMs: number;
}

/** Bitbucket's: 1,000 calls an hour for `/2.0/repositories/*` (and webhook resources). */
export const BITBUCKET_REST_LIMIT: Readonly<RestLimit> = Object.freeze({ calls: 1000, windowMs: 3_600_000 });

/**
 * Whether a request path is a rate-limited resource: `/2.0/repositories/{workspace}…` (repositories,
 * their hooks included) and workspace webhooks `/2.0/workspaces/{workspace}/hooks…`. Not `/2.0/user…`,
 * `/2.0/workspaces/{workspace}`, git over HTTPS or the OAuth endpoints.
 */
export function isLimitedRestPath(pathname: string): boolean {
  return /^\/2\.0\/repositories\/[^/]/.test(pathname) || /^\/2\.0\/workspaces\/[^/]+\/hooks(?:\/|$)/.test(pathname);
}

export function validRestLimit(limit: RestLimit | null): RestLimit | null {
  if (limit === null) return null;
  if (!Number.isInteger(limit.calls) || limit.calls < 0) throw new Error(`restLimit.calls must be an integer >= 0, not ${limit.calls}`);
  if (!Number.isFinite(limit.windowMs) || limit.windowMs <= 0) throw new Error(`restLimit.windowMs must be > 0, not ${limit.windowMs}`);
  return { calls: limit.calls, windowMs: limit.windowMs };
}

/** Times of the calls let through, oldest first; trimmed from the front (amortised O(1) per call). */
class CallTimes {
  private times: number[] = [];
  private start = 0;

  trim(cutoff: number): void {
    while (this.start < this.times.length && this.times[this.start] <= cutoff) this.start++;
    if (this.start > 1024 && this.start * 2 > this.times.length) {
      this.times = this.times.slice(this.start);
      this.start = 0;
    }
  }

  get size(): number {
    return this.times.length - this.start;
  }

  push(t: number): void {
    this.times.push(t);
  }
}

/** One rolling window per consumer (client id). */
export class RestRateLimiter {
  private limitValue: RestLimit | null;
  private readonly windows = new Map<string, CallTimes>();

  constructor(limit: RestLimit | null, private readonly now: () => number = () => performance.now()) {
    this.limitValue = validRestLimit(limit);
  }

  get limit(): RestLimit | null {
    return this.limitValue && { ...this.limitValue };
  }

  /**
   * A new limit applies at once to the calls already counted (those within the new window);
   * null turns the limiter off and forgets them.
   */
  setLimit(limit: RestLimit | null): void {
    this.limitValue = validRestLimit(limit);
    if (this.limitValue === null) this.windows.clear();
  }

  /** Counts a call of `consumer` and returns true, or returns false (a 429) when its window is full. */
  admit(consumer: string): boolean {
    const limit = this.limitValue;
    if (!limit) return true;
    const now = this.now();
    let w = this.windows.get(consumer);
    if (!w) {
      w = new CallTimes();
      this.windows.set(consumer, w);
    }
    w.trim(now - limit.windowMs);
    if (w.size >= limit.calls) return false;
    w.push(now);
    return true;
  }

  /** Calls counted in the current window, per consumer (empty when the limiter is off). */
  counts(): Record<string, number> {
    const limit = this.limitValue;
    const out: Record<string, number> = {};
    if (!limit) return out;
    const now = this.now();
    for (const [consumer, w] of this.windows) {
      w.trim(now - limit.windowMs);
      if (w.size > 0) out[consumer] = w.size;
    }
    return out;
  }
}
