// The one door from HTTP to Temporal: routes call these functions, so workflow ids, task queues,
// search attributes and summaries are set in one place.
import crypto from 'node:crypto';
import type { Client, Connection } from '@temporalio/client';
import { taskQueues, workflowIds, type TaskQueues } from '../../workflows/definitions';
import type { QueueReport } from '../../workflows/diagnostics';
import { temporalAnswers } from './client';

export class TemporalGateway {
  readonly queues: TaskQueues;

  constructor(
    readonly client: Client,
    readonly connection: Connection,
    taskQueuePrefix = '',
  ) {
    this.queues = taskQueues(taskQueuePrefix);
  }

  isReachable(): Promise<boolean> {
    return temporalAnswers(this.connection);
  }

  /** Runs the diagnostics workflow: one live worker per task queue, each reaching PostgreSQL. */
  async runDiagnostics(timeoutSeconds = 10): Promise<{ workflowId: string; queues: QueueReport[] }> {
    const workflowId = workflowIds.diagnostics(crypto.randomUUID());
    const queues = await this.client.workflow.execute('diagnostics', {
      workflowId,
      taskQueue: this.queues.control,
      args: [{ taskQueues: [this.queues.control, this.queues.indexing], timeoutSeconds }],
      workflowExecutionTimeout: `${timeoutSeconds + 20} seconds`,
      staticSummary: 'Worker diagnostics',
    });
    return { workflowId, queues: queues as QueueReport[] };
  }
}
