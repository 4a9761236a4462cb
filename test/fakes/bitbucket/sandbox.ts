// `npm run sandbox`: the whole flow on one machine without Atlassian — the fake Bitbucket Cloud
// with its demo data, the dev stack (src/dev/stack.ts) wired to it, and a demo account made once
// (its API token kept under DATA_DIR, default ./.lettuce-sandbox). Ctrl-C stops all of it.
// FAKE_BITBUCKET_PORT (default 9100); the dev stack's variables (PORT, DATA_DIR, …) as for `npm start`.
import path from 'node:path';
import { runDevCommand, say } from '../../../src/dev/command';
import { ensureDemoAccount } from '../../../src/dev/demo-account';
import { DevStackError, portAcceptsConnections } from '../../../src/dev/processes';
import { startDevStack } from '../../../src/dev/stack';
import { DEMO, seedDemo } from './seed';
import { startFakeBitbucket } from './server';
import { serviceEnvFor } from './service-env';

runDevCommand('the sandbox', async (shutdown) => {
  const env: Record<string, string | undefined> = { ...process.env };
  env.DATA_DIR = path.resolve(env.DATA_DIR || './.lettuce-sandbox');
  env.CODEWAZE_PUBLIC_URL ||= `http://localhost:${env.PORT || 8080}`;
  const port = Number(env.FAKE_BITBUCKET_PORT ?? 9100);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new DevStackError(`FAKE_BITBUCKET_PORT is not a port number: ${env.FAKE_BITBUCKET_PORT}.`);
  if (await portAcceptsConnections(port)) throw new DevStackError(`Port ${port} is already in use, so the fake Bitbucket cannot start: free it, or set FAKE_BITBUCKET_PORT.`);

  say('Starting the fake Bitbucket Cloud...');
  const fake = await startFakeBitbucket({ port, callbackUrl: `${env.CODEWAZE_PUBLIC_URL.replace(/\/+$/, '')}/v1/integrations/bitbucket/callback` });
  shutdown.add(() => fake.close());
  await seedDemo(fake);
  Object.assign(env, serviceEnvFor(fake));

  const stack = await startDevStack({ env, say, shutdown });
  const demo = await ensureDemoAccount({ apiUrl: stack.apiUrl, adminToken: stack.config.adminToken, dataDir: stack.dataDir });
  const push = JSON.stringify({ workspace: 'acme', slug: 'api', files: { 'src/new.ts': 'export const x = 1;\n' }, message: 'Add x', deliver: true });
  say('');
  say(`Open ${stack.webUrl} and sign in with the API token ${demo.token}`);
  say(`  (the demo account "${demo.accountName}", ${demo.email}; ${demo.created ? 'made now' : 'made by an earlier run'}; the token is kept in ${demo.file}).`);
  say(`  Then connect Bitbucket: the fake one has you signed in as "${DEMO.user}" and asks you to grant access. Add ${DEMO.repos.api}.`);
  say(`  Push a commit to ${DEMO.repos.api} and deliver its webhook (the repo re-indexes):`);
  say(`    curl -s -X POST ${fake.siteUrl}/_fake/commit -H 'Content-Type: application/json' -d '${push}'`);
  say(`  Fake Bitbucket: ${fake.siteUrl} (its controls: test/fakes/bitbucket/README.md)`);
  say(`  API: ${stack.apiUrl}${stack.temporalUiUrl ? `   Temporal UI: ${stack.temporalUiUrl}` : ''}`);
  say(`  State: ${stack.dataDir}${demo.created ? '' : ' (the fake Bitbucket starts empty on every run: if the web UI asks, connect Bitbucket again)'}`);
  say('Press Ctrl-C to stop.');
});
