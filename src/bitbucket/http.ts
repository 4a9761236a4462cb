// One HTTP helper for every Bitbucket call: a timeout, and 429 / 5xx / network failures retried
// with exponential backoff and full jitter (Bitbucket sends no Retry-After on 429).
export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  timeoutMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 400, maxDelayMs: 8_000, timeoutMs: 15_000 };

export type Fetch = typeof fetch;

export class TransientHttpError extends Error {
  override name = 'TransientHttpError';
  constructor(
    message: string,
    readonly status: number | null,
  ) {
    super(message);
  }
}

function backoff(policy: RetryPolicy, attempt: number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return Math.random() * ceiling;
}

function isTransient(status: number): boolean {
  return status === 429 || status >= 500;
}

/**
 * Sends the request, retrying transient failures. Resolves with the first non-transient response;
 * rejects with TransientHttpError when every attempt failed transiently. `describe` names the call
 * in messages (never the URL's query, which may carry secrets).
 */
export async function fetchWithRetry(
  doFetch: Fetch,
  url: string,
  init: RequestInit,
  describe: string,
  policy: RetryPolicy = DEFAULT_RETRY,
): Promise<Response> {
  let last = '';
  let lastStatus: number | null = null;
  for (let attempt = 0; attempt < policy.attempts; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, backoff(policy, attempt)));
    try {
      const res = await doFetch(url, { ...init, signal: AbortSignal.timeout(policy.timeoutMs) });
      if (!isTransient(res.status)) return res;
      lastStatus = res.status;
      last = res.status === 429 ? 'rate limited (429)' : `HTTP ${res.status}`;
      await res.body?.cancel().catch(() => undefined);
    } catch (err) {
      lastStatus = null;
      last = (err as Error).name === 'TimeoutError' ? `no answer within ${policy.timeoutMs} ms` : 'network error';
    }
  }
  throw new TransientHttpError(`${describe} failed after ${policy.attempts} attempts: ${last}.`, lastStatus);
}
