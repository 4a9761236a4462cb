// The WorkspaceNudger against the real PostgreSQL: a workspace added or stopped while Temporal
// could not be told must still reach its workflow. Temporal is replaced by a recording port; the
// real path runs in test/e2e/workspaces.test.ts.
import crypto from 'node:crypto';
import type { DataSource } from 'typeorm';
import { createAccount } from '../../src/accounts/accounts';
import { openDatabase } from '../../src/db/data-source';
import { createLogger } from '../../src/logger';
import { SecretBox } from '../../src/security/secret-box';
import { WorkspaceNudger } from '../../src/workspaces/workspace-nudger';

let ds: DataSource;
let accountId: string;

beforeAll(async () => {
  ds = await openDatabase(process.env.TEST_DATABASE_URL!);
  ({ account: { id: accountId } } = await createAccount(ds, new SecretBox(Buffer.alloc(32, 7)), { name: 'Nudged', ownerEmail: `nudged-${crypto.randomUUID()}@example.test` }));
});
afterAll(async () => {
  await ds.query(`DELETE FROM synced_workspaces WHERE account_id = $1`, [accountId]);
  await ds?.destroy();
});

/** A synced_workspaces row as the routes leave it, last touched `ageSeconds` ago. */
async function workspaceRow(workspace: string, ageSeconds: number, state: { listed?: boolean; stopped?: boolean; failed?: boolean } = {}): Promise<void> {
  await ds.query(
    `INSERT INTO synced_workspaces (account_id, workspace, name, updated_at, last_synced_at, stopped_at, error_code)
     VALUES ($1, $2, $2, now() - make_interval(secs => $3), $4, $5, $6)`,
    [accountId, workspace, ageSeconds, state.listed ? new Date() : null, state.stopped ? new Date() : null, state.failed ? 'needs_reauth' : null],
  );
}

it('tells the workflow of a workspace never listed, or stopped, a minute on — and leaves the others alone', async () => {
  await workspaceRow('never-listed', 120);
  await workspaceRow('stopped', 120, { stopped: true });
  await workspaceRow('just-added', 5);
  await workspaceRow('listed', 120, { listed: true });
  await workspaceRow('failed', 120, { failed: true });
  const told: Array<{ workspace: string; message: string }> = [];
  const signalWorkspace = async (ref: { accountId: string; workspace: string }, message: string) => {
    if (ref.accountId === accountId) told.push({ workspace: ref.workspace, message }); // other test files share the database
  };
  const nudger = new WorkspaceNudger(ds, { signalWorkspace }, createLogger('silent'));
  await nudger.sweep();
  const mine = [...told];
  expect(mine.sort((a, b) => a.workspace.localeCompare(b.workspace))).toEqual([
    { workspace: 'never-listed', message: 'resync' },
    { workspace: 'stopped', message: 'stop' },
  ]);
});
