// `npm start`: the whole backend on one machine with nothing configured — an embedded PostgreSQL
// (unless DATABASE_URL), a Temporal dev server with its Web UI (unless TEMPORAL_ADDRESS), the
// generated secrets, migrations, search attributes, the worker and the API. Ctrl-C stops all of it.
import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { ConfigError, loadConfig } from '../config';
import { createLogger } from '../logger';
import { startService, type RunningService } from '../service';
import { installWorkerRuntime } from '../temporal/runtime';
import { registerSearchAttributes } from '../temporal/search-attributes';
import { startEmbeddedPostgres } from './postgres';
import { DevStackError } from './processes';
import { ensureDevSecret, generators } from './secrets';
import { resolveTemporalCli } from './temporal-cli';
import { startTemporalDevServer } from './temporal-server';

const say = (line: string) => process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  const env: Record<string, string | undefined> = { ...process.env };
  const dataDir = path.resolve(env.DATA_DIR || './.lettuce');
  fs.mkdirSync(dataDir, { recursive: true });
  const adminToken = env.CODEWAZE_ADMIN_TOKEN ? null : ensureDevSecret(dataDir, 'admin-token', generators.adminToken);
  env.CODEWAZE_ADMIN_TOKEN ||= adminToken!.value;
  env.TOKEN_ENCRYPTION_KEY ||= ensureDevSecret(dataDir, 'token-encryption-key', generators.encryptionKey).value;
  // The dev Temporal UI (loopback, no login) cannot send a token to the codec server.
  if (!env.TEMPORAL_ADDRESS) env.CODEC_SERVER_AUTH ||= 'none';
  // Validate everything the operator set before starting any server.
  const checked = loadConfig({ ...env, DATABASE_URL: env.DATABASE_URL || 'postgres://check', TEMPORAL_ADDRESS: env.TEMPORAL_ADDRESS || '127.0.0.1:7233' });
  const apiBase = checked.publicUrl === 'http://localhost:8080' ? `http://localhost:${checked.port}` : checked.publicUrl;
  const codecEndpoint = checked.payloadKeys ? `${apiBase}/codec` : undefined;

  const stops: Array<() => Promise<void>> = [];
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say('Stopping Lettuce...');
    for (const stop of stops.reverse()) await stop().catch((err: Error) => say(`  (shutdown step failed: ${err.message})`));
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));

  try {
    if (!env.DATABASE_URL) {
      say('Starting the embedded PostgreSQL...');
      const pg = await startEmbeddedPostgres({
        dir: path.join(dataDir, 'postgres'),
        port: Number(env.DEV_POSTGRES_PORT || 54329),
        password: ensureDevSecret(dataDir, 'postgres-password', generators.password).value,
        database: 'lettuce',
      });
      stops.push(pg.stop);
      env.DATABASE_URL = pg.url;
    }
    let uiUrl: string | null = null;
    if (!env.TEMPORAL_ADDRESS) {
      const cliPath = await resolveTemporalCli({ log: say });
      say('Starting the Temporal dev server...');
      const temporal = await startTemporalDevServer({
        cliPath,
        port: 7233,
        uiPort: 8233,
        namespace: env.TEMPORAL_NAMESPACE || 'default',
        dbFile: path.join(dataDir, 'temporal.db'),
        pidFile: path.join(dataDir, 'temporal.pid'),
        logFile: path.join(dataDir, 'temporal.log'),
        codecEndpoint,
      });
      stops.push(temporal.stop);
      env.TEMPORAL_ADDRESS = temporal.address;
      uiUrl = temporal.uiUrl;
    }
    const config = loadConfig(env);
    const connection = await Connection.connect({ address: config.temporal.address });
    await registerSearchAttributes(connection, config.temporal.namespace).finally(() => connection.close());

    const log = createLogger(config.logLevel);
    installWorkerRuntime({ log, metricsAddress: config.workerMetricsAddress });
    const service: RunningService = await startService({ config, log });
    stops.push(service.stop);

    say('');
    say(`Lettuce is running.`);
    say(`  API:          ${config.publicUrl === 'http://localhost:8080' ? service.url : config.publicUrl}`);
    if (uiUrl) say(`  Temporal UI:  ${uiUrl}${codecEndpoint ? ` (decodes encrypted payloads through ${codecEndpoint})` : ''}`);
    if (config.workerMetricsAddress) say(`  Worker metrics: http://${config.workerMetricsAddress}/metrics`);
    say(`  Admin token:  ${adminToken ? `in ${adminToken.file}` : 'from CODEWAZE_ADMIN_TOKEN'}`);
    say(`  Try:          curl -X POST ${service.url}/v1/admin/accounts -H "Authorization: Bearer $(cat ${adminToken?.file ?? '<admin token file>'})" \\`);
    say(`                  -H 'Content-Type: application/json' -d '{"name":"Acme","ownerEmail":"alice@acme.test"}'`);
    say('Press Ctrl-C to stop.');
  } catch (err) {
    const message = err instanceof DevStackError || err instanceof ConfigError ? err.message : `Lettuce failed to start: ${(err as Error).message}`;
    process.stderr.write(`${message}\n`);
    await shutdown(1);
  }
}

main().catch((err: Error) => {
  const known = err instanceof DevStackError || err instanceof ConfigError;
  process.stderr.write(`${known ? err.message : `Lettuce failed to start: ${err.message}`}\n`);
  process.exit(known ? 2 : 1);
});
