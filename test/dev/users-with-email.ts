import { Client } from 'pg';

/** How many users the run's database holds with this email (how a test sees one account, not two). */
export async function usersWithEmail(address: string): Promise<number> {
  const client = new Client({ connectionString: process.env.TEST_DATABASE_URL });
  await client.connect();
  try {
    return Number((await client.query('SELECT count(*) AS n FROM users WHERE email = $1', [address])).rows[0].n);
  } finally {
    await client.end();
  }
}
