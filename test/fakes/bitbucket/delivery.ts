// Webhook delivery the way Bitbucket Cloud does it: POST JSON with X-Event-Key, X-Hook-UUID,
// X-Request-UUID (kept across retries), X-Attempt-Number, X-Event-Time, and X-Hub-Signature
// when the hook has a secret; 10 s timeout; two more attempts right away on 5xx, timeout or
// network error, none on other statuses.
import { createHmac, randomUUID } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';

export type DeliveryStatus = number | 'TIMEOUT' | 'NETWORK ERROR';

export interface DeliveryAttempt {
  attempt: number;
  status: DeliveryStatus;
  /** When the request went out (the payload built and signed), and when its answer came. */
  sentAt: string;
  at: string;
}

export interface Delivery {
  hookUuid: string; // "{…}" as stored on the hook
  url: string;
  eventKey: string;
  requestUuid: string;
  /** Final outcome: the status of the last attempt. */
  status: DeliveryStatus;
  attempts: number;
  attemptLog: DeliveryAttempt[];
  /** The raw JSON body that was sent (and signed). */
  body: string;
}

export interface DeliveryTarget {
  hookUuid: string;
  url: string;
  secret: string | null;
}

export const MAX_ATTEMPTS = 3;

export function signature(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

function postOnce(url: string, headers: Record<string, string>, body: string, timeoutMs: number): Promise<DeliveryStatus> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (s: DeliveryStatus) => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        resolve(s);
      }
    };
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      done('NETWORK ERROR');
      return;
    }
    const mod = target.protocol === 'https:' ? https : http;
    const req = mod.request(target, { method: 'POST', headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) }, agent: false });
    const timer = setTimeout(() => {
      done('TIMEOUT');
      req.destroy();
    }, timeoutMs);
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => done(res.statusCode ?? 0));
      res.on('error', () => done(res.statusCode ?? 0));
    });
    req.on('error', () => done('NETWORK ERROR'));
    req.end(body);
  });
}

function retryable(s: DeliveryStatus): boolean {
  return typeof s !== 'number' || (s >= 500 && s <= 599);
}

export async function deliver(target: DeliveryTarget, eventKey: string, body: string, timeoutMs: number,
  requestUuid: string = randomUUID()): Promise<Delivery> {
  const attemptLog: DeliveryAttempt[] = [];
  let status: DeliveryStatus = 'NETWORK ERROR';
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'User-Agent': 'Bitbucket-Webhooks/2.0',
      'X-Event-Key': eventKey,
      'X-Hook-UUID': target.hookUuid.replace(/^\{|\}$/g, ''),
      'X-Request-UUID': requestUuid,
      'X-Attempt-Number': String(attempt),
      'X-Event-Time': new Date().toUTCString(),
    };
    if (target.secret) headers['X-Hub-Signature'] = signature(target.secret, body);
    const sentAt = new Date().toISOString();
    status = await postOnce(target.url, headers, body, timeoutMs);
    attemptLog.push({ attempt, status, sentAt, at: new Date().toISOString() });
    if (!retryable(status)) break;
  }
  return {
    hookUuid: target.hookUuid, url: target.url, eventKey, requestUuid, status,
    attempts: attemptLog.length, attemptLog, body,
  };
}
