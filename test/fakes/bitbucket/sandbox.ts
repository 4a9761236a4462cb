// Runs the fake Bitbucket with the demo data, for trying the service by hand:
//   npm run sandbox:bitbucket
// FAKE_BITBUCKET_PORT (default 9100), CODEWAZE_PUBLIC_URL (default http://localhost:8080).
import { seedDemo, DEMO } from './seed';
import { startFakeBitbucket } from './server';

async function main(): Promise<void> {
  const port = Number(process.env.FAKE_BITBUCKET_PORT ?? 9100);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`FAKE_BITBUCKET_PORT is not a port: ${process.env.FAKE_BITBUCKET_PORT}`);
  const publicUrl = (process.env.CODEWAZE_PUBLIC_URL ?? 'http://localhost:8080').replace(/\/+$/, '');
  const fake = await startFakeBitbucket({ port, callbackUrl: `${publicUrl}/v1/integrations/bitbucket/callback` });
  await seedDemo(fake);

  const ctl = `${fake.siteUrl}/_fake`;
  console.log(`Fake Bitbucket Cloud listening on ${fake.siteUrl} (bare repos in ${fake.dataDir})
OAuth callback registered: ${fake.getCallbackUrl()}
Logged-in Bitbucket user: ${DEMO.user} ("${DEMO.displayName}"); the authorize page asks you to approve.

Start the service against it with:

  export BITBUCKET_URL=${fake.siteUrl}
  export BITBUCKET_API_URL=${fake.apiUrl}
  export BITBUCKET_APP_CLIENT_ID=${fake.clientId}
  export BITBUCKET_APP_CLIENT_SECRET=${fake.clientSecret}
  export GIT_ALLOW_PRIVATE_HOSTS=true
  export CODEWAZE_PUBLIC_URL=${publicUrl}

Repos: ${Object.values(DEMO.repos).join(', ')}
  (${DEMO.repos.contributorOnly} is write-only for demo: webhook creation gets 403;
   ${DEMO.repos.readOnly} is read-only: not offered; ${DEMO.repos.public} is public)

Push a commit and deliver the repo:push webhook:

  curl -s -X POST ${ctl}/commit -H 'Content-Type: application/json' \\
    -d '{"workspace":"acme","slug":"api","files":{"src/new.ts":"export const x = 1;\\n"},"message":"Add x","deliver":true}'

Other controls: GET ${ctl}/stats, GET ${ctl}/hooks?workspace=acme&slug=api,
  POST ${ctl}/revoke {"nickname":"demo"}, POST ${ctl}/expire-tokens,
  POST ${ctl}/faults {"path":"/2.0/user/workspaces","status":429,"times":3}, DELETE ${ctl}/faults
Ctrl-C stops it.`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the fake Bitbucket…`);
    fake.close().then(() => process.exit(0), (e: unknown) => {
      console.error(e);
      process.exit(1);
    });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
