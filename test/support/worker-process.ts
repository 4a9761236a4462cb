// A real worker process (the compiled production entry point), so tests can kill -9 it.
// The project is compiled once per test run into the run's temp dir.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../../src/config';
import { ADMIN_TOKEN, ENCRYPTION_KEY } from './service';

const ROOT = path.resolve(__dirname, '../..');

export async function compiledProject(): Promise<string> {
  const out = path.join(process.env.TEST_TMP_DIR!, 'build');
  if (fs.existsSync(path.join(out, 'src/temporal/worker-main.js'))) return out;
  await new Promise<void>((resolve, reject) =>
    execFile(
      process.execPath,
      [require.resolve('typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.build.json'), '--outDir', out, '--tsBuildInfoFile', path.join(out, '.tsbuildinfo')],
      { cwd: ROOT },
      (err, stdout) => (err ? reject(new Error(`tsc failed: ${stdout}`)) : resolve()),
    ),
  );
  return out;
}

export interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts `node dist/src/temporal/worker-main.js` with the environment of a test config. */
export async function startWorkerProcess(config: Config, extraEnv: Record<string, string> = {}): Promise<WorkerProcess> {
  const out = await compiledProject();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    // The build lives in the run's temp dir, outside the project: its packages come from here.
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
    GIT_ALLOW_PRIVATE_HOSTS: String(config.gitAllowPrivateHosts),
    LETTUCE_TASK_QUEUE_PREFIX: config.taskQueuePrefix,
    WORKFLOW_BUNDLE_PATH: process.env.TEST_WORKFLOW_BUNDLE!,
    WORKER_SHUTDOWN_GRACE_SECONDS: '1',
    LOG_LEVEL: 'info', // the readiness line 'worker polling' is logged at info
    ...(config.bitbucket ? { BITBUCKET_APP_CLIENT_ID: config.bitbucket.clientId, BITBUCKET_APP_CLIENT_SECRET: config.bitbucket.clientSecret } : {}),
    ...extraEnv,
  };
  let output = '';
  const child = spawn(process.execPath, [path.join(out, 'src/temporal/worker-main.js')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Ready once it logs that it polls.
  const deadline = Date.now() + 60_000;
  while (!output.includes('worker polling')) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL'); // a half-started worker must not outlive the test (nor keep jest alive)
      throw new Error(`worker did not start: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    child,
    output: () => output,
    kill9: async () => {
      child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
