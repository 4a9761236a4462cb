// The whole backend on one machine with nothing configured — an embedded PostgreSQL (unless
// DATABASE_URL), a Temporal dev server with its Web UI (unless TEMPORAL_ADDRESS), the generated
// secrets, migrations, search attributes, the worker and the API — for `npm start` and the
// sandbox. Each server is registered on the Shutdown as soon as it runs.
import fs from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { Runtime } from '@temporalio/worker';
import { Client } from 'pg';
import { loadConfig, type Config } from '../config';
import { consoleDestination, createLogger, redactText } from '../logger';
import { startService } from '../service';
import { installWorkerRuntime } from '../temporal/runtime';
import { registerSearchAttributes } from '../temporal/search-attributes';
import type { Say, Shutdown } from './command';
import { startEmbeddedPostgres } from './postgres';
import { DevStackError, portAcceptsConnections, waitFor } from './processes';
import { ensureDevSecret, generators } from './secrets';
import { resolveTemporalCli } from './temporal-cli';
import { startTemporalDevServer } from './temporal-server';

export interface DevStack {
  config: Config;
  dataDir: string;
  /** Where this machine reaches the API (http://127.0.0.1:PORT, or CODEWAZE_PUBLIC_URL when set). */
  apiUrl: string;
  /** Where a browser opens the web UI: CODEWAZE_PUBLIC_URL, the origin OAuth redirects back to. */
  webUrl: string;
  temporalUiUrl: string | null;
  codecEndpoint: string | null;
  /** The admin token's file under DATA_DIR, or null when it came from CODEWAZE_ADMIN_TOKEN. */
  adminTokenFile: string | null;
}

async function checkDatabase(url: string): Promise<void> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  try {
    await client.connect();
  } catch (err) {
    const where = (() => {
      try {
        return new URL(url).host;
      } catch {
        return 'it';
      }
    })();
    throw new DevStackError(`Could not connect to the PostgreSQL in DATABASE_URL (${where}): ${redactText((err as Error).message)}. Start it or fix DATABASE_URL, or unset DATABASE_URL to use the embedded PostgreSQL.`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function connectTemporalOrSay(address: string, own: boolean): Promise<Connection> {
  try {
    return await Connection.connect({ address, connectTimeout: '10 seconds' });
  } catch (err) {
    const fix = own ? 'see DATA_DIR/temporal.log' : 'start it or fix TEMPORAL_ADDRESS, or unset TEMPORAL_ADDRESS to use the Temporal dev server';
    throw new DevStackError(`Could not reach Temporal at ${address} (${(err as Error).message}): ${fix}.`);
  }
}

export async function startDevStack(opts: { env: Record<string, string | undefined>; say: Say; shutdown: Shutdown }): Promise<DevStack> {
  const { say, shutdown } = opts;
  const env = { ...opts.env };
  const dataDir = path.resolve(env.DATA_DIR || './.lettuce');
  fs.mkdirSync(dataDir, { recursive: true });
  const adminToken = env.CODEWAZE_ADMIN_TOKEN ? null : ensureDevSecret(dataDir, 'admin-token', generators.adminToken);
  env.CODEWAZE_ADMIN_TOKEN ||= adminToken!.value;
  env.TOKEN_ENCRYPTION_KEY ||= ensureDevSecret(dataDir, 'token-encryption-key', generators.encryptionKey).value;
  // The dev Temporal UI (loopback, no login) cannot send a token to the codec server.
  if (!env.TEMPORAL_ADDRESS) env.CODEC_SERVER_AUTH ||= 'none';
  // Validate everything the operator set before starting any server.
  const checked = loadConfig({ ...env, DATABASE_URL: env.DATABASE_URL || 'postgres://check', TEMPORAL_ADDRESS: env.TEMPORAL_ADDRESS || '127.0.0.1:7233' });
  const ownPublicUrl = checked.publicUrl === 'http://localhost:8080';
  const apiUrl = ownPublicUrl ? `http://127.0.0.1:${checked.port}` : checked.publicUrl;
  const codecEndpoint = checked.payloadKeys ? `${ownPublicUrl ? `http://localhost:${checked.port}` : checked.publicUrl}/codec` : null;
  if (await portAcceptsConnections(checked.port)) {
    throw new DevStackError(`Port ${checked.port} is already in use, so the API cannot listen on it: free it, or set PORT (and CODEWAZE_PUBLIC_URL to match).`);
  }

  if (env.DATABASE_URL) {
    await checkDatabase(env.DATABASE_URL);
  } else {
    say('Starting the embedded PostgreSQL...');
    const pg = await startEmbeddedPostgres({
      dir: path.join(dataDir, 'postgres'),
      port: Number(env.DEV_POSTGRES_PORT || 54329),
      password: ensureDevSecret(dataDir, 'postgres-password', generators.password).value,
      database: 'lettuce',
    });
    shutdown.add(pg.stop);
    if (pg.notice) say(pg.notice);
    env.DATABASE_URL = pg.url;
  }
  let temporalUiUrl: string | null = null;
  const ownTemporal = !env.TEMPORAL_ADDRESS;
  if (ownTemporal) {
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
      codecEndpoint: codecEndpoint ?? undefined,
    });
    shutdown.add(temporal.stop);
    env.TEMPORAL_ADDRESS = temporal.address;
    temporalUiUrl = temporal.uiUrl;
  }
  const config = loadConfig(env);
  const connection = await connectTemporalOrSay(config.temporal.address, ownTemporal);
  await registerSearchAttributes(connection, config.temporal.namespace).finally(() => connection.close());

  say('Starting the API and the worker...');
  const log = createLogger(config.logLevel, consoleDestination());
  installWorkerRuntime({ log, metricsAddress: config.workerMetricsAddress });
  const service = await startService({ config, log });
  shutdown.add(service.stop);
  // The workers' first lines (buffered by the SDK's runtime logger) come before the summary a person reads.
  await waitFor(() => service.workers.every((w) => w.getState() === 'RUNNING'), 10_000, 50);
  Runtime.instance().flushLogs();

  return { config, dataDir, apiUrl, webUrl: `${config.publicUrl.replace(/\/+$/, '')}/`, temporalUiUrl, codecEndpoint, adminTokenFile: adminToken?.file ?? null };
}
