// The Bitbucket integration as the API and the activities use it: the configured consumer, the
// token service, and REST clients bound to an installation's tokens.
import type { DataSource } from 'typeorm';
import type { Config } from '../config';
import type { SecretBox } from '../security/secret-box';
import { BitbucketClient } from './client';
import type { Fetch } from './http';
import type { OAuthConsumer } from './oauth';
import { TokenService } from './token-service';

export class BitbucketIntegration {
  readonly consumer: OAuthConsumer | null;
  readonly tokens: TokenService;

  constructor(
    private readonly config: Config,
    ds: DataSource,
    box: SecretBox,
    readonly now: () => Date = () => new Date(),
    readonly doFetch: Fetch = fetch,
  ) {
    this.consumer = config.bitbucket ? { siteUrl: config.bitbucketUrl, clientId: config.bitbucket.clientId, clientSecret: config.bitbucket.clientSecret } : null;
    this.tokens = new TokenService(ds, box, this.consumer, now, doFetch);
  }

  get configured(): boolean {
    return this.consumer !== null;
  }

  clientFor(installationId: string): BitbucketClient {
    return new BitbucketClient(
      this.config.bitbucketApiUrl,
      { get: () => this.tokens.getAccessToken(installationId), afterRejection: (t) => this.tokens.afterRejection(installationId, t) },
      this.doFetch,
    );
  }
}
