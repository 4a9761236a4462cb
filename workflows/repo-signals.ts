// Messages of the repo workflow, shared by the API (which sends them) and the workflow.
import { defineQuery, defineSignal } from '@temporalio/workflow';

export interface PushEvent {
  /** The head Bitbucket reported; the workflow always indexes the branch's newest head anyway. */
  commit: string | null;
  deliveryId: string;
}

export const pushSignal = defineSignal<[PushEvent]>('push');
export const reindexSignal = defineSignal('reindex');
export const reauthorizedSignal = defineSignal('reauthorized');
export const deleteSignal = defineSignal('delete');

export interface RepoWorkflowStatus {
  phase: string;
  pendingPushes: number;
  lastIndexedCommit: string | null;
  lastError: string | null;
}

export const statusQuery = defineQuery<RepoWorkflowStatus>('status');
