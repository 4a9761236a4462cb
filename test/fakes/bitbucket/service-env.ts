// The environment that points a Lettuce service at a running fake Bitbucket: its OAuth consumer,
// its site and API, and git over loopback (the fake serves git on 127.0.0.1, which the service
// refuses unless told otherwise). Given the port the API will listen on, also the public URL
// Bitbucket delivers webhooks and OAuth callbacks to.
export interface FakeBitbucketAddress {
  clientId: string;
  clientSecret: string;
  siteUrl: string;
  apiUrl: string;
}

export function serviceEnvFor(fake: FakeBitbucketAddress, apiPort?: number): Record<string, string> {
  const env: Record<string, string> = {
    BITBUCKET_APP_CLIENT_ID: fake.clientId,
    BITBUCKET_APP_CLIENT_SECRET: fake.clientSecret,
    BITBUCKET_URL: fake.siteUrl,
    BITBUCKET_API_URL: fake.apiUrl,
    GIT_ALLOW_PRIVATE_HOSTS: 'true',
  };
  if (apiPort !== undefined) Object.assign(env, { PORT: String(apiPort), CODEWAZE_PUBLIC_URL: `http://127.0.0.1:${apiPort}` });
  return env;
}
