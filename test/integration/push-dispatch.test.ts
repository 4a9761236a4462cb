// The webhook receiver's durable hand-off, against the real PostgreSQL: the DeliveryRecorder
// (batched INSERTs that still recognise every redelivered X-Request-UUID) and the PushDispatcher
// (one signal per repo for all its waiting pushes, deleted repos settled without a signal,
// failed signals left waiting and retried, other deployments' deliveries left alone).
// Temporal is replaced by a recording signaller here so each call can be counted and failed on
// demand; the real signal path runs in test/e2e/repos.test.ts and test/faults/api-crash.test.ts.
import crypto from 'node:crypto';
import type { DataSource } from 'typeorm';
import { createAccount } from '../../src/accounts/accounts';
import { openDatabase } from '../../src/db/data-source';
import { createLogger } from '../../src/logger';
import { SecretBox } from '../../src/security/secret-box';
import type { RepoMessage, RepoRef } from '../../src/repos/repo-workflows';
import { DeliveryRecorder, type DeliveryRecord } from '../../src/webhooks/delivery-recorder';
import { DELIVERY_RETENTION_DAYS, PushDispatcher, pushEventOf } from '../../src/webhooks/push-dispatcher';

let ds: DataSource;
let accountId: string;

class RecordingSignaller {
  calls: Array<{ repo: RepoRef; message: RepoMessage }> = [];
  failFor = new Set<string>();
  async signalRepo(repo: RepoRef, message: RepoMessage): Promise<void> {
    if (this.failFor.has(repo.id)) throw new Error('Temporal unavailable');
    this.calls.push({ repo, message });
  }
}

async function addRepo(name: string): Promise<string> {
  const [{ id }] = await ds.query(
    `INSERT INTO repos (account_id, source, source_key, name, clone_url, default_branch, status) VALUES ($1, 'bitbucket', $2, $3, 'https://bitbucket.org/x.git', 'main', 'ready') RETURNING id`,
    [accountId, `bitbucket:${name}:${crypto.randomUUID()}`, name],
  );
  return id;
}

const push = (repoId: string | null, commit: string | null, outcome: DeliveryRecord['outcome'] = 'accepted'): DeliveryRecord => ({
  requestUuid: crypto.randomUUID(),
  accountId,
  repoId,
  eventKey: 'repo:push',
  outcome,
  commit,
  branch: outcome === 'other_branch' ? 'feature' : null,
});

const waiting = async (prefix: string): Promise<number> =>
  (await ds.query(`SELECT count(*)::int AS n FROM webhook_deliveries WHERE task_queue_prefix = $1 AND outcome = 'accepted' AND dispatched_at IS NULL`, [prefix]))[0].n;

const newPrefix = () => `dispatch-${crypto.randomBytes(4).toString('hex')}-`;

beforeAll(async () => {
  ds = await openDatabase(process.env.TEST_DATABASE_URL!);
  const box = new SecretBox(Buffer.alloc(32, 7));
  ({ account: { id: accountId } } = await createAccount(ds, box, { name: 'Dispatch', ownerEmail: `dispatch-${crypto.randomUUID()}@example.test` }));
});

afterAll(async () => {
  await ds?.destroy();
});

describe('DeliveryRecorder', () => {
  it('records a burst in few statements and tells each caller whether its X-Request-UUID was new, even within one batch', async () => {
    const prefix = newPrefix();
    let accepted = 0;
    const recorder = new DeliveryRecorder(ds, prefix, () => accepted++);
    const repoId = await addRepo('burst');
    const firsts = Array.from({ length: 150 }, () => push(repoId, 'a'.repeat(40)));
    const again = firsts.slice(0, 50).map((d) => ({ ...d })); // redeliveries racing their originals
    const results = await Promise.all([...firsts, ...again].map((d) => recorder.record(d)));
    expect(results.slice(0, 150).every(Boolean)).toBe(true);
    expect(results.slice(150).some(Boolean)).toBe(false);
    expect(await waiting(prefix)).toBe(150);
    expect(accepted).toBeGreaterThanOrEqual(1);
    expect(accepted).toBeLessThan(150); // batched: one wake-up per committed batch, not per delivery

    // A later redelivery is recognised too, and an ignored delivery is recorded without waking anyone.
    const before = accepted;
    expect(await recorder.record({ ...firsts[0] })).toBe(false);
    expect(await recorder.record(push(null, null, 'unknown_repo'))).toBe(true);
    expect(accepted).toBe(before);
  });

  it('fails only the delivery PostgreSQL refused; the others of its batch are recorded', async () => {
    const recorder = new DeliveryRecorder(ds, newPrefix(), () => undefined);
    const gone = { ...push(null, null, 'unknown_repo'), accountId: crypto.randomUUID() }; // no such account (foreign key)
    const fine = Array.from({ length: 5 }, () => push(null, null, 'unknown_repo'));
    const results = await Promise.allSettled([fine[0], gone, ...fine.slice(1)].map((d) => recorder.record(d)));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect(results.filter((r) => r.status === 'fulfilled').every((r) => (r as PromiseFulfilledResult<boolean>).value)).toBe(true);
    expect(await recorder.record(push(null, null, 'unknown_repo'))).toBe(true); // and it goes on working
  });
});

describe('PushDispatcher', () => {
  it('signals each live repo once for all its waiting pushes and settles a deleted repo without a signal', async () => {
    const prefix = newPrefix();
    const recorder = new DeliveryRecorder(ds, prefix, () => undefined);
    const [steady, busy, gone] = [await addRepo('steady'), await addRepo('busy'), await addRepo('gone')];
    await ds.query(`UPDATE repos SET deleted_at = now() WHERE id = $1`, [gone]);
    const steadyPushes = Array.from({ length: 5 }, () => push(steady, 'b'.repeat(40)));
    const busyPushes = ['c', 'd', 'e'].map((c) => push(busy, c.repeat(40)));
    for (const d of [...steadyPushes, ...busyPushes, push(gone, 'f'.repeat(40))]) await recorder.record(d);
    const other = newPrefix(); // another deployment's delivery in the same database
    await new DeliveryRecorder(ds, other, () => undefined).record(push(steady, '0'.repeat(40)));

    const signaller = new RecordingSignaller();
    const dispatcher = new PushDispatcher(ds, prefix, signaller, createLogger('silent'));
    expect(await dispatcher.dispatchWaiting()).toEqual({ dispatched: 9, failed: 0 });
    const byRepo = new Map(signaller.calls.map((c) => [c.repo.id, c.message]));
    expect(signaller.calls).toHaveLength(2);
    expect(byRepo.get(steady)).toEqual({ kind: 'push', event: { commit: 'b'.repeat(40), deliveryId: steadyPushes[4].requestUuid } });
    // Different heads waiting: the event names none, so the workflow fetches the branch as it is now.
    expect(byRepo.get(busy)).toEqual({ kind: 'push', event: { commit: null, deliveryId: busyPushes[2].requestUuid } });
    expect(signaller.calls[0].repo).toMatchObject({ accountId });
    expect(await waiting(prefix)).toBe(0);
    expect(await waiting(other)).toBe(1);
    expect(await dispatcher.dispatchWaiting()).toEqual({ dispatched: 0, failed: 0 });
    expect(signaller.calls).toHaveLength(2);
  });

  it('leaves the pushes of a repo whose signal failed waiting, and delivers them on a later round', async () => {
    const prefix = newPrefix();
    const recorder = new DeliveryRecorder(ds, prefix, () => undefined);
    const [ok, failing] = [await addRepo('ok'), await addRepo('failing')];
    await recorder.record(push(ok, '1'.repeat(40)));
    await recorder.record(push(failing, '2'.repeat(40)));
    const signaller = new RecordingSignaller();
    signaller.failFor.add(failing);
    const dispatcher = new PushDispatcher(ds, prefix, signaller, createLogger('silent'));
    expect(await dispatcher.dispatchWaiting()).toEqual({ dispatched: 1, failed: 1 });
    expect(await waiting(prefix)).toBe(1);
    signaller.failFor.clear();
    expect(await dispatcher.dispatchWaiting()).toEqual({ dispatched: 1, failed: 0 });
    expect(signaller.calls.map((c) => c.repo.id)).toEqual([ok, failing]);
    expect(await waiting(prefix)).toBe(0);
  });

  it('signals a repo again only after the interval while it is pushed to in bursts, after a quarter of it when pushed to one delivery at a time; other repos go at once', async () => {
    const prefix = newPrefix();
    const recorder = new DeliveryRecorder(ds, prefix, () => undefined);
    const [bursty, steady, other] = [await addRepo('bursty'), await addRepo('steady'), await addRepo('other')];
    const signaller = new RecordingSignaller();
    const dispatcher = new PushDispatcher(ds, prefix, signaller, createLogger('silent'), { signalIntervalMs: 800 });
    await recorder.record(push(bursty, '5'.repeat(40)));
    await recorder.record(push(bursty, '6'.repeat(40)));
    await recorder.record(push(steady, '7'.repeat(40)));
    const first = Date.now();
    expect(await dispatcher.dispatchWaiting()).toEqual({ dispatched: 3, failed: 0 });

    await recorder.record(push(bursty, '8'.repeat(40)));
    await recorder.record(push(steady, '9'.repeat(40)));
    await recorder.record(push(other, 'a'.repeat(40)));
    const second = await dispatcher.dispatchWaiting();
    expect(second.dispatched).toBe(1); // only the repo not signalled a moment ago
    expect(signaller.calls.map((c) => c.repo.id)).toEqual([bursty, steady, other]);
    expect(second.deferredUntil).toBeGreaterThan(Date.now());
    expect(second.deferredUntil).toBeLessThanOrEqual(first + 200 + 50); // the steady repo's turn comes first (a quarter of 800 ms)
    expect(await waiting(prefix)).toBe(2);

    await new Promise((r) => setTimeout(r, second.deferredUntil! - Date.now() + 10));
    const third = await dispatcher.dispatchWaiting();
    expect(third.dispatched).toBe(1);
    expect(signaller.calls.at(-1)!.repo.id).toBe(steady);
    expect(third.deferredUntil).toBeGreaterThan(first + 700); // the bursty one waits the whole interval

    await new Promise((r) => setTimeout(r, third.deferredUntil! - Date.now() + 10));
    expect(await dispatcher.dispatchWaiting()).toEqual({ dispatched: 1, failed: 0 });
    expect(signaller.calls.at(-1)!.repo.id).toBe(bursty);
    expect(await waiting(prefix)).toBe(0);
  });

  it('running, it delivers a recorded push as soon as it is woken, and sweeps up what an earlier process left', async () => {
    const prefix = newPrefix();
    const repoId = await addRepo('live');
    const leftOver = push(repoId, '3'.repeat(40));
    await new DeliveryRecorder(ds, prefix, () => undefined).record(leftOver); // a process that died before signalling
    const signaller = new RecordingSignaller();
    const dispatcher = new PushDispatcher(ds, prefix, signaller, createLogger('silent'), { sweepMs: 60_000 });
    dispatcher.start();
    try {
      await waitFor(() => signaller.calls.length === 1);
      expect(signaller.calls[0].message).toEqual({ kind: 'push', event: { commit: leftOver.commit, deliveryId: leftOver.requestUuid } });
      const recorder = new DeliveryRecorder(ds, prefix, () => dispatcher.wake());
      const fresh = push(repoId, '4'.repeat(40));
      await recorder.record(fresh);
      await waitFor(() => signaller.calls.length === 2); // long before the 60 s sweep
      expect(signaller.calls[1].message).toEqual({ kind: 'push', event: { commit: fresh.commit, deliveryId: fresh.requestUuid } });
    } finally {
      await dispatcher.stop();
    }
  });
});

it('prunes settled deliveries past the retention, and keeps a push still waiting for its signal however old', async () => {
  const prefix = newPrefix();
  const recorder = new DeliveryRecorder(ds, prefix, () => undefined);
  const repoId = await addRepo('old');
  const [signalled, ignored, waitingOld, recent] = [push(repoId, '5'.repeat(40)), push(null, null, 'unknown_repo'), push(repoId, '6'.repeat(40)), push(repoId, '7'.repeat(40))];
  for (const d of [signalled, ignored, waitingOld, recent]) await recorder.record(d);
  const age = (d: DeliveryRecord, days: number) => ds.query(`UPDATE webhook_deliveries SET received_at = now() - make_interval(days => $2) WHERE request_uuid = $1`, [d.requestUuid, days]);
  await age(signalled, DELIVERY_RETENTION_DAYS + 1);
  await age(ignored, DELIVERY_RETENTION_DAYS + 1);
  await age(waitingOld, DELIVERY_RETENTION_DAYS + 30);
  await ds.query(`UPDATE webhook_deliveries SET dispatched_at = now() WHERE request_uuid = ANY($1)`, [[signalled.requestUuid, recent.requestUuid]]);

  const dispatcher = new PushDispatcher(ds, prefix, new RecordingSignaller(), createLogger('silent'));
  expect(await dispatcher.pruneOldDeliveries()).toBeGreaterThanOrEqual(2);
  const left: Array<{ request_uuid: string }> = await ds.query(`SELECT request_uuid FROM webhook_deliveries WHERE task_queue_prefix = $1 ORDER BY received_at`, [prefix]);
  expect(left.map((r) => r.request_uuid)).toEqual([waitingOld.requestUuid, recent.requestUuid]);
});

it('pushEventOf turns pushes to other branches into a hint naming the branches', () => {
  expect(pushEventOf([{ request_uuid: 'a', outcome: 'other_branch', commit: null, branch: 'main' }, { request_uuid: 'b', outcome: 'other_branch', commit: null, branch: 'main' }])).toEqual({
    commit: null, deliveryId: 'b', mainBranchMoved: false, mainBranchMayHaveChanged: true, branches: ['main'],
  });
  expect(pushEventOf([{ request_uuid: 'a', outcome: 'accepted', commit: 'x' }, { request_uuid: 'b', outcome: 'other_branch', commit: null, branch: 'dev' }])).toEqual({
    commit: 'x', deliveryId: 'b', mainBranchMayHaveChanged: true, branches: ['dev'],
  });
});

it('pushEventOf names the head only when every waiting delivery agrees on it', () => {
  expect(pushEventOf([{ request_uuid: 'a', commit: 'x' }, { request_uuid: 'b', commit: 'x' }])).toEqual({ commit: 'x', deliveryId: 'b' });
  expect(pushEventOf([{ request_uuid: 'a', commit: 'y' }, { request_uuid: 'b', commit: 'x' }])).toEqual({ commit: null, deliveryId: 'b' });
});

async function waitFor(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
