// The rows of an UPDATE or DELETE … RETURNING. TypeORM's PostgreSQL driver answers those
// statements with [rows, affectedCount] (an INSERT or a SELECT with the rows alone), so their
// result must not be read as rows.
import type { DataSource, EntityManager } from 'typeorm';

export async function returning<Row>(db: DataSource | EntityManager, sql: string, params: unknown[]): Promise<Row[]> {
  if (!/^\s*(UPDATE|DELETE)\b/i.test(sql)) throw new Error('returning() reads UPDATE and DELETE statements only');
  const [rows] = (await db.query(sql, params)) as [Row[], number];
  return rows;
}
