// Migrations in order. New schema changes are new files here, never edits of shipped ones.
import { Initial1764300000000 } from './1764300000000-initial';

export const MIGRATIONS = [Initial1764300000000];
