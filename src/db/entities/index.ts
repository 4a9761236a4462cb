import { Account } from './account';
import { ApiToken } from './api-token';
import { ProviderInstallation } from './provider-installation';
import { Repo } from './repo';
import { SyncedWorkspace } from './synced-workspace';
import { User } from './user';
import { WebhookDelivery } from './webhook-delivery';
import { WorkerHeartbeat } from './worker-heartbeat';

export { Account, ApiToken, ProviderInstallation, Repo, SyncedWorkspace, User, WebhookDelivery, WorkerHeartbeat };
export const ENTITIES = [Account, ApiToken, ProviderInstallation, Repo, SyncedWorkspace, User, WebhookDelivery, WorkerHeartbeat];
