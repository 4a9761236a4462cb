// Creates the workers for the configured task queues: `lettuce-control` runs the workflows and
// the cheap activities; `lettuce-indexing` runs clone and index, with low concurrency, so the two
// scale apart (CONTRACT §9).
import type { DataConverter } from '@temporalio/common';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities, type ActivityDeps } from '../../activities';
import { taskQueues, CONTROL_QUEUE } from '../../workflows/definitions';
import type { TaskQueueName } from '../config';
import { ActivityLogContextInterceptor } from './activity-logging';
import { TypedFailureInterceptor } from './failure-interceptor';
import { workflowSource } from './workflow-bundle';

export interface WorkerSetOptions {
  connection: NativeConnection;
  namespace: string;
  queues: TaskQueueName[];
  deps: ActivityDeps;
  shutdownGraceSeconds: number;
  /** Test isolation: prefixes both task queue names. */
  taskQueuePrefix?: string;
  workflowBundlePath?: string;
  /** Payload encryption (temporalDataConverter); the client must use the same. */
  dataConverter?: DataConverter;
}

export async function createWorkers(opts: WorkerSetOptions): Promise<Worker[]> {
  const names = taskQueues(opts.taskQueuePrefix);
  const activities = createActivities(opts.deps);
  const common: Pick<WorkerOptions, 'connection' | 'namespace' | 'activities' | 'interceptors' | 'shutdownGraceTime' | 'dataConverter'> = {
    connection: opts.connection,
    namespace: opts.namespace,
    activities,
    dataConverter: opts.dataConverter,
    interceptors: { activity: [(ctx) => ({ inbound: new ActivityLogContextInterceptor(ctx) }), () => ({ inbound: new TypedFailureInterceptor() })] },
    shutdownGraceTime: `${opts.shutdownGraceSeconds} seconds`,
  };
  return Promise.all(
    opts.queues.map(async (queue) =>
      queue === CONTROL_QUEUE
        ? Worker.create({ ...common, taskQueue: names.control, ...(await workflowSource(opts.workflowBundlePath, { encrypted: !!opts.dataConverter, log: opts.deps.log })) })
        : Worker.create({ ...common, taskQueue: names.indexing, maxConcurrentActivityTaskExecutions: 2 }),
    ),
  );
}
