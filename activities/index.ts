// Activities are built from their dependencies (database, secrets, config): each takes ids,
// never credentials, and reads what it needs itself.
import type { DataSource } from 'typeorm';
import type { Config } from '../src/config';
import type { Logger } from '../src/logger';
import { createDiagnosticsActivities } from './diagnostics';

export interface ActivityDeps {
  ds: DataSource;
  config: Config;
  log: Logger;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...createDiagnosticsActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
