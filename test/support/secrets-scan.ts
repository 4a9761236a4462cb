// Looks for secrets where they must never be: every row of every table, and Temporal histories.
import { Client as TemporalClient, Connection } from '@temporalio/client';
import { Client } from 'pg';

export async function dumpDatabase(): Promise<string> {
  const db = new Client({ connectionString: process.env.TEST_DATABASE_URL });
  await db.connect();
  try {
    const tables = await db.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public'`);
    const parts: string[] = [];
    for (const { tablename } of tables.rows) {
      const rows = await db.query(`SELECT * FROM "${tablename}"`);
      parts.push(JSON.stringify(rows.rows));
    }
    return parts.join('\n');
  } finally {
    await db.end();
  }
}

/** Every event of every workflow matching `query`, as JSON text (payloads base64-decoded too). */
export async function dumpHistories(query: string): Promise<{ text: string; workflows: number }> {
  const connection = await Connection.connect({ address: process.env.TEST_TEMPORAL_ADDRESS });
  try {
    const client = new TemporalClient({ connection });
    const parts: string[] = [];
    let workflows = 0;
    for await (const wf of client.workflow.list({ query })) {
      workflows++;
      const history = await client.workflow.getHandle(wf.workflowId, wf.runId).fetchHistory();
      const json = JSON.stringify(history, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : v));
      parts.push(json);
    }
    return { text: parts.join('\n'), workflows };
  } finally {
    await connection.close();
  }
}

export function findLeaks(haystack: string, secrets: string[]): string[] {
  return secrets.filter((s) => s.length >= 8 && haystack.includes(s));
}
