// Request bodies: read raw with a hard size limit (1 MiB), then parse JSON and validate with zod,
// turning each failure into the contract's error (413, 400 invalid_json, 400 invalid_request).
//
// An oversized body is answered only once it has fully arrived (read and dropped, never kept):
// a client still sending when the 413 goes out and the connection closes would get a reset or a
// broken pipe (EPIPE) instead of the answer. The draining is bounded — DRAIN_BYTES beyond the
// limit, within DRAIN_MS — and past that the 413 goes out at once and the connection is cut.
import type { IncomingMessage } from 'node:http';
import type { Context } from 'koa';
import type { z } from 'zod';
import { ApiError, errors } from './errors';

export const BODY_LIMIT_BYTES = 1024 * 1024;
/** How much of an oversized body is read and dropped, beyond the limit, before answering 413. */
export const DRAIN_BYTES = 16 * 1024 * 1024;
/** How long an oversized body may take to arrive before the 413 goes out anyway. */
export const DRAIN_MS = 10_000;

/**
 * Reads the body of `req`: `done(null, body)` with at most `limit` bytes, `done(null, null)` when
 * it is larger (once the rest has arrived and been dropped, or at once past the drain bounds; then
 * `req.complete` is false and the connection must not be reused), `done(err)` when the request
 * broke off. One chunk is used as it is, without a copy; callbacks rather than promises, since the
 * webhook receiver's hot path calls it (every promise costs an async hook there).
 */
export function readBody(req: IncomingMessage, limit: number, done: (err: Error | null, body: Buffer | null) => void): void {
  const drainEnd = limit + DRAIN_BYTES;
  let first: Buffer | null = null;
  let more: Buffer[] | null = null;
  let size = 0;
  let tooLarge = false;
  let timer: NodeJS.Timeout | undefined;
  let finished = false;
  const finish = (err: Error | null, body: Buffer | null) => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    req.off('data', onData);
    req.off('end', onEnd);
    req.off('error', onError);
    req.off('close', onClose);
    done(err, body);
  };
  const overflow = () => {
    tooLarge = true;
    first = more = null; // dropped, not kept
    timer = setTimeout(() => finish(null, null), DRAIN_MS);
  };
  const onData = (chunk: Buffer) => {
    size += chunk.length;
    if (tooLarge) {
      if (size > drainEnd) finish(null, null); // more than we drain for anyone: answer and cut
      return;
    }
    if (size > limit) overflow();
    else if (first === null) first = chunk;
    else (more ??= [first]).push(chunk);
  };
  const onEnd = () => finish(null, tooLarge ? null : more ? Buffer.concat(more, size) : (first ?? Buffer.alloc(0)));
  // A client gone while its oversized body was being dropped still gets (nobody reads) the 413.
  const onError = (err: Error) => finish(tooLarge ? null : err, null);
  const onClose = () => finish(tooLarge ? null : Object.assign(new Error('aborted'), { code: 'ECONNRESET' }), null);

  if (req.readableEnded || req.destroyed) {
    // Read already, or broken off: nothing more arrives.
    if (req.readableEnded) done(null, Buffer.alloc(0));
    else done(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }), null);
    return;
  }
  const declared = Number(req.headers['content-length'] || 0);
  if (declared > drainEnd) {
    done(null, null); // never drained: the answer goes out now and the connection is cut
    return;
  }
  if (declared > limit) overflow();
  req.on('data', onData);
  req.once('end', onEnd);
  req.once('error', onError);
  req.once('close', onClose);
}

export function readRawBody(ctx: Context, limit = BODY_LIMIT_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    readBody(ctx.req, limit, (err, body) => {
      if (err) reject(err);
      else if (body === null) reject(errors.payloadTooLarge(limit));
      else resolve(body);
    }),
  );
}

export function parseJson(raw: Buffer): unknown {
  if (raw.length === 0) throw errors.invalidJson();
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    throw errors.invalidJson();
  }
}

/** Names the first offending field, e.g. "ownerEmail must be an email address." */
export function describeZodError(error: z.ZodError, what = 'body'): string {
  const issue = error.issues[0];
  const field = issue.path.length ? issue.path.join('.') : what;
  return `${field}: ${issue.message}`.replace(/\.?$/, '.');
}

export async function readJson<T extends z.ZodTypeAny>(ctx: Context, schema: T): Promise<z.infer<T>> {
  // The body is JSON whatever Content-Type says: clients that forget the header still get the
  // precise answer (invalid_json / invalid_request) instead of a media-type error.
  const value = parseJson(await readRawBody(ctx));
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw errors.invalidRequest(describeZodError(parsed.error));
  return parsed.data;
}

export function parseQuery<T extends z.ZodTypeAny>(ctx: Context, schema: T): z.infer<T> {
  const parsed = schema.safeParse(ctx.query);
  if (!parsed.success) throw new ApiError(400, 'invalid_request', describeZodError(parsed.error, 'query'));
  return parsed.data;
}
