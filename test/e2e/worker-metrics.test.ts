// WORKER_METRICS_ADDRESS: the worker runtime serves Temporal's worker metrics (task latencies,
// slots, polls) in Prometheus format on its own port, since a worker process has no HTTP server.
import { freePort } from '../../src/dev/processes';
import { ADMIN_TOKEN, startTestService, type TestService } from '../support/service';

let svc: TestService;
let address: string;

beforeAll(async () => {
  address = `127.0.0.1:${await freePort()}`;
  svc = await startTestService({ env: { WORKER_METRICS_ADDRESS: address } });
});
afterAll(() => svc?.stop());

async function scrape(): Promise<string> {
  const res = await fetch(`http://${address}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

it('serves temporal_ worker metrics once a workflow ran', async () => {
  expect(svc.config.workerMetricsAddress).toBe(address);
  const res = await svc.request('POST', '/v1/admin/diagnostics', { token: ADMIN_TOKEN });
  expect(res.status).toBe(200);
  const queue = `${svc.config.taskQueuePrefix}lettuce-control`;
  let text = '';
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    text = await scrape();
    if (/^temporal_workflow_completed\{[^}]*workflow_type="diagnostics"/m.test(text)) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  expect(text).toMatch(/^temporal_workflow_completed\{[^}]*workflow_type="diagnostics"/m);
  expect(text).toMatch(new RegExp(`^temporal_activity_execution_latency_(bucket|count)\\{[^}]*task_queue="${queue}"`, 'm'));
  expect(text).toMatch(/^temporal_workflow_task_execution_latency/m);
  expect(text).toMatch(/^temporal_worker_task_slots_available\{/m);
});
