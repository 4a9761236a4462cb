// The Bitbucket webhook receiver (CONTRACT §8): POST /v1/webhooks/bitbucket/{accountId}.
// The signature is checked over the raw bytes, in constant time, before anything is parsed. A
// valid push to the default branch signals the repo's workflow (signal-with-start) and answers at
// once; nothing is cloned here. The delivery is recorded only after the signal went out, so if
// this process dies in between, Bitbucket's retry is processed rather than dropped as a duplicate
// (the workflow itself ignores a delivery id it has already seen).
import crypto from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import { webhookDeliveries } from '../../metrics';
import { findLiveRepo } from '../../repos/repo-store';
import { readRawBody } from '../body';
import type { AppDeps } from '../deps';
import { ApiError } from '../errors';
import { isUuid } from '../ids';
import { Repo } from '../../db/entities';

const SECRET_CACHE_MS = 60_000;

interface PushChange {
  new?: { type?: string; name?: string; target?: { hash?: string } } | null;
}

export function verifySignature(rawBody: Buffer, header: string | undefined, secret: string): boolean {
  const match = /^sha256=([0-9a-f]{64})$/i.exec(header ?? '');
  if (!match) return false;
  const expected = crypto.createHmac('sha256', secret).update(rawBody).digest();
  return crypto.timingSafeEqual(expected, Buffer.from(match[1], 'hex'));
}

export function webhookRoutes(deps: AppDeps): Router {
  const router = new Router({ prefix: '/v1/webhooks/bitbucket' });
  const secrets = new Map<string, { secret: string; until: number }>();

  async function secretOf(accountId: string): Promise<string | null> {
    const cached = secrets.get(accountId);
    if (cached && cached.until > Date.now()) return cached.secret;
    const rows: Array<{ webhook_secret: string }> = await deps.ds.query(`SELECT webhook_secret FROM accounts WHERE id = $1`, [accountId]);
    if (!rows[0]) return null;
    const secret = deps.box.open(rows[0].webhook_secret);
    secrets.set(accountId, { secret, until: Date.now() + SECRET_CACHE_MS });
    return secret;
  }

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

    let payload: { repository?: { uuid?: string; full_name?: string }; push?: { changes?: PushChange[] } };
    try {
      payload = JSON.parse(raw.toString('utf8'));
      if (!payload || typeof payload !== 'object' || !Array.isArray(payload.push?.changes)) throw new Error('shape');
    } catch {
      webhookDeliveries.inc({ outcome: 'malformed' });
      throw new ApiError(400, 'invalid_payload', 'The delivery is not a repo:push payload.');
    }

    const seen = await deps.ds.query(`SELECT 1 FROM webhook_deliveries WHERE request_uuid = $1`, [requestUuid]);
    if (seen.length > 0) return answer(ctx, 200, 'duplicate');

    const uuid = typeof payload.repository?.uuid === 'string' ? payload.repository.uuid : null;
    const fullName = typeof payload.repository?.full_name === 'string' ? payload.repository.full_name.toLowerCase() : null;
    const rows: Array<{ id: string }> = await deps.ds.query(
      `SELECT id FROM repos WHERE account_id = $1 AND deleted_at IS NULL AND source = 'bitbucket'
         AND (bitbucket_uuid = $2 OR lower(name) = $3) LIMIT 1`,
      [accountId, uuid, fullName],
    );
    const repo: Repo | null = rows[0] ? await findLiveRepo(deps.ds, rows[0].id) : null;
    const record = (outcome: string) =>
      deps.ds.query(
        `INSERT INTO webhook_deliveries (request_uuid, account_id, repo_id, event_key, outcome, received_at) VALUES ($1, $2, $3, $4, $5, now()) ON CONFLICT DO NOTHING`,
        [requestUuid, accountId, repo?.id ?? null, eventKey, outcome],
      );
    if (!repo) {
      await record('unknown_repo');
      return answer(ctx, 202, 'ignored', { reason: 'this repository is not added to Lettuce' });
    }
    const change = payload.push!.changes!.find((c) => c?.new?.type === 'branch' && c.new.name === repo.defaultBranch);
    if (!change) {
      await record('other_branch');
      return answer(ctx, 202, 'ignored', { reason: 'no push to the default branch' });
    }
    const commit = typeof change.new?.target?.hash === 'string' ? change.new.target.hash : null;
    await deps.temporal.signalRepo(repo, { kind: 'push', event: { commit, deliveryId: requestUuid } });
    await record('accepted');
    answer(ctx, 202, 'accepted');
  });
  return router;
}
