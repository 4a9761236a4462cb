// BITBUCKET_REST_BUDGET in PostgreSQL (CONTRACT §13): every process's calls of one consumer share
// one rolling window; background work stops short of it, leaving the rest to user-facing calls,
// shares it fairly between accounts, and holds back after a 429. Two DataSources stand for two processes.
import crypto from 'node:crypto';
import type { DataSource } from 'typeorm';
import { PostgresRestBudget, RestBudgetSpentError, withRestCallKind, type RestBudget } from '../../src/bitbucket/rest-budget';
import { openTestDb } from '../indexer/helpers';

let a: DataSource;
let b: DataSource;
beforeAll(async () => {
  [a, b] = await Promise.all([openTestDb(), openTestDb()]);
});
afterAll(async () => {
  waits.abort();
  await Promise.all([a?.destroy(), b?.destroy()]);
});

const consumer = () => `https://api.example.test/2.0 ${crypto.randomBytes(6).toString('hex')}`;
/** Every wait still running when a test ends is cancelled (their loops would outlive the DataSources). */
const waits = new AbortController();
const take = (budget: RestBudget, account = 'acct-a') => budget.take(account, waits.signal);
const background = (budget: RestBudget, account = 'acct-a') => withRestCallKind('background', () => take(budget, account));

/** Taken within `ms`? (the budget answers at once when a call may go; a refusal is a no) */
async function within(ms: number, p: Promise<unknown>): Promise<boolean> {
  return Promise.race([
    p.then(
      () => true,
      () => false,
    ),
    new Promise<boolean>((r) => setTimeout(() => r(false), ms)),
  ]);
}

it('background calls stop at 90 % of the budget; user calls take the rest; the window rolls', async () => {
  const key = consumer();
  const budget = { calls: 10, windowMs: 1_500 };
  const [pa, pb] = [new PostgresRestBudget(a, budget, key), new PostgresRestBudget(b, budget, key)];
  // 9 background calls from two processes go at once…
  for (let i = 0; i < 9; i++) expect(await within(300, background(i % 2 ? pa : pb))).toBe(true);
  // …the 10th waits; a user call does not.
  const tenth = background(pa);
  expect(await within(300, tenth)).toBe(false);
  expect(await within(300, take(pb))).toBe(true);
  // The budget is a hard cap (Bitbucket's limit is right above it): a user call waits now, until
  // the window has rolled past the first calls.
  const started = Date.now();
  const user = take(pb);
  expect(await within(300, user)).toBe(false);
  await user;
  await tenth;
  expect(Date.now() - started).toBeGreaterThan(800);
});

it('leaves user-facing calls a reserve that grows with their demand', async () => {
  const key = consumer();
  const budget = new PostgresRestBudget(a, { calls: 20, windowMs: 60_000 }, key);
  for (let i = 0; i < 5; i++) expect(await within(300, take(budget))).toBe(true);
  // Users spent 5 in this window: background work keeps twice that free (not just the 2 of a tenth).
  for (let i = 0; i < 5; i++) expect(await within(300, background(budget))).toBe(true);
  expect(await within(300, background(budget))).toBe(false);
  for (let i = 0; i < 10; i++) expect(await within(300, take(budget))).toBe(true);
});

it('shares background work fairly: an account that has had its share waits while another account wants budget', async () => {
  const key = consumer();
  const budget = { calls: 11, windowMs: 2_000 }; // background cap 9: two accounts wanting it get 4.5 each
  const [pa, pb] = [new PostgresRestBudget(a, budget, key), new PostgresRestBudget(b, budget, key)];
  for (let i = 0; i < 9; i++) expect(await within(300, background(pa, 'busy'))).toBe(true);
  // The other account finds the budget spent: it waits, and says so.
  const other = Array.from({ length: 4 }, () => background(pb, 'other'));
  expect(await within(300, Promise.all(other))).toBe(false);
  // Once the window has rolled, the busy account gets no more than its share while the other waits.
  await new Promise((r) => setTimeout(r, 2_300));
  let busyTook = 0;
  for (let i = 0; i < 9; i++) if (await within(200, background(pa, 'busy'))) busyTook++;
  expect(busyTook).toBeLessThanOrEqual(5);
  expect(await within(3_000, Promise.all(other))).toBe(true);
}, 20_000);

it('after a 429, background calls of every process hold back a moment; user calls do not', async () => {
  const key = consumer();
  const budget = { calls: 100, windowMs: 60_000 };
  const [pa, pb] = [new PostgresRestBudget(a, budget, key), new PostgresRestBudget(b, budget, key)];
  await pa.rateLimited();
  const held = background(pb);
  expect(await within(400, held)).toBe(false);
  expect(await within(300, take(pb))).toBe(true);
  await held; // a second later
  // A 429 that follows within the minute holds longer (2 s, then 4 s, … at most 10 s).
  await pb.rateLimited();
  const started = Date.now();
  await background(pa);
  expect(Date.now() - started).toBeGreaterThan(1_500);
}, 20_000);

it('never lets more calls than the budget into one window, whatever the processes race', async () => {
  const key = consumer();
  const budget = { calls: 20, windowMs: 60_000 };
  const budgets = [new PostgresRestBudget(a, budget, key), new PostgresRestBudget(b, budget, key)];
  const taken: number[] = [];
  const attempts = Array.from({ length: 40 }, (_, i) =>
    within(
      1_500,
      take(budgets[i % 2]).then(() => taken.push(i)),
    ),
  );
  const settled = await Promise.all(attempts);
  expect(settled.filter(Boolean)).toHaveLength(20);
  expect(taken).toHaveLength(20);
});

it('a call whose budget frees up only later than a few seconds is refused with the wait, not held', async () => {
  const budget = new PostgresRestBudget(a, { calls: 1, windowMs: 60_000 }, consumer());
  await take(budget);
  const started = Date.now();
  const refused = await take(budget).then(
    () => null,
    (err: unknown) => err,
  );
  expect(refused).toBeInstanceOf(RestBudgetSpentError);
  expect((refused as RestBudgetSpentError).waitMs).toBeGreaterThan(55_000);
  expect((refused as RestBudgetSpentError).message).toMatch(/BITBUCKET_REST_BUDGET.*resume in about \d+ s/);
  expect(Date.now() - started).toBeLessThan(1_000);
});

it('consumers have budgets of their own', async () => {
  const budget = { calls: 2, windowMs: 60_000 };
  const one = new PostgresRestBudget(a, budget, consumer());
  const other = new PostgresRestBudget(b, budget, consumer());
  await take(one);
  await take(one);
  expect(await within(300, take(one))).toBe(false);
  expect(await within(300, take(other))).toBe(true);
});
