// Messages of the workspace-sync workflow, shared by the API (which sends them) and the workflow.
import { defineQuery, defineSignal } from '@temporalio/workflow';

/** Sync now: the workspace was added again or its exclude patterns changed. */
export const resyncSignal = defineSignal('resync');
/** Bitbucket was reconnected: sync now, check the webhook, and try failed repo hooks again. */
export const workspaceReconnectedSignal = defineSignal('reconnected');
/** "Stop syncing" (the API has already hidden the workspace and released its repos). */
export const stopSyncSignal = defineSignal('stop');

export interface WorkspaceSyncStatus {
  phase: string;
  lastListing: { listed: number; selected: number; added: number; vanished: number } | null;
}

export const workspaceStatusQuery = defineQuery<WorkspaceSyncStatus>('status');
