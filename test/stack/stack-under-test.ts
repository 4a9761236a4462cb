// The compose stack (src/stack) wired to the fake Bitbucket, for `npm run test:stack` and the soak:
// the fake seeded with the demo data, the stack's API as its callback and webhook target, and an
// API client shaped like the tests' TestService so the usual helpers (connect, waitForRepo) work.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Connection, Client } from '@temporalio/client';
import { freePort } from '../../src/dev/processes';
import { projectRoot } from '../../src/dev/project-root';
import { Stack } from '../../src/stack/stack';
import { seedDemo } from '../fakes/bitbucket/seed';
import { startFakeBitbucket, type FakeBitbucket } from '../fakes/bitbucket/server';
import { serviceEnvFor } from '../fakes/bitbucket/service-env';
import { ADMIN_TOKEN, ENCRYPTION_KEY, sendRequest, type RequestOptions, type TestService } from '../support/service';

export const UI_ORIGIN = 'http://temporal-ui.example:8233';
export const PAYLOAD_KEY = `k1:${Buffer.alloc(32, 5).toString('base64')}`;

export interface StackUnderTest {
  fake: FakeBitbucket;
  stack: Stack;
  /** The stack's API as the tests' helpers expect a service. */
  api: TestService;
  temporal: Client;
  /** What the stack said while starting (the mappings among it). */
  said: string[];
  stop(): Promise<void>;
}

export async function startStackUnderTest(opts: { workers: number; env?: Record<string, string>; stackDir?: string; build?: boolean; say?: (line: string) => void }): Promise<StackUnderTest> {
  const fake = await startFakeBitbucket({ authorizeMode: 'auto-approve' });
  await seedDemo(fake);
  const port = await freePort();
  const said: string[] = [];
  const ownDir = !opts.stackDir;
  const stackDir = opts.stackDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'lettuce-stack-'));
  const removeOwnDir = () => ownDir && fs.rmSync(stackDir, { recursive: true, force: true });
  let stack: Stack;
  try {
    stack = await Stack.start({
      root: projectRoot(),
      stackDir,
      build: opts.build,
      env: {
        ...process.env,
        ...serviceEnvFor(fake, port),
        CODEWAZE_ADMIN_TOKEN: ADMIN_TOKEN,
        TOKEN_ENCRYPTION_KEY: ENCRYPTION_KEY,
        TEMPORAL_PAYLOAD_KEY: PAYLOAD_KEY,
        TEMPORAL_UI_PUBLIC_URL: UI_ORIGIN,
        WORKER_REPLICAS: String(opts.workers),
        LOG_LEVEL: 'info',
        ...opts.env,
      },
      say: (line) => (said.push(line), opts.say?.(line)),
    });
  } catch (err) {
    await fake.close();
    removeOwnDir();
    throw err;
  }
  fake.setCallbackUrl(`${stack.apiUrl}/v1/integrations/bitbucket/callback`);
  const connection = await Connection.connect({ address: '127.0.0.1:7233' });
  const api = {
    url: stack.apiUrl,
    responses: [],
    async request(method: string, route: string, o?: RequestOptions) {
      const { res, parsed } = await sendRequest(stack.apiUrl, method, route, o);
      return { status: res.status, body: parsed, headers: res.headers };
    },
  } as unknown as TestService;
  return {
    fake,
    stack,
    api,
    temporal: new Client({ connection }),
    said,
    stop: async () => {
      await connection.close().catch(() => undefined);
      await stack.stop();
      await fake.close();
      removeOwnDir();
    },
  };
}

/** For a bench run by hand: Ctrl-C (or SIGTERM) stops the stack's processes before the bench exits, leaving none behind. */
export function stopOnSignals(t: StackUnderTest): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => void t.stop().finally(() => process.exit(130)));
  }
}
