// Migrations in order. New schema changes are new files here, never edits of shipped ones.
import { Initial1764300000000 } from './1764300000000-initial';
import { InstallAttempts1764300000050 } from './1764300000050-install-attempts';
import { Index1764300000100 } from './1764300000100-index';
import { RepoLifecycle1764300000200 } from './1764300000200-repo-lifecycle';
import { SearchBlocks1764300000300 } from './1764300000300-search-blocks';
import { DeliveryDispatch1764300000400 } from './1764300000400-delivery-dispatch';
import { Reconcile1764300000550 } from './1764300000550-reconcile';
import { SearchPostings1764300000600 } from './1764300000600-search-postings';
import { DeliveryRecordLean1764300000610 } from './1764300000610-delivery-record-lean';
import { RepoWorkflowStarted1764300000620 } from './1764300000620-repo-workflow-started';
import { TextBlobsUtf81764300000700 } from './1764300000700-text-blobs-utf8';
import { RepoReportedSize1764300000710 } from './1764300000710-repo-reported-size';
import { BitbucketRestBudget1764300000720 } from './1764300000720-bitbucket-rest-budget';
import { SyncedWorkspaces1764300000730 } from './1764300000730-synced-workspaces';
import { RestBudgetFairness1764300000740 } from './1764300000740-rest-budget-fairness';
import { SearchBloomFilters1764300000750 } from './1764300000750-search-bloom-filters';
import { SearchQuadgramFilters1764300000760 } from './1764300000760-search-quadgram-filters';
import { IndexChanges1764300000770 } from './1764300000770-index-changes';

export const MIGRATIONS = [
  Initial1764300000000,
  InstallAttempts1764300000050,
  Index1764300000100,
  RepoLifecycle1764300000200,
  SearchBlocks1764300000300,
  DeliveryDispatch1764300000400,
  Reconcile1764300000550,
  SearchPostings1764300000600,
  DeliveryRecordLean1764300000610,
  RepoWorkflowStarted1764300000620,
  TextBlobsUtf81764300000700,
  RepoReportedSize1764300000710,
  BitbucketRestBudget1764300000720,
  SyncedWorkspaces1764300000730,
  RestBudgetFairness1764300000740,
  SearchBloomFilters1764300000750,
  SearchQuadgramFilters1764300000760,
  IndexChanges1764300000770,
];
