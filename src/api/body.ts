// Request bodies: read raw with a hard size limit (1 MiB), then parse JSON and validate with zod,
// turning each failure into the contract's error (413, 400 invalid_json, 400 invalid_request).
import type { Context } from 'koa';
import type { z } from 'zod';
import { ApiError, errors } from './errors';

export const BODY_LIMIT_BYTES = 1024 * 1024;

export async function readRawBody(ctx: Context, limit = BODY_LIMIT_BYTES): Promise<Buffer> {
  const declared = Number(ctx.get('content-length') || 0);
  if (declared > limit) {
    ctx.req.resume(); // drain without buffering, so the client reads our answer
    throw errors.payloadTooLarge(limit);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      ctx.req.resume();
      throw errors.payloadTooLarge(limit);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
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
