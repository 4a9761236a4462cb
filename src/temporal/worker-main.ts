// Worker process (production): polls the task queues in WORKER_TASK_QUEUES until SIGINT/SIGTERM,
// then lets in-flight activities finish within WORKER_SHUTDOWN_GRACE_SECONDS.
import { loadConfigOrExit } from '../config';
import { createLogger } from '../logger';
import { startService } from '../service';
import { installWorkerRuntime } from './runtime';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const log = createLogger(config.logLevel);
  installWorkerRuntime({ log, metricsAddress: config.workerMetricsAddress });
  const service = await startService({ config, log, api: false, workers: true });
  log.info({ taskQueues: service.workers.map((w) => w.options.taskQueue), metrics: config.workerMetricsAddress ? `http://${config.workerMetricsAddress}/metrics` : null }, 'worker polling');
  const shutdown = (signal: string) => {
    log.info({ signal }, 'worker shutting down; in-flight activities get the grace time');
    service.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((err: Error) => {
  process.stderr.write(`Worker failed to start: ${err.message}\n`);
  process.exit(1);
});
