// Names shared by the API, the worker and the workflows: task queues, workflow ids, search
// attributes. Pure module: safe inside the workflow bundle.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const CONTROL_QUEUE = 'lettuce-control';
export const INDEXING_QUEUE = 'lettuce-indexing';

export interface TaskQueues {
  control: string;
  indexing: string;
}

/** Task queue names; tests pass a prefix so each test file has queues of its own. */
export function taskQueues(prefix = ''): TaskQueues {
  return { control: `${prefix}${CONTROL_QUEUE}`, indexing: `${prefix}${INDEXING_QUEUE}` };
}

/** The indexing queue that belongs with a control queue (same prefix). */
export function indexingQueueFor(controlQueue: string): string {
  return controlQueue.endsWith(CONTROL_QUEUE)
    ? controlQueue.slice(0, -CONTROL_QUEUE.length) + INDEXING_QUEUE
    : INDEXING_QUEUE;
}

export const workflowIds = {
  install: (accountId: string, nonce: string): string => `bitbucket-install:${accountId}:${nonce}`,
  repo: (repoId: string): string => `repo:${repoId}`,
  diagnostics: (nonce: string): string => `diagnostics:${nonce}`,
  workspaceSync: (accountId: string, workspace: string): string => `workspace-sync:${accountId}:${workspace.toLowerCase()}`,
};

export const LettuceAccountId = defineSearchAttributeKey('LettuceAccountId', SearchAttributeType.KEYWORD);
export const LettuceRepo = defineSearchAttributeKey('LettuceRepo', SearchAttributeType.KEYWORD);
export const LettuceRepoStatus = defineSearchAttributeKey('LettuceRepoStatus', SearchAttributeType.KEYWORD);
/** The synced workspace (CONTRACT §13) a workspace-sync workflow keeps. */
export const LettuceWorkspace = defineSearchAttributeKey('LettuceWorkspace', SearchAttributeType.KEYWORD);
export const SEARCH_ATTRIBUTE_KEYS = [LettuceAccountId, LettuceRepo, LettuceRepoStatus, LettuceWorkspace];
