// The Bitbucket webhook receiver (CONTRACT §8): POST /v1/webhooks/bitbucket/{accountId}.
// The signature is checked over the raw bytes, in constant time, before anything is parsed. A
// valid push to the default branch is recorded (webhook_deliveries, in a batched INSERT that also
// recognises a redelivered X-Request-UUID) and answered as soon as the row is committed; no
// Temporal call happens on this path. The PushDispatcher then signals each repo's workflow once
// for everything it has waiting, so a crash after the answer loses nothing and a burst of
// deliveries costs one signal per repo, not one per delivery. Nothing is cloned here.
import crypto from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import { webhookDeliveries } from '../../metrics';
import { readRawBody } from '../body';
import type { AppDeps } from '../deps';
import { ApiError } from '../errors';
import { isUuid } from '../ids';
import { summarizePush } from '../../webhooks/push-payload';

const SECRET_CACHE_MS = 60_000;
// Only found repos are cached, so a repo added a moment ago is never missed; a deleted one may be
// recorded for a few seconds more, and the dispatcher settles such pushes without a signal.
const REPO_CACHE_MS = 5_000;

interface PushTarget {
  id: string;
  defaultBranch: string | null;
}

export function verifySignature(rawBody: Buffer, header: string | undefined, secret: string): boolean {
  const match = /^sha256=([0-9a-f]{64})$/i.exec(header ?? '');
  if (!match) return false;
  const expected = crypto.createHmac('sha256', secret).update(rawBody).digest();
  return crypto.timingSafeEqual(expected, Buffer.from(match[1], 'hex'));
}

/**
 * `load` with what it found kept for `ttlMs` per argument list; a miss (null) is never kept, so
 * something created a moment ago is found at once. At most 10,000 entries: a cache, not a registry.
 */
function cacheFound<A extends Array<string | null>, T>(ttlMs: number, load: (...args: A) => Promise<T | null>): (...args: A) => Promise<T | null> {
  const kept = new Map<string, { value: T; until: number }>();
  return async (...args) => {
    const key = args.join('|');
    const hit = kept.get(key);
    if (hit && hit.until > Date.now()) return hit.value;
    const value = await load(...args);
    if (value === null) return null;
    if (kept.size >= 10_000) kept.clear();
    kept.set(key, { value, until: Date.now() + ttlMs });
    return value;
  };
}

export function webhookRoutes(deps: AppDeps): Router {
  const router = new Router({ prefix: '/v1/webhooks/bitbucket' });
  const secretOf = cacheFound(SECRET_CACHE_MS, async (accountId: string) => {
    const rows: Array<{ webhook_secret: string }> = await deps.ds.query(`SELECT webhook_secret FROM accounts WHERE id = $1`, [accountId]);
    return rows[0] ? deps.box.open(rows[0].webhook_secret) : null;
  });
  const repoOf = cacheFound(REPO_CACHE_MS, async (accountId: string, uuid: string | null, fullName: string | null): Promise<PushTarget | null> => {
    const rows: Array<{ id: string; default_branch: string }> = await deps.ds.query(
      `SELECT id, default_branch FROM repos WHERE account_id = $1 AND deleted_at IS NULL AND source = 'bitbucket'
         AND (bitbucket_uuid = $2 OR lower(name) = $3) LIMIT 1`,
      [accountId, uuid, fullName],
    );
    return rows[0] ? { id: rows[0].id, defaultBranch: rows[0].default_branch } : null;
  });

  const answer = (ctx: Context, status: number, outcome: string, body: Record<string, unknown> = {}) => {
    webhookDeliveries.inc({ outcome });
    ctx.status = status;
    ctx.body = { outcome, ...body };
  };

  router.post('/:accountId', async (ctx) => {
    const raw = await readRawBody(ctx);
    const accountId = ctx.params.accountId;
    const secret = isUuid(accountId) ? await secretOf(accountId) : null;
    if (!secret || !verifySignature(raw, ctx.get('x-hub-signature') || undefined, secret)) {
      webhookDeliveries.inc({ outcome: 'invalid_signature' });
      throw new ApiError(401, 'invalid_signature', 'The X-Hub-Signature does not match this payload.');
    }
    const eventKey = ctx.get('x-event-key');
    const requestUuid = ctx.get('x-request-uuid').slice(0, 200) || crypto.randomUUID();
    if (eventKey !== 'repo:push') return answer(ctx, 202, 'ignored', { reason: `event ${eventKey || '(none)'} is not handled` });

    let payload: { repository?: { uuid?: string; full_name?: string }; push?: { changes?: unknown[] } };
    try {
      payload = JSON.parse(raw.toString('utf8'));
      if (!payload || typeof payload !== 'object' || !Array.isArray(payload.push?.changes)) throw new Error('shape');
    } catch {
      webhookDeliveries.inc({ outcome: 'malformed' });
      throw new ApiError(400, 'invalid_payload', 'The delivery is not a repo:push payload.');
    }

    const uuid = typeof payload.repository?.uuid === 'string' ? payload.repository.uuid : null;
    const fullName = typeof payload.repository?.full_name === 'string' ? payload.repository.full_name.toLowerCase() : null;
    const repo = await repoOf(accountId, uuid, fullName);
    // Without a head to name, the workflow fetches whatever the main branch holds.
    const push = repo ? summarizePush(payload.push!.changes!, repo.defaultBranch) : { outcome: 'unknown_repo' as const, commit: null, branch: null };
    const isNew = await deps.deliveries.record({ requestUuid, accountId, repoId: repo?.id ?? null, eventKey, outcome: push.outcome, commit: push.commit, branch: push.outcome === 'other_branch' ? push.branch : null });
    if (!isNew) return answer(ctx, 200, 'duplicate');
    if (push.outcome === 'unknown_repo') return answer(ctx, 202, 'ignored', { reason: 'this repository is not added to Lettuce' });
    if (push.outcome !== 'accepted') return answer(ctx, 202, 'ignored', { reason: 'no push to the main branch' });
    answer(ctx, 202, 'accepted');
  });
  return router;
}
