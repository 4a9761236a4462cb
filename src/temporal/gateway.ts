// The one door to Temporal: routes call these functions, and the domain reaches repo workflows
// through the RepoWorkflows port this implements, so workflow ids, task queues, search
// attributes and summaries are set in one place. Each start names its workflow by the function
// itself (its type is the function's name), never by a string that could drift from it.
import crypto from 'node:crypto';
import { ActivityFailure, ApplicationFailure, WorkflowFailedError, WorkflowNotFoundError, type Client, type Connection } from '@temporalio/client';
import { failureCode } from '../failures';
import type { RepoMessage, RepoRef, RepoWorkflows } from '../repos/repo-workflows';
import { LettuceAccountId, LettuceRepo, LettuceRepoStatus, LettuceWorkspace, taskQueues, workflowIds, type TaskQueues } from '../../workflows/definitions';
import { diagnostics } from '../../workflows/diagnostics';
import { installBitbucket, type InstallResult } from '../../workflows/install-bitbucket';
import { repo } from '../../workflows/repo';
import { deleteSignal, pushSignal, reauthorizedSignal, reindexSignal, type PushEvent } from '../../workflows/repo-signals';
import { workspaceSync } from '../../workflows/workspace-sync';
import { resyncSignal, stopSyncSignal, workspaceReconnectedSignal } from '../../workflows/workspace-signals';
import { temporalAnswers } from './client';

/** What the workspace-sync workflow is told (CONTRACT §13). */
export type WorkspaceMessage = 'resync' | 'stop' | 'reconnected';

/** Temporal did not answer (or refused) a call whose answer was needed; not "no such workflow". */
export class TemporalUnavailableError extends Error {
  override name = 'TemporalUnavailableError';
}

export class TemporalGateway implements RepoWorkflows {
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
  async runDiagnostics(timeoutSeconds = 10): Promise<{ workflowId: string; queues: Awaited<ReturnType<typeof diagnostics>> }> {
    const workflowId = workflowIds.diagnostics(crypto.randomUUID());
    const queues = await this.client.workflow.execute(diagnostics, {
      workflowId,
      taskQueue: this.queues.control,
      args: [{ taskQueues: [this.queues.control, this.queues.indexing], timeoutSeconds }],
      workflowExecutionTimeout: `${timeoutSeconds + 20} seconds`,
      staticSummary: 'Worker diagnostics',
    });
    return { workflowId, queues };
  }

  /**
   * Runs installBitbucket for one OAuth callback and waits for it, at most `waitMs`: 'connected',
   * 'failed' (with the failure's code, e.g. consumer_not_private), or 'pending' when it is still
   * retrying (it may still succeed).
   */
  async runInstall(input: { accountId: string; accountName: string; nonce: string; attemptId: string }, waitMs = 25_000): Promise<{ outcome: 'connected' | 'failed' | 'pending'; result?: InstallResult; code?: string }> {
    const handle = await this.client.workflow.start(installBitbucket, {
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
      const result = await Promise.race([handle.result(), timeout]);
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
  private repoWorkflowOptions(ref: RepoRef) {
    const args: Parameters<typeof repo> = [{ repoId: ref.id, reconcileIntervalMs: this.repoReconcileIntervalMs }];
    return {
      workflowId: workflowIds.repo(ref.id),
      taskQueue: this.queues.control,
      args,
      typedSearchAttributes: [
        { key: LettuceAccountId, value: ref.accountId },
        { key: LettuceRepo, value: ref.name.slice(0, 255) },
        { key: LettuceRepoStatus, value: 'pending' },
      ],
      staticSummary: `Repo ${ref.name}`.slice(0, 200),
    };
  }

  async startRepo(ref: RepoRef): Promise<void> {
    await this.client.workflow.start(repo, { ...this.repoWorkflowOptions(ref), workflowIdConflictPolicy: 'USE_EXISTING' });
  }

  /**
   * A signal to the running workflow; one that is not running (it ended, or was never started)
   * starts again with the message (signal-with-start). The plain signal first: it is the common
   * case, and a smaller request than a signal-with-start (no start options to encode and check),
   * which matters when the push dispatcher sends one per repo every second of a burst.
   */
  async signalRepo(ref: RepoRef, message: RepoMessage): Promise<void> {
    const handle = this.client.workflow.getHandle<typeof repo>(workflowIds.repo(ref.id));
    const orStart = async (signal: () => Promise<void>, signalWithStart: () => Promise<unknown>) => {
      try {
        await signal();
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
        await signalWithStart();
      }
    };
    const options = this.repoWorkflowOptions(ref);
    if (message.kind === 'push') {
      const { event } = message;
      await orStart(() => handle.signal(pushSignal, event), () => this.client.workflow.signalWithStart<typeof repo, [PushEvent]>(repo, { ...options, signal: pushSignal, signalArgs: [event] }));
    } else {
      const signal = { reindex: reindexSignal, delete: deleteSignal, reauthorized: reauthorizedSignal }[message.kind];
      await orStart(() => handle.signal(signal), () => this.client.workflow.signalWithStart<typeof repo, []>(repo, { ...options, signal, signalArgs: [] }));
    }
  }

  /**
   * Tells a synced workspace's workflow something, starting it if it is not running (a workspace
   * just added, or one whose workflow ended): signal-with-start, so nothing is lost in between.
   */
  async signalWorkspace(ref: { accountId: string; workspace: string }, message: WorkspaceMessage): Promise<void> {
    const signal = { resync: resyncSignal, stop: stopSyncSignal, reconnected: workspaceReconnectedSignal }[message];
    const args: Parameters<typeof workspaceSync> = [{ accountId: ref.accountId, workspace: ref.workspace }];
    await this.client.workflow.signalWithStart<typeof workspaceSync, []>(workspaceSync, {
      workflowId: workflowIds.workspaceSync(ref.accountId, ref.workspace),
      taskQueue: this.queues.control,
      args,
      signal,
      signalArgs: [],
      typedSearchAttributes: [
        { key: LettuceAccountId, value: ref.accountId },
        { key: LettuceWorkspace, value: ref.workspace.slice(0, 255) },
      ],
      staticSummary: `Workspace ${ref.workspace}`.slice(0, 200),
    });
  }

  /** The repo workflow's current run; runId null when Temporal has no such workflow. */
  async describeRepoWorkflow(repoId: string): Promise<{ workflowId: string; runId: string | null }> {
    const workflowId = workflowIds.repo(repoId);
    try {
      const description = await this.client.workflow.getHandle(workflowId).describe();
      return { workflowId, runId: description.runId };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return { workflowId, runId: null };
      throw new TemporalUnavailableError(`Temporal could not describe ${workflowId}: ${(err as Error).message}`);
    }
  }
}
