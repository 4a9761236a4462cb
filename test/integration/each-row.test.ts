// eachRow (src/db/each-row.ts), on the run's PostgreSQL: rows handed over as they arrive, in the
// manager's own transaction, and every failure (the statement's, the caller's) as a rejection that
// leaves the connection usable.
import type { DataSource } from 'typeorm';
import { eachRow } from '../../src/db/each-row';
import { openTestDb } from '../indexer/helpers';

let ds: DataSource;

beforeAll(async () => {
  ds = await openTestDb();
});

afterAll(async () => {
  await ds?.destroy();
});

it('hands each row over as it arrives: the first ones while PostgreSQL is still working on the last', async () => {
  // Three rows of 256 KB (more than a socket send holds back), the third after a 400 ms sleep.
  const sql = `SELECT i, repeat('x', 262144) AS text, CASE WHEN i = 3 THEN pg_sleep(0.4)::text END AS slept FROM generate_series(1, 3) AS i`;
  const arrived: Array<{ i: number; at: number }> = [];
  const t0 = performance.now();
  await ds.transaction('REPEATABLE READ', (m) => eachRow<{ i: number; text: string }>(m, sql, [], (row) => arrived.push({ i: row.i, at: performance.now() - t0 })));
  const ended = performance.now() - t0;
  expect(arrived.map((r) => r.i)).toEqual([1, 2, 3]);
  // Accumulated rows would all come at the end; streamed, the first comes before the sleep.
  expect(ended - arrived[0].at).toBeGreaterThan(300);
});

it("reads in the manager's transaction: its own uncommitted rows, its snapshot", async () => {
  const seen: string[] = [];
  await ds.transaction('REPEATABLE READ', async (m) => {
    await m.query(`CREATE TEMP TABLE each_row_probe (v text) ON COMMIT DROP`);
    await m.query(`INSERT INTO each_row_probe VALUES ('a'), ('b')`);
    await eachRow<{ v: string }>(m, `SELECT v FROM each_row_probe WHERE v <> $1 ORDER BY v`, ['z'], (row) => seen.push(row.v));
  });
  expect(seen).toEqual(['a', 'b']);
});

it("rejects with the statement's error, and with the first error the caller's handler threw, once the statement ended; the transaction goes on", async () => {
  await ds.transaction('REPEATABLE READ', async (m) => {
    await expect(eachRow(m, `SELECT 1 / (i - 2) FROM generate_series(1, 3) AS i`, [], () => undefined)).rejects.toThrow(/division by zero/);
  });
  const handled: number[] = [];
  const after = await ds.transaction('REPEATABLE READ', async (m) => {
    await expect(
      eachRow<{ i: number }>(m, `SELECT i FROM generate_series(1, 5) AS i`, [], (row) => {
        handled.push(row.i);
        if (row.i === 2) throw new Error('caller failed on row 2');
      }),
    ).rejects.toThrow('caller failed on row 2');
    return (await m.query(`SELECT 41 + 1 AS n`)) as Array<{ n: number }>;
  });
  expect(handled).toEqual([1, 2]); // none after the first error
  expect(after).toEqual([{ n: 42 }]);
});

it('outside a transaction, reads through the manager all the same', async () => {
  const seen: number[] = [];
  await eachRow<{ i: number }>(ds.manager, `SELECT i FROM generate_series(1, 3) AS i`, [], (row) => seen.push(row.i));
  expect(seen).toEqual([1, 2, 3]);
});
