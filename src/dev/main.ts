// `npm start`: the whole backend on one machine with nothing configured (see stack.ts), until Ctrl-C.
import { runDevCommand, say } from './command';
import { startDevStack } from './stack';

runDevCommand('Lettuce', async (shutdown) => {
  const stack = await startDevStack({ env: { ...process.env }, say, shutdown });
  const admin = stack.adminTokenFile ? `$(cat ${stack.adminTokenFile})` : '$CODEWAZE_ADMIN_TOKEN';
  say('');
  say('Lettuce is running.');
  say(`  API:          ${stack.apiUrl}`);
  if (stack.temporalUiUrl) say(`  Temporal UI:  ${stack.temporalUiUrl}${stack.codecEndpoint ? ` (decodes encrypted payloads through ${stack.codecEndpoint})` : ''}`);
  if (stack.config.workerMetricsAddress) say(`  Worker metrics: http://${stack.config.workerMetricsAddress}/metrics`);
  say(`  Admin token:  ${stack.adminTokenFile ? `in ${stack.adminTokenFile}` : 'from CODEWAZE_ADMIN_TOKEN'}`);
  say(`  Web UI:       ${stack.webUrl} signs in with an API token; this creates an account and prints its "token":`);
  say(`    curl -s -X POST ${stack.apiUrl}/v1/admin/accounts -H "Authorization: Bearer ${admin}" -H 'Content-Type: application/json' -d '{"name":"Acme","ownerEmail":"alice@acme.test"}'`);
  say('Press Ctrl-C to stop.');
});
