// BITBUCKET_REST_BUDGET in PostgreSQL (CONTRACT §13): every process's calls of one consumer share
// one rolling window; background work stops short of it, leaving the rest to user-facing calls.
// Two DataSources stand for two processes.
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
const take = (budget: RestBudget) => budget.take(waits.signal);
const background = (budget: RestBudget) => withRestCallKind('background', () => take(budget));

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
  // The budget is spent: a user call waits too, until the window has rolled past the first calls.
  const started = Date.now();
  const user = take(pb);
  expect(await within(300, user)).toBe(false);
  await user;
  await tenth;
  expect(Date.now() - started).toBeGreaterThan(800);
});

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
