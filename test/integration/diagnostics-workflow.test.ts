// A real workflow on the real Temporal server, with activities on both task queues writing to
// the real PostgreSQL: the operator's diagnostics route.
import { Client } from 'pg';
import { ADMIN_TOKEN, startTestService, testConfig } from '../support/service';

async function heartbeatsFor(taskQueue: string): Promise<number> {
  const db = new Client({ connectionString: process.env.TEST_DATABASE_URL });
  await db.connect();
  try {
    const res = await db.query('SELECT count(*)::int AS n FROM worker_heartbeats WHERE task_queue = $1', [taskQueue]);
    return res.rows[0].n;
  } finally {
    await db.end();
  }
}

it('runs the diagnostics workflow on both task queues and records each worker in PostgreSQL', async () => {
  const svc = await startTestService();
  try {
    const res = await svc.request('POST', '/v1/admin/diagnostics', { token: ADMIN_TOKEN });
    expect(res.status).toBe(200);
    const { control, indexing } = { control: `${svc.config.taskQueuePrefix}lettuce-control`, indexing: `${svc.config.taskQueuePrefix}lettuce-indexing` };
    expect(res.body.workflowId).toMatch(/^diagnostics:/);
    expect(res.body.queues).toEqual([
      { taskQueue: control, ok: true, worker: expect.objectContaining({ taskQueue: control, git: expect.stringMatching(/^git version/) }) },
      { taskQueue: indexing, ok: true, worker: expect.objectContaining({ taskQueue: indexing }) },
    ]);
    expect(await heartbeatsFor(control)).toBe(1);
    expect(await heartbeatsFor(indexing)).toBe(1);
  } finally {
    await svc.stop();
  }
});

it('reports a task queue without workers as not ok (503)', async () => {
  const svc = await startTestService({ config: testConfig({ WORKER_TASK_QUEUES: 'lettuce-control' }) });
  try {
    const res = await svc.request('POST', '/v1/admin/diagnostics', { token: ADMIN_TOKEN });
    expect(res.status).toBe(503);
    expect(res.body.queues[0].ok).toBe(true);
    expect(res.body.queues[1]).toEqual({ taskQueue: `${svc.config.taskQueuePrefix}lettuce-indexing`, ok: false, error: expect.stringMatching(/^No worker answered/) });
  } finally {
    await svc.stop();
  }
}, 90_000);

it('refuses the diagnostics route without the admin token', async () => {
  const svc = await startTestService({ workers: false });
  try {
    expect((await svc.request('POST', '/v1/admin/diagnostics')).status).toBe(401);
  } finally {
    await svc.stop();
  }
});
