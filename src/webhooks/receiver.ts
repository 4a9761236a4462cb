// The Bitbucket webhook receiver (CONTRACT §8), apart from HTTP: verify → parse → record. The
// signature is checked over the raw bytes before anything is parsed; a push is summarised for the
// repo it names and recorded (webhook_deliveries, a batched INSERT that also recognises a
// redelivered X-Request-UUID), and the answer is given only once that row is committed. No
// Temporal call happens here: the PushDispatcher signals each repo's workflow afterwards, once for
// everything it has waiting, so a crash after the answer loses nothing.
import crypto from 'node:crypto';
import type { DataSource } from 'typeorm';
import { webhookDeliveries } from '../metrics';
import type { SecretBox } from '../security/secret-box';
import { readWebhookSecret } from './account-secret';
import type { DeliveryRecorder } from './delivery-recorder';
import { cacheFound, type FoundCache } from './found-cache';
import { readPushDelivery, summarizePush } from './push-payload';
import { verifySignature } from './signature';

const SECRET_CACHE_MS = 60_000;
// Only found repos are cached, so a repo added a moment ago is never missed; a deleted one may be
// recorded for a few seconds more, and the dispatcher settles such pushes without a signal.
const REPO_CACHE_MS = 5_000;

export interface IncomingDelivery {
  /** The account of the webhook URL; null when the URL does not name one of ours. */
  accountId: string | null;
  body: Buffer;
  signature: string | undefined;
  eventKey: string | undefined;
  requestUuid: string | undefined;
}

export type ReceiverAnswer =
  | { status: 202 | 200; outcome: 'accepted' | 'duplicate' | 'ignored'; reason?: string }
  | { status: 401 | 400; outcome: 'invalid_signature' | 'malformed'; code: 'invalid_signature' | 'invalid_payload'; message: string };

interface PushTarget {
  id: string;
  defaultBranch: string | null;
}

export interface ReceiverDeps {
  ds: DataSource;
  box: SecretBox;
  deliveries: DeliveryRecorder;
}

// Outcome counters bound once: labels looked up per delivery cost more than the increment.
const counted = {
  accepted: webhookDeliveries.labels('accepted'),
  duplicate: webhookDeliveries.labels('duplicate'),
  ignored: webhookDeliveries.labels('ignored'),
  invalid_signature: webhookDeliveries.labels('invalid_signature'),
  malformed: webhookDeliveries.labels('malformed'),
};

const answer = <A extends ReceiverAnswer>(a: A): A => {
  counted[a.outcome].inc();
  return a;
};
const INVALID_SIGNATURE = { status: 401, outcome: 'invalid_signature', code: 'invalid_signature', message: 'The X-Hub-Signature does not match this payload.' } as const;
const MALFORMED = { status: 400, outcome: 'malformed', code: 'invalid_payload', message: 'The delivery is not a repo:push payload.' } as const;

export class WebhookReceiver {
  private readonly secrets: FoundCache<[accountId: string], crypto.KeyObject>;
  private readonly repos: FoundCache<[accountId: string, uuid: string | null, fullName: string | null], PushTarget>;

  constructor(private readonly deps: ReceiverDeps) {
    // Kept as a KeyObject: the HMAC then starts from the imported key rather than the string.
    this.secrets = cacheFound(SECRET_CACHE_MS, async (accountId: string) => {
      const secret = await readWebhookSecret(deps.ds, deps.box, accountId);
      return secret === null ? null : crypto.createSecretKey(Buffer.from(secret, 'utf8'));
    });
    this.repos = cacheFound(REPO_CACHE_MS, async (accountId: string, uuid: string | null, fullName: string | null) => {
      const rows: Array<{ id: string; default_branch: string | null }> = await deps.ds.query(
        `SELECT id, default_branch FROM repos WHERE account_id = $1 AND deleted_at IS NULL AND source = 'bitbucket'
           AND (bitbucket_uuid = $2 OR lower(name) = $3) LIMIT 1`,
        [accountId, uuid, fullName],
      );
      return rows[0] ? { id: rows[0].id, defaultBranch: rows[0].default_branch } : null;
    });
  }

  async receive(delivery: IncomingDelivery): Promise<ReceiverAnswer> {
    const { accountId } = delivery;
    const secret = accountId ? (this.secrets.peek(accountId) ?? (await this.secrets.load(accountId))) : null;
    if (!accountId || !secret || !verifySignature(delivery.body, delivery.signature, secret)) return answer(INVALID_SIGNATURE);
    const eventKey = delivery.eventKey ?? '';
    if (eventKey !== 'repo:push') return answer({ status: 202, outcome: 'ignored', reason: `event ${eventKey || '(none)'} is not handled` });

    const payload = readPushDelivery(delivery.body);
    if (!payload) return answer(MALFORMED);
    const { repositoryUuid, fullName } = payload;
    const repo = this.repos.peek(accountId, repositoryUuid, fullName) ?? (await this.repos.load(accountId, repositoryUuid, fullName));
    // Without a head to name, the workflow fetches whatever the main branch holds.
    const push = repo ? summarizePush(payload.changes, repo.defaultBranch) : null;
    const isNew = await this.deps.deliveries.record({
      requestUuid: delivery.requestUuid?.slice(0, 200) || crypto.randomUUID(),
      accountId,
      repoId: repo?.id ?? null,
      eventKey,
      outcome: push?.outcome ?? 'unknown_repo',
      commit: push?.commit ?? null,
      branch: push?.outcome === 'other_branch' ? push.branch : null,
    });
    if (!isNew) return answer({ status: 200, outcome: 'duplicate' });
    if (!push) return answer({ status: 202, outcome: 'ignored', reason: 'this repository is not added to Lettuce' });
    if (push.outcome !== 'accepted') return answer({ status: 202, outcome: 'ignored', reason: 'no push to the main branch' });
    return answer({ status: 202, outcome: 'accepted' });
  }
}
