// The one door from HTTP to Temporal: routes call these functions, so workflow ids, task queues,
// search attributes and summaries are set in one place.
import crypto from 'node:crypto';
import { ActivityFailure, ApplicationFailure, WorkflowFailedError, type Client, type Connection } from '@temporalio/client';
import { failureCode } from '../failures';
import { LettuceAccountId, LettuceRepo, LettuceRepoStatus, taskQueues, workflowIds, type TaskQueues } from '../../workflows/definitions';
import type { RepoWorkflowInput } from '../../workflows/repo';
import { deleteSignal, pushSignal, reauthorizedSignal, reindexSignal, type PushEvent } from '../../workflows/repo-signals';
import type { InstallResult } from '../../workflows/install-bitbucket';
import type { QueueReport } from '../../workflows/diagnostics';
import { temporalAnswers } from './client';

export class TemporalGateway {
  readonly queues: TaskQueues;

  constructor(
    readonly client: Client,
    readonly connection: Connection,
    taskQueuePrefix = '',
    private readonly repoReconcileIntervalMs?: number,
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
   * 'failed' (with the failure's code, e.g. consumer_not_private), or 'pending' when it is still
   * retrying (it may still succeed).
   */
  async runInstall(input: { accountId: string; accountName: string; nonce: string; attemptId: string }, waitMs = 25_000): Promise<{ outcome: 'connected' | 'failed' | 'pending'; result?: InstallResult; code?: string }> {
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
      if (err instanceof WorkflowFailedError) {
        const cause = err.cause instanceof ActivityFailure ? err.cause.cause : err.cause;
        return { outcome: 'failed', code: failureCode(cause instanceof ApplicationFailure ? cause.type : null) };
      }
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Start options of a repo's workflow: one place for its id, queue, search attributes and summary. */
  private repoWorkflowOptions(repo: RepoRef) {
    const input: RepoWorkflowInput = { repoId: repo.id, reconcileIntervalMs: this.repoReconcileIntervalMs };
    return {
      workflowId: workflowIds.repo(repo.id),
      taskQueue: this.queues.control,
      args: [input] as [RepoWorkflowInput],
      typedSearchAttributes: [
        { key: LettuceAccountId, value: repo.accountId },
        { key: LettuceRepo, value: repo.name.slice(0, 255) },
        { key: LettuceRepoStatus, value: 'pending' },
      ],
      staticSummary: `Repo ${repo.name}`.slice(0, 200),
    };
  }

  /** Starts the repo's workflow (or finds it running). */
  async startRepoWorkflow(repo: RepoRef): Promise<void> {
    await this.client.workflow.start('repo', { ...this.repoWorkflowOptions(repo), workflowIdConflictPolicy: 'USE_EXISTING' });
  }

  /** Signals the repo's workflow, starting it again if it is not running (signal-with-start). */
  async signalRepo(repo: RepoRef, message: RepoMessage): Promise<void> {
    const options = this.repoWorkflowOptions(repo);
    if (message.kind === 'push') {
      await this.client.workflow.signalWithStart('repo', { ...options, signal: pushSignal, signalArgs: [message.event] });
    } else {
      const signal = { reindex: reindexSignal, delete: deleteSignal, reauthorized: reauthorizedSignal }[message.kind];
      await this.client.workflow.signalWithStart('repo', { ...options, signal, signalArgs: [] });
    }
  }

  async describeRepoWorkflow(repoId: string): Promise<{ workflowId: string; runId: string | null }> {
    const workflowId = workflowIds.repo(repoId);
    try {
      const description = await this.client.workflow.getHandle(workflowId).describe();
      return { workflowId, runId: description.runId };
    } catch {
      return { workflowId, runId: null };
    }
  }
}

export interface RepoRef {
  id: string;
  accountId: string;
  name: string;
}

export type RepoMessage = { kind: 'push'; event: PushEvent } | { kind: 'reindex' | 'delete' | 'reauthorized' };
