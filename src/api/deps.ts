import type { DataSource } from 'typeorm';
import type { BitbucketIntegration } from '../bitbucket/integration';
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { SecretBox } from '../security/secret-box';
import type { TemporalGateway } from '../temporal/gateway';
import type { RepoStarter } from '../repos/repo-starter';
import type { AccountLimiter } from '../search/account-limiter';
import type { WebhookReceiver } from '../webhooks/receiver';

/** Everything the HTTP layer needs, built once per process. */
export interface AppDeps {
  config: Config;
  ds: DataSource;
  box: SecretBox;
  temporal: TemporalGateway;
  log: Logger;
  bitbucket: BitbucketIntegration;
  clock: () => Date;
  /** Verifies and records webhook deliveries; accepted pushes reach their workflows via the PushDispatcher. */
  receiver: WebhookReceiver;
  /** Starts the workflows of repos just added (and any start that did not happen). */
  starter: RepoStarter;
  /** Code searches per account at once (CONTRACT §14). */
  searches: AccountLimiter;
}
