// The codec server (Temporal's remote codec protocol): the Temporal UI, from the operator's
// browser, posts the payloads of a history to /codec/decode and sees them in clear; /codec/encode
// is its way back (e.g. a signal typed into the UI). Body and answer are
// {"payloads":[{"metadata":{"<key>":"<base64>"},"data":"<base64>"}]}.
// Only the Temporal UI's origin gets CORS; callers need the admin token (the UI forwards it with
// TEMPORAL_CODEC_PASS_ACCESS_TOKEN), unless CODEC_SERVER_AUTH=none (the dev stack). With payload
// encryption off, both routes answer 404 codec_disabled: there is nothing to decode.
import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import type { Payload } from '@temporalio/common';
import { EncryptionCodec } from '../../temporal/encryption-codec';
import { requireAdmin } from '../auth';
import { describeZodError, parseJson, readRawBody } from '../body';
import type { AppDeps } from '../deps';
import { ApiError, errors } from '../errors';

/** A UI page of history can carry many payloads of up to 2 MB each. */
export const CODEC_BODY_LIMIT_BYTES = 8 * 1024 * 1024;

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64');
const codecBody = z.object({
  payloads: z.array(z.object({ metadata: z.record(base64).nullish(), data: base64.nullish() })).max(10_000, 'must hold at most 10000 payloads'),
});
type PayloadJson = z.infer<typeof codecBody>['payloads'][number];

const fromJson = (p: PayloadJson): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data ?? '', 'base64'),
});

const toJson = (p: Payload): { metadata: Record<string, string>; data: string } => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')])),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

/** The Temporal UI's origin (and its other loopback spelling, as the dev stack prints 127.0.0.1). */
export function codecCorsOrigins(temporalUiUrl: string): Set<string> {
  const url = new URL(temporalUiUrl);
  const origins = new Set([url.origin]);
  const alias = { localhost: '127.0.0.1', '127.0.0.1': 'localhost' }[url.hostname];
  if (alias) origins.add(`${url.protocol}//${alias}${url.port ? `:${url.port}` : ''}`);
  return origins;
}

function cors(origins: Set<string>): Middleware {
  return async (ctx, next) => {
    ctx.vary('Origin');
    const origin = ctx.get('origin');
    if (origins.has(origin)) {
      ctx.set('Access-Control-Allow-Origin', origin);
      ctx.set('Access-Control-Allow-Credentials', 'true');
    }
    await next();
  };
}

function preflight(ctx: Context): void {
  if (ctx.response.get('Access-Control-Allow-Origin')) {
    ctx.set('Access-Control-Allow-Methods', 'POST, OPTIONS');
    ctx.set('Access-Control-Allow-Headers', 'content-type, x-namespace, authorization');
    ctx.set('Access-Control-Max-Age', '600');
  }
  ctx.status = 204;
}

export function codecRoutes(deps: AppDeps): Router {
  const router = new Router({ prefix: '/codec' });
  const codec = deps.config.payloadKeys ? new EncryptionCodec(deps.config.payloadKeys) : null;
  router.use(cors(codecCorsOrigins(deps.config.temporalUiUrl)));

  const enabled: Middleware = async (_ctx, next) => {
    if (!codec) throw new ApiError(404, 'codec_disabled', 'Payload encryption is off on this server (TEMPORAL_PAYLOAD_KEY is not set), so there is nothing to decode.');
    await next();
  };
  const auth: Middleware = deps.config.codecAuth === 'none' ? (_ctx, next) => next() : requireAdmin(deps);

  for (const op of ['decode', 'encode'] as const) {
    router.options(`/${op}`, preflight);
    router.post(`/${op}`, enabled, auth, async (ctx) => {
      const parsed = codecBody.safeParse(parseJson(await readRawBody(ctx, CODEC_BODY_LIMIT_BYTES)));
      if (!parsed.success) throw errors.invalidRequest(describeZodError(parsed.error));
      const payloads = parsed.data.payloads.map(fromJson);
      let result: Payload[];
      try {
        result = op === 'decode' ? await codec!.decode(payloads) : await codec!.encode(payloads);
      } catch (err) {
        throw new ApiError(400, 'decode_failed', (err as Error).message);
      }
      ctx.body = { payloads: result.map(toJson) };
    });
  }
  return router;
}
