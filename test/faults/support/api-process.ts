// The API as a real child process (the compiled production entry point), so a test can kill -9
// it at a known moment. Compiled once per run by compiledProject().
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Config } from '../../../src/config';
import { ADMIN_TOKEN, ENCRYPTION_KEY } from '../../support/service';
import { compiledProject } from '../../support/worker-process';

const ROOT = path.resolve(__dirname, '../../..');

export interface ApiProcess {
  child: ChildProcess;
  output: () => string;
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

/** `node dist/src/api/main.js` with the environment of a test config (plus `extraEnv`), listening on config.port. */
export async function startApiProcess(config: Config, extraEnv: Record<string, string> = {}): Promise<ApiProcess> {
  const out = await compiledProject();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    NODE_PATH: path.join(ROOT, 'node_modules'),
    HOME: process.env.HOME ?? '/tmp',
    CODEWAZE_ADMIN_TOKEN: ADMIN_TOKEN,
    TOKEN_ENCRYPTION_KEY: ENCRYPTION_KEY,
    DATABASE_URL: config.databaseUrl,
    TEMPORAL_ADDRESS: config.temporal.address,
    CODEWAZE_PUBLIC_URL: config.publicUrl,
    BITBUCKET_URL: config.bitbucketUrl,
    BITBUCKET_API_URL: config.bitbucketApiUrl,
    DATA_DIR: config.dataDir,
    PORT: String(config.port),
    GIT_ALLOW_PRIVATE_HOSTS: String(config.gitAllowPrivateHosts),
    LETTUCE_TASK_QUEUE_PREFIX: config.taskQueuePrefix,
    REPO_PUSH_DEBOUNCE_MS: String(config.repoPushDebounceMs),
    LOG_LEVEL: 'info',
    ...(config.bitbucket ? { BITBUCKET_APP_CLIENT_ID: config.bitbucket.clientId, BITBUCKET_APP_CLIENT_SECRET: config.bitbucket.clientSecret } : {}),
    ...extraEnv,
  };
  let output = '';
  const child = spawn(process.execPath, [path.join(out, 'src/api/main.js')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 60_000;
  while (!output.includes('API listening')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`API did not start: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    output: () => output,
    kill9: async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
