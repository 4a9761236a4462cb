// A worker without a prebuilt bundle bundles the workflows at start: the log gets one line for
// it (size and time), not webpack's report of every module.
import { createLogger } from '../../src/logger';
import { workflowSource } from '../../src/temporal/workflow-bundle';

it('bundles the workflows at start with one log line', async () => {
  const lines: string[] = [];
  const log = createLogger('debug', { write: (s: string) => void lines.push(s) });
  const source = await workflowSource(undefined, { log });
  expect('code' in source.workflowBundle! && source.workflowBundle.code.length).toBeGreaterThan(100_000);
  const entries = lines.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  expect(entries).toHaveLength(1);
  expect(entries[0]).toMatchObject({ level: 30, msg: expect.stringMatching(/^Workflow bundle built \(\d+\.\d MiB in \d+\.\d s\)$/) });
  expect(lines.join('').length).toBeLessThan(300);
}, 60_000);
