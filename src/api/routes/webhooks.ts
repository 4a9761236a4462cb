// POST /v1/webhooks/bitbucket/{accountId}: the HTTP side of the webhook receiver
// (src/webhooks/receiver.ts does verify → parse → record). Served by node:http ahead of the Koa
// app: deliveries are the one load the service does not choose, and the stack every other route
// passes (request context, error handler, routers, Koa's context and body handling) cost more
// per delivery than the receiver's own work (bench/webhook-bench.ts prints the measurements). It
// keeps what that stack gives every answer: the contract's error shape and status codes, the
// 1 MiB body limit, X-Request-Id, the latency histogram and the access log line — for answered
// deliveries (2xx) at debug level, since at thousands a second /metrics counts them instead.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../../logger';
import { redactUrl } from '../../logger';
import { httpRequestDuration } from '../../metrics';
import type { ReceiverAnswer, WebhookReceiver } from '../../webhooks/receiver';
import { BODY_LIMIT_BYTES, readBody } from '../body';
import { errors } from '../errors';
import { isUuid } from '../ids';
import { requestIdFor, sanitize } from '../middleware';

const PREFIX = '/v1/webhooks/bitbucket/';
/** The route as the OpenAPI document and the latency histogram name it. */
export const WEBHOOK_ROUTE = { method: 'post', path: `${PREFIX}:accountId` } as const;

const JSON_TYPE = 'application/json; charset=utf-8';
const ACCEPTED = JSON.stringify({ outcome: 'accepted' });
const DUPLICATE = JSON.stringify({ outcome: 'duplicate' });

/** The account segment of a webhook URL, or null when the URL is not a webhook's (Koa answers it then). */
function accountSegment(url: string): string | null {
  if (!url.startsWith(PREFIX)) return null;
  const query = url.indexOf('?', PREFIX.length);
  let segment = url.slice(PREFIX.length, query === -1 ? undefined : query);
  if (segment.endsWith('/')) segment = segment.slice(0, -1); // the router was not strict about it either
  if (segment === '' || segment.includes('/')) return null;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function bodyOf(a: ReceiverAnswer): string {
  if ('code' in a) return JSON.stringify({ error: { code: a.code, message: a.message } });
  if (a.outcome === 'accepted') return ACCEPTED;
  if (a.outcome === 'duplicate') return DUPLICATE;
  return JSON.stringify({ outcome: a.outcome, reason: a.reason });
}

/**
 * The request listener's first look at every request: true when it took the request (a webhook
 * delivery, or another method on a webhook URL), false to leave it to the Koa app.
 */
export function webhookIntake(deps: { receiver: WebhookReceiver; log: Logger }): (req: IncomingMessage, res: ServerResponse) => boolean {
  const { receiver, log } = deps;
  const latency = new Map<number, ReturnType<typeof httpRequestDuration.labels>>();
  const latencyOf = (status: number) => {
    let child = latency.get(status);
    if (!child) latency.set(status, (child = httpRequestDuration.labels('POST', WEBHOOK_ROUTE.path, String(status))));
    return child;
  };

  const send = (req: IncomingMessage, res: ServerResponse, requestId: string, started: bigint, status: number, body: string, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'Content-Type': JSON_TYPE, 'Content-Length': String(Buffer.byteLength(body)), 'X-Request-Id': requestId, ...headers });
    res.end(body);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (req.method === 'POST') latencyOf(status).observe(seconds);
    // Method, redacted URL, status and time only: never headers or bodies (the Koa access line's fields).
    const level = status < 300 ? 'debug' : 'info';
    if (log.isLevelEnabled(level)) log[level]({ requestId, method: req.method, url: redactUrl(req.url ?? ''), status, ms: Math.round(seconds * 1000) }, 'request');
  };

  const deliver = (req: IncomingMessage, res: ServerResponse, accountId: string, requestId: string, started: bigint) => {
    const failed = (err: unknown) => {
      log.error({ requestId, err: sanitize(err) }, 'request failed');
      if (res.headersSent || res.destroyed) return;
      try {
        send(req, res, requestId, started, 500, JSON.stringify({ error: { code: 'internal_error', message: 'Something went wrong on our side; try again.' } }));
      } catch {
        res.destroy(); // nothing more can be said on this connection
      }
    };
    readBody(req, BODY_LIMIT_BYTES, (err, body) => {
      if (err) {
        res.destroy(); // the delivery broke off: nobody is left to answer
        return;
      }
      if (body === null) {
        const e = errors.payloadTooLarge(BODY_LIMIT_BYTES);
        // Answered once the body has arrived and been dropped (body.ts), then the connection
        // closes: a body beyond the drain bounds is still arriving, and must not be read as a request.
        send(req, res, requestId, started, e.status, JSON.stringify({ error: { code: e.code, message: e.message } }), { Connection: 'close' });
        return;
      }
      const h = req.headers;
      receiver
        .receive({
          accountId: isUuid(accountId) ? accountId : null,
          body,
          signature: h['x-hub-signature'] as string | undefined,
          eventKey: h['x-event-key'] as string | undefined,
          requestUuid: h['x-request-uuid'] as string | undefined,
        })
        .then((answer) => send(req, res, requestId, started, answer.status, bodyOf(answer)))
        .catch(failed);
    });
  };

  return (req, res) => {
    const accountId = accountSegment(req.url ?? '');
    if (accountId === null) return false;
    const started = process.hrtime.bigint();
    const requestId = requestIdFor(req.headers['x-request-id'] as string | undefined);
    if (req.method === 'POST') {
      deliver(req, res, accountId, requestId, started);
    } else if (req.method === 'OPTIONS') {
      res.writeHead(200, { Allow: 'POST', 'Content-Length': '0', 'X-Request-Id': requestId });
      res.end();
    } else {
      req.resume();
      const path = (req.url ?? '').split('?')[0];
      send(req, res, requestId, started, 405, JSON.stringify({ error: { code: 'method_not_allowed', message: `${req.method} is not allowed on ${path}.` } }), { Allow: 'POST' });
    }
    return true;
  };
}
