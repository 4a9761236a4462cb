// /readyz follows Temporal: 200 while it answers, 503 naming the failed check once it is gone.
import { startTemporalOnFreePort } from '../../src/dev/temporal-server';
import { startTestService, testConfig } from '../support/service';

it('answers 503 with temporal "down" when the Temporal server stops', async () => {
  const temporal = await startTemporalOnFreePort({ cliPath: process.env.TEST_TEMPORAL_CLI!, uiPort: null });
  const svc = await startTestService({ config: testConfig({ TEMPORAL_ADDRESS: temporal.address }), workers: false });
  try {
    expect((await svc.request('GET', '/readyz')).status).toBe(200);
    await temporal.stop();
    const res = await svc.request('GET', '/readyz');
    expect(res.status).toBe(503);
    expect(res.body).toEqual({ status: 'not_ready', checks: { database: 'ok', temporal: 'down' } });
    expect((await svc.request('GET', '/healthz')).status).toBe(200);
  } finally {
    await svc.stop();
    await temporal.stop();
  }
});
