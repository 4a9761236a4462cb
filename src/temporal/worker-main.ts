// Worker process (production): polls the task queues in WORKER_TASK_QUEUES until SIGINT/SIGTERM,
// then lets in-flight activities finish within WORKER_SHUTDOWN_GRACE_SECONDS.
import { runProcess } from '../process-main';
import { installWorkerRuntime } from './runtime';

runProcess({
  name: 'Worker',
  before: (config, log) => installWorkerRuntime({ log, metricsAddress: config.workerMetricsAddress }),
  service: { api: false, workers: true },
  started: (service, config, log) =>
    log.info(
      { taskQueues: service.workers.map((w) => w.options.taskQueue), metrics: config.workerMetricsAddress ? `http://${config.workerMetricsAddress}/metrics` : null },
      'worker polling',
    ),
});
