// The Bitbucket integration as the API and the activities use it: the configured consumer, the
// token service, and REST clients bound to an installation's tokens.
import type { DataSource } from 'typeorm';
import type { Config } from '../config';
import type { SecretBox } from '../security/secret-box';
import { BitbucketClient, type TokenSource } from './client';
import { DEFAULT_RETRY, type Fetch } from './http';
import { keepAliveFetch } from './keep-alive-fetch';
import { PostgresRestBudget, type RestBudget } from './rest-budget';
import type { OAuthConsumer } from './oauth';
import { TokenService } from './token-service';

export class BitbucketIntegration {
  readonly consumer: OAuthConsumer | null;
  readonly tokens: TokenService;
  /** BITBUCKET_REST_BUDGET, shared with every other process through PostgreSQL. */
  readonly budget: RestBudget;

  constructor(
    private readonly config: Config,
    ds: DataSource,
    box: SecretBox,
    readonly now: () => Date = () => new Date(),
    readonly doFetch: Fetch = keepAliveFetch,
  ) {
    this.consumer = config.bitbucket ? { siteUrl: config.bitbucketUrl, clientId: config.bitbucket.clientId, clientSecret: config.bitbucket.clientSecret } : null;
    this.tokens = new TokenService(ds, box, this.consumer, now, doFetch);
    this.budget = new PostgresRestBudget(ds, config.bitbucketRestBudget, `${config.bitbucketApiUrl} ${config.bitbucket?.clientId ?? ''}`);
  }

  get configured(): boolean {
    return this.consumer !== null;
  }

  /** A client bound to an installation's tokens; `accountId` (the installation's) shares the REST budget fairly. */
  clientFor(installationId: string, accountId = ''): BitbucketClient {
    return this.clientWith({ get: () => this.tokens.getAccessToken(installationId), afterRejection: (t) => this.tokens.afterRejection(installationId, t) }, accountId);
  }

  /** A client bound to the account's installation, found with its token in one read. */
  clientForAccount(accountId: string): BitbucketClient {
    let installationId = '';
    return this.clientWith({
      get: async () => {
        const found = await this.tokens.getAccessTokenOfAccount(accountId);
        installationId = found.installationId;
        return found.token;
      },
      afterRejection: (t) => this.tokens.afterRejection(installationId, t),
    }, accountId);
  }

  private clientWith(tokens: TokenSource, accountId: string): BitbucketClient {
    return new BitbucketClient(this.config.bitbucketApiUrl, tokens, this.doFetch, DEFAULT_RETRY, this.budget, accountId);
  }
}
