// One HTTP helper for every Bitbucket call: a timeout, and 429 / 5xx / network failures retried
// with exponential backoff and full jitter (Bitbucket sends no Retry-After on 429).
import { RestBudgetSpentError } from './rest-budget';
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

/** Answers that say the request was not carried out, so even a non-idempotent one may be resent. */
function notProcessed(status: number): boolean {
  return status === 429 || status === 503;
}

/**
 * Sends the request, retrying transient failures. Resolves with the first non-transient response;
 * rejects with TransientHttpError when every attempt failed transiently. `describe` names the call
 * in messages (never the URL's query, which may carry secrets).
 *
 * A non-idempotent request (`idempotent: false`, e.g. creating a webhook) is resent only after an
 * answer that says it was not carried out (429, 503): after a timeout, a network error or another
 * 5xx it may have been, so the caller decides (ensureWebhook lists the hooks again first).
 */
export async function fetchWithRetry(
  doFetch: Fetch,
  url: string,
  init: RequestInit,
  describe: string,
  policy: RetryPolicy = DEFAULT_RETRY,
  idempotent = true,
): Promise<Response> {
  let last = '';
  let lastStatus: number | null = null;
  let attempt = 0;
  for (; attempt < policy.attempts; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, backoff(policy, attempt)));
    try {
      const res = await doFetch(url, { ...init, signal: AbortSignal.timeout(policy.timeoutMs) });
      if (!isTransient(res.status)) return res;
      lastStatus = res.status;
      last = res.status === 429 ? 'rate limited (429)' : `HTTP ${res.status}`;
      await res.body?.cancel().catch(() => undefined);
      if (!idempotent && !notProcessed(res.status)) break;
    } catch (err) {
      if (err instanceof RestBudgetSpentError) throw err; // not sent at all: the caller decides when to try again
      lastStatus = null;
      last = (err as Error).name === 'TimeoutError' ? `no answer within ${policy.timeoutMs} ms` : 'network error';
      if (!idempotent) break;
    }
  }
  const attempts = Math.min(attempt + 1, policy.attempts);
  throw new TransientHttpError(`${describe} failed after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${last}.`, lastStatus);
}
