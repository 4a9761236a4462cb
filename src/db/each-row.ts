// A statement whose rows are handed over one at a time as they arrive, none kept: the caller works
// on a row while PostgreSQL sends the next ones (two processes, two cores), and each row's strings
// die young instead of living until the last row is in (a batch of search blocks is ~2 MB of text
// that V8's scavenger otherwise copies and promotes). On the EntityManager's own connection, so in
// its transaction.
import pg from 'pg';
import type { EntityManager, QueryRunner } from 'typeorm';

/** An EntityManager that runs such statements itself (a wrapper that records or times them: tests, the bench). */
export interface RowStreaming {
  eachRow?: <Row>(sql: string, params: unknown[], onRow: (row: Row) => void) => Promise<void>;
}

/** Runs `sql` and calls `onRow` with each row in order; rejects with the statement's error or the first one `onRow` throws. */
export async function eachRow<Row>(m: EntityManager & RowStreaming, sql: string, params: unknown[], onRow: (row: Row) => void): Promise<void> {
  if (m.eachRow) return m.eachRow(sql, params, onRow);
  return streamRows(m, sql, params, onRow);
}

/** eachRow on the manager's connection (what a wrapper's eachRow calls in the end). */
export async function streamRows<Row>(m: EntityManager, sql: string, params: unknown[], onRow: (row: Row) => void): Promise<void> {
  const runner = m.queryRunner as (QueryRunner & { connect(): Promise<pg.ClientBase> }) | undefined;
  if (!runner || runner.isReleased || typeof runner.connect !== 'function') {
    // Outside a transaction's runner: the rows all at once.
    for (const row of (await m.query(sql, params)) as Row[]) onRow(row);
    return;
  }
  const client = await runner.connect();
  await new Promise<void>((resolve, reject) => {
    let failed: unknown = null;
    const query = client.query(new pg.Query(sql, params));
    query.on('row', (row: Row) => {
      if (failed !== null) return;
      try {
        onRow(row);
      } catch (e) {
        failed = e; // the statement runs to its end (the connection stays usable), then the error is the caller's
      }
    });
    query.on('error', reject);
    query.on('end', () => (failed !== null ? reject(failed) : resolve()));
  });
}
