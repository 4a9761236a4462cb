// An EntityManager that records every statement a search sends through it, those whose rows it
// streams (src/db/each-row.ts) too: for the tests that assert what a search reads.
import type { EntityManager } from 'typeorm';
import { streamRows, type RowStreaming } from '../../src/db/each-row';

export interface Statement {
  sql: string;
  params: unknown[];
}

/** `m`, with each statement sent through it added to `statements` before it runs. */
export function recording(m: EntityManager, statements: Statement[]): EntityManager {
  const spy = Object.create(m) as EntityManager & RowStreaming;
  spy.query = (async (sql: string, params?: unknown[]) => {
    statements.push({ sql, params: params ?? [] });
    return m.query(sql, params);
  }) as EntityManager['query'];
  spy.eachRow = async <Row>(sql: string, params: unknown[], onRow: (row: Row) => void) => {
    statements.push({ sql, params });
    return streamRows(m, sql, params, onRow);
  };
  return spy;
}
