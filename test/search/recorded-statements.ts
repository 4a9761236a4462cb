// An EntityManager that records every statement a search sends through it, those whose rows it
// streams (src/db/each-row.ts) too, and hands every row they return to an observer: for the tests
// that assert what a search reads.
import type { EntityManager } from 'typeorm';
import { streamRows, type RowStreaming } from '../../src/db/each-row';

export interface Statement {
  sql: string;
  params: unknown[];
}

/** `m`, with each statement sent through it added to `statements` before it runs, and each row it returns given to `onRow`. */
export function recording(m: EntityManager, statements: Statement[], onRow: (row: unknown) => void = () => undefined): EntityManager {
  const spy = Object.create(m) as EntityManager & RowStreaming;
  spy.query = (async (sql: string, params?: unknown[]) => {
    statements.push({ sql, params: params ?? [] });
    const rows = (await m.query(sql, params)) as unknown;
    if (Array.isArray(rows)) rows.forEach((row) => onRow(row));
    return rows;
  }) as EntityManager['query'];
  spy.eachRow = async <Row>(sql: string, params: unknown[], handle: (row: Row) => void) => {
    statements.push({ sql, params });
    return streamRows<Row>(m, sql, params, (row) => {
      onRow(row);
      handle(row);
    });
  };
  return spy;
}
