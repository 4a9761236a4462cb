// The RepoStarter against the real PostgreSQL: a repo added is answered before its workflow
// starts, so a start that did not happen (the API died, Temporal refused) must be made by the
// sweep — and only for rows that really wait for one. Temporal is replaced by a recording port so
// each start can be counted and failed on demand; the real path runs in test/e2e/repos.test.ts.
import crypto from 'node:crypto';
import type { DataSource } from 'typeorm';
import { createAccount } from '../../src/accounts/accounts';
import { openDatabase } from '../../src/db/data-source';
import { createLogger } from '../../src/logger';
import { RepoStarter } from '../../src/repos/repo-starter';
import type { RepoRef } from '../../src/repos/repo-workflows';
import { SecretBox } from '../../src/security/secret-box';

let ds: DataSource;
let accountId: string;

class RecordingStarts {
  started: RepoRef[] = [];
  refuse = false;
  inFlight = 0;
  mostInFlight = 0;
  async startRepo(repo: RepoRef): Promise<void> {
    if (this.refuse) throw new Error('Temporal unavailable');
    this.mostInFlight = Math.max(this.mostInFlight, ++this.inFlight);
    await new Promise((r) => setTimeout(r, 10));
    this.inFlight--;
    this.started.push(repo);
  }
}

/** A repo row as an add writes it (workflow not yet started), `ageSeconds` old. */
async function addedRepo(ageSeconds: number, extra: { deleted?: boolean; started?: boolean } = {}): Promise<string> {
  const name = `starter/${crypto.randomBytes(4).toString('hex')}`;
  const [{ id }] = await ds.query(
    `INSERT INTO repos (account_id, source, source_key, name, clone_url, created_at, workflow_started_at, deleted_at)
     VALUES ($1, 'url', $2, $3, 'https://example.test/x.git', now() - make_interval(secs => $4), $5, $6) RETURNING id`,
    [accountId, `url:${name}`, name, ageSeconds, extra.started ? new Date() : null, extra.deleted ? new Date() : null],
  );
  return id;
}

const startedAt = async (id: string) => (await ds.query(`SELECT workflow_started_at FROM repos WHERE id = $1`, [id]))[0].workflow_started_at;

beforeAll(async () => {
  ds = await openDatabase(process.env.TEST_DATABASE_URL!);
  ({ account: { id: accountId } } = await createAccount(ds, new SecretBox(Buffer.alloc(32, 7)), { name: 'Starter', ownerEmail: `starter-${crypto.randomUUID()}@example.test` }));
});

afterAll(async () => {
  await ds.query(`DELETE FROM repos WHERE account_id = $1`, [accountId]);
  await ds?.destroy();
});

it('starts just-added repos in the background, a few at a time, and records that it did', async () => {
  const starts = new RecordingStarts();
  const starter = new RepoStarter(ds, starts, createLogger('silent'), { concurrency: 2 });
  const ids = await Promise.all(Array.from({ length: 5 }, () => addedRepo(0)));
  for (const id of ids) starter.startSoon({ id, accountId, name: 'starter/now' });
  await starter.stop(); // waits for the starts in flight
  expect(starts.started.map((r) => r.id).sort()).toEqual([...ids].sort());
  expect(starts.mostInFlight).toBe(2);
  for (const id of ids) expect(await startedAt(id)).toBeInstanceOf(Date);
});

it('the sweep starts what waits past the grace period — not a fresh add, a started or a deleted repo — and retries a refused start', async () => {
  const starts = new RecordingStarts();
  const starter = new RepoStarter(ds, starts, createLogger('silent'), { graceMs: 10_000 });
  const lost = await addedRepo(60);
  const fresh = await addedRepo(1);
  const started = await addedRepo(60, { started: true });
  const deleted = await addedRepo(60, { deleted: true });

  starts.refuse = true; // Temporal down: nothing is marked, so the next sweep tries again
  await expect(starter.sweep()).rejects.toThrow('Temporal unavailable');
  expect(await startedAt(lost)).toBeNull();

  starts.refuse = false;
  await starter.sweep();
  const ids = starts.started.map((r) => r.id);
  expect(ids).toContain(lost);
  expect(ids).not.toContain(fresh);
  expect(ids).not.toContain(started);
  expect(ids).not.toContain(deleted);
  expect(starts.started.find((r) => r.id === lost)).toEqual({ id: lost, accountId, name: expect.stringMatching(/^starter\//) });
  expect(await startedAt(lost)).toBeInstanceOf(Date);
  expect(await startedAt(fresh)).toBeNull();

  // Once recorded, a repo is not started again.
  starts.started = [];
  await starter.sweep();
  expect(starts.started.map((r) => r.id)).not.toContain(lost);
});

it('holds the starts while add requests are being answered, then starts them — and holds none longer than holdMs', async () => {
  const starts = new RecordingStarts();
  const starter = new RepoStarter(ds, starts, createLogger('silent'), { holdMs: 60_000 });
  const [a, b] = await Promise.all([addedRepo(0), addedRepo(0)]);
  let finishSecond!: () => void;
  const second = starter.whileAdding(() => new Promise<void>((r) => (finishSecond = r)));
  await starter.whileAdding(async () => starter.startSoon({ id: a, accountId, name: 'starter/a' }));
  await new Promise((r) => setTimeout(r, 50));
  expect(starts.started).toEqual([]); // the second add is still being answered
  finishSecond();
  await second;
  await new Promise((r) => setTimeout(r, 50));
  expect(starts.started.map((r) => r.id)).toEqual([a]);

  // An add that never ends holds a start only for holdMs.
  const impatient = new RepoStarter(ds, starts, createLogger('silent'), { holdMs: 100 });
  void impatient.whileAdding(() => new Promise(() => {}));
  impatient.startSoon({ id: b, accountId, name: 'starter/b' });
  await new Promise((r) => setTimeout(r, 40));
  expect(starts.started.map((r) => r.id)).not.toContain(b);
  await new Promise((r) => setTimeout(r, 200));
  expect(starts.started.map((r) => r.id)).toContain(b);
  await Promise.all([starter.stop(), impatient.stop()]);
});
