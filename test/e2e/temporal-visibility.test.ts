// What operators see in the Temporal UI: every run findable by search attributes (account, repo,
// current status), static summaries naming the repo or account, current details on the repo
// workflow, summaries on its activities.
import { Client, Connection } from '@temporalio/client';
import { DEMO } from '../fakes/bitbucket/seed';
import { connect, startFakeAndService } from '../support/bitbucket';
import { isReadyAt, waitForRepo } from '../support/repos';
import { ADMIN_TOKEN, createAccount } from '../support/service';

async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 250));
  }
}

it('finds runs by LettuceAccountId, LettuceRepo and a current LettuceRepoStatus, with summaries and details', async () => {
  const { fake, svc, stop } = await startFakeAndService({ reachable: true });
  const connection = await Connection.connect({ address: process.env.TEST_TEMPORAL_ADDRESS });
  const client = new Client({ connection });
  const count = async (query: string) => {
    let n = 0;
    for await (const _ of client.workflow.list({ query })) n++;
    return n;
  };
  try {
    const { token, accountId } = await createAccount(svc, 'Visible Inc');
    await connect(svc, token);
    const res = await svc.request('POST', '/v1/repos', { token, body: { bitbucket: DEMO.repos.hello } });
    const id = res.body.repo.id;
    await waitForRepo(svc, token, id, isReadyAt());

    const byRepo = `LettuceRepo = "${DEMO.repos.hello}" AND LettuceAccountId = "${accountId}"`;
    expect(await eventually(() => count(`${byRepo} AND LettuceRepoStatus = "ready"`), (n) => n === 1)).toBe(1);
    expect(await eventually(() => count(`WorkflowType = "installBitbucket" AND LettuceAccountId = "${accountId}"`), (n) => n === 1)).toBe(1);

    // the status attribute follows the repo: a revoked grant and a re-index make it "failed"
    fake.revokeGrants(DEMO.user);
    await svc.request('POST', `/v1/repos/${id}/reindex`, { token });
    await waitForRepo(svc, token, id, (r) => r.status === 'failed');
    expect(await eventually(() => count(`LettuceAccountId = "${accountId}" AND LettuceRepoStatus = "failed"`), (n) => n === 1)).toBe(1);

    const admin = await svc.request('GET', `/v1/admin/repos/${id}`, { token: ADMIN_TOKEN });
    expect(admin.body).toMatchObject({ workflowId: `repo:${id}`, runId: expect.any(String), temporalUiUrl: expect.stringContaining(`/workflows/repo%3A${id}/`) });
    const handle = client.workflow.getHandle(`repo:${id}`);
    const description = await handle.describe();
    expect(await description.staticSummary()).toBe(`Repo ${DEMO.repos.hello}`);
    const metadata: any = await handle.query('__temporal_workflow_metadata');
    expect(metadata.currentDetails).toMatch(/failed/);
    expect(metadata.currentDetails).toMatch(/reconnected/);

    const history = await handle.fetchHistory();
    const summaries = history.events!.filter((e) => e.activityTaskScheduledEventAttributes).map((e) => Buffer.from(e.userMetadata?.summary?.data ?? []).toString());
    expect(summaries.join('\n')).toMatch(/webhook/);
    expect(summaries.join('\n')).toMatch(/fetch the newest head/);
  } finally {
    await connection.close();
    await stop();
  }
}, 120_000);
