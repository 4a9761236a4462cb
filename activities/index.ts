// Activities are built from their dependencies (database, secrets, config): each takes ids,
// never credentials, and reads what it needs itself.
import type { DataSource } from 'typeorm';
import type { BitbucketIntegration } from '../src/bitbucket/integration';
import type { Config } from '../src/config';
import type { Logger } from '../src/logger';
import { BackgroundGate } from '../src/repos/background-gate';
import type { SecretBox } from '../src/security/secret-box';
import { createDiagnosticsActivities } from './diagnostics';
import { createInstallActivities } from './install';
import { createReconcileActivities } from './reconcile';
import { createRepoActivities } from './repo';
import { createRepoIndexingActivities } from './repo-indexing';
import { createWorkspaceSyncActivities } from './workspace-sync';

export interface ActivityDeps {
  ds: DataSource;
  config: Config;
  log: Logger;
  box: SecretBox;
  bitbucket: BitbucketIntegration;
}

export function createActivities(deps: ActivityDeps) {
  const withGate = { ...deps, gate: new BackgroundGate(deps.ds) };
  return {
    ...createDiagnosticsActivities(deps),
    ...createInstallActivities(deps),
    ...createRepoActivities(deps),
    ...createReconcileActivities(withGate),
    ...createRepoIndexingActivities(withGate),
    ...createWorkspaceSyncActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
