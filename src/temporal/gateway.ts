// The one door from HTTP to Temporal: routes call these functions, so workflow ids, task queues,
// search attributes and summaries are set in one place.
import crypto from 'node:crypto';
import { WorkflowFailedError, type Client, type Connection } from '@temporalio/client';
import { LettuceAccountId, taskQueues, workflowIds, type TaskQueues } from '../../workflows/definitions';
import type { InstallResult } from '../../workflows/install-bitbucket';
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

  /**
   * Runs installBitbucket for one OAuth callback and waits for it, at most `waitMs`: 'connected',
   * 'failed', or 'pending' when it is still retrying (it may still succeed).
   */
  async runInstall(input: { accountId: string; accountName: string; nonce: string; attemptId: string }, waitMs = 25_000): Promise<{ outcome: 'connected' | 'failed' | 'pending'; result?: InstallResult }> {
    const handle = await this.client.workflow.start('installBitbucket', {
      workflowId: workflowIds.install(input.accountId, input.nonce),
      taskQueue: this.queues.control,
      args: [{ accountId: input.accountId, attemptId: input.attemptId }],
      typedSearchAttributes: [{ key: LettuceAccountId, value: input.accountId }],
      staticSummary: `Connect Bitbucket for ${input.accountName}`.slice(0, 200),
      workflowExecutionTimeout: '10 minutes',
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'pending'>((resolve) => (timer = setTimeout(() => resolve('pending'), waitMs)));
    try {
      const result = await Promise.race([handle.result() as Promise<InstallResult>, timeout]);
      return result === 'pending' ? { outcome: 'pending' } : { outcome: 'connected', result };
    } catch (err) {
      if (err instanceof WorkflowFailedError) return { outcome: 'failed' };
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }
}
