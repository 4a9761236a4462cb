// Diagnostics: asks one worker on each task queue to answer and to record itself in PostgreSQL,
// so an operator sees at once which queues have live workers that reach the database.
import { ActivityFailure, proxyActivities } from '@temporalio/workflow';
import type { DiagnosticsActivities, WorkerCheck } from '../activities/diagnostics';

export interface DiagnosticsInput {
  taskQueues: string[];
  /** How long a queue may go unanswered before it is reported as having no worker. */
  timeoutSeconds: number;
}

export type QueueReport = { taskQueue: string; ok: true; worker: WorkerCheck } | { taskQueue: string; ok: false; error: string };

export async function diagnostics(input: DiagnosticsInput): Promise<QueueReport[]> {
  return Promise.all(
    input.taskQueues.map(async (taskQueue): Promise<QueueReport> => {
      const { checkWorker } = proxyActivities<DiagnosticsActivities>({
        taskQueue,
        scheduleToCloseTimeout: `${input.timeoutSeconds} seconds`,
        startToCloseTimeout: '10 seconds',
        retry: { maximumAttempts: 3, initialInterval: '200 milliseconds' },
      });
      try {
        return { taskQueue, ok: true, worker: await checkWorker() };
      } catch (err) {
        const cause = err instanceof ActivityFailure ? (err.cause?.message ?? err.message) : String(err);
        return { taskQueue, ok: false, error: `No worker answered on ${taskQueue}: ${cause}` };
      }
    }),
  );
}
