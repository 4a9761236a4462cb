// Messages of the repo workflow, shared by the API (which sends them) and the workflow.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { PushEvent } from '../src/repo-messages';

export type { PushEvent };

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
