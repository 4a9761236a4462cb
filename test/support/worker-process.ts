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

/** A production entry point running as a child process of the test. */
export interface ServiceProcess {
  child: ChildProcess;
  output: () => string;
  kill9(): Promise<void>;
  stop(): Promise<void>;
}
export type WorkerProcess = ServiceProcess;

/** The environment a production process needs to run with a test config. */
export function processEnv(config: Config): Record<string, string> {
  return {
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
    PORT: String(config.port),
    GIT_ALLOW_PRIVATE_HOSTS: String(config.gitAllowPrivateHosts),
    LETTUCE_TASK_QUEUE_PREFIX: config.taskQueuePrefix,
    REPO_RECONCILE_INTERVAL: `${config.repoReconcileIntervalMs}ms`,
    MAX_REPO_SIZE: String(config.maxRepoSizeBytes),
    BITBUCKET_REST_BUDGET: `${config.bitbucketRestBudget.calls}/${config.bitbucketRestBudget.windowMs / 1000}s`,
    LOG_LEVEL: 'info', // the readiness lines ("worker polling", "API listening") are logged at info
    ...(config.bitbucket ? { BITBUCKET_APP_CLIENT_ID: config.bitbucket.clientId, BITBUCKET_APP_CLIENT_SECRET: config.bitbucket.clientSecret } : {}),
  };
}

/** Starts a compiled entry point (path under dist) and waits for the log line saying it is ready. */
export async function startServiceProcess(entry: string, readyLine: string, env: Record<string, string>): Promise<ServiceProcess> {
  const out = await compiledProject();
  let output = '';
  const child = spawn(process.execPath, [path.join(out, entry)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 60_000; // generous: CI runs several suites at once on 2 cores
  while (!output.includes(readyLine)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL'); // a half-started process must not outlive the test (nor keep jest alive)
      throw new Error(`${entry} did not start: ${output}`);
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

/** `node dist/src/temporal/worker-main.js` with the environment of a test config. */
export function startWorkerProcess(config: Config, extraEnv: Record<string, string> = {}): Promise<WorkerProcess> {
  return startServiceProcess('src/temporal/worker-main.js', 'worker polling', {
    ...processEnv(config),
    WORKFLOW_BUNDLE_PATH: process.env.TEST_WORKFLOW_BUNDLE!,
    WORKER_SHUTDOWN_GRACE_SECONDS: '1',
    ...extraEnv,
  });
}
