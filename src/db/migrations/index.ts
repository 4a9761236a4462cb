// Migrations in order. New schema changes are new files here, never edits of shipped ones.
import { Initial1764300000000 } from './1764300000000-initial';
import { InstallAttempts1764300000050 } from './1764300000050-install-attempts';

export const MIGRATIONS = [Initial1764300000000, InstallAttempts1764300000050];
