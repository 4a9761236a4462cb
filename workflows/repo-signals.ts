// Messages of the repo workflow, shared by the API (which sends them) and the workflow.
import { defineQuery, defineSignal } from '@temporalio/workflow';

export interface PushEvent {
  /** The head Bitbucket reported; the workflow always indexes the branch's newest head anyway. */
  commit: string | null;
  deliveryId: string;
  /** False when the pushes left the main branch alone (absent = it moved, as every push event before this field meant). */
  mainBranchMoved?: boolean;
  /** A push created or moved another branch, or deleted the main one: the repo's main branch may have changed. */
  mainBranchMayHaveChanged?: boolean;
  /** The branches those pushes touched (the receiver's idea of the main branch may be a few seconds old). */
  branches?: string[];
}

export const pushSignal = defineSignal<[PushEvent]>('push');
export const reindexSignal = defineSignal('reindex');
export const reauthorizedSignal = defineSignal('reauthorized');
export const deleteSignal = defineSignal('delete');
/** The repo's webhook coverage changed (its workspace's webhook came or went): check the repo's hook again. */
export const webhookChangedSignal = defineSignal('webhookChanged');

export interface RepoWorkflowStatus {
  phase: string;
  pendingPushes: number;
  lastIndexedCommit: string | null;
  lastError: string | null;
}

export const statusQuery = defineQuery<RepoWorkflowStatus>('status');
