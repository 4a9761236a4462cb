// Starts the real servers every integration and e2e test uses: an embedded PostgreSQL and a
// Temporal dev server (both from the project's own modules, as `npm start` uses them), and
// bundles the workflows once, and builds the web UI that the API serves (dist/ui, as npm start does).
// Their addresses reach the test files through process.env.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startEmbeddedPostgres } from '../../src/dev/postgres';
import { freePort, startSideBySide } from '../../src/dev/processes';
import { resolveTemporalCli } from '../../src/dev/temporal-cli';
import { startTemporalOnFreePort } from '../../src/dev/temporal-server';
import { createDataSource, runMigrations } from '../../src/db/data-source';
import { ENCODING_FAILURE_CONVERTER_PATH } from '../../src/temporal/data-converter';
import { encryptedBundlePath, WORKFLOWS_PATH } from '../../src/temporal/workflow-bundle';
import { buildWebUi } from '../../web/build';
import { setGlobalServers } from './servers';

export default async function globalSetup(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lettuce-test-'));
  fs.chmodSync(dir, 0o755);
  const cliPath = await resolveTemporalCli({ log: (m) => process.stderr.write(`${m}\n`) });

  const quiet = { info() {}, warn() {}, error: console.error, debug() {}, trace() {}, log() {} };
  const [pg, temporal, bundle, encryptedBundle] = await startSideBySide([
    process.env.TEST_DATABASE_URL
      ? null
      : freePort().then((port) =>
          startEmbeddedPostgres({ dir: path.join(dir, 'postgres'), port, password: crypto.randomBytes(12).toString('hex'), database: 'lettuce_test' }),
        ),
    startTemporalOnFreePort({ cliPath, uiPort: null, dbFile: path.join(dir, 'temporal.db'), logFile: path.join(dir, 'temporal.log') }),
    bundleWorkflowCode({ workflowsPath: require.resolve(WORKFLOWS_PATH), logger: quiet }),
    // The variant workers use with TEMPORAL_PAYLOAD_KEY (encoded failure attributes).
    bundleWorkflowCode({ workflowsPath: require.resolve(WORKFLOWS_PATH), failureConverterPath: ENCODING_FAILURE_CONVERTER_PATH, logger: quiet }),
    buildWebUi({ root: path.resolve(__dirname, '..', '..') }),
  ]);
  if (pg?.notice) process.stderr.write(`\n${pg.notice}\n`); // where a clone in a private folder had its PostgreSQL put
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  fs.writeFileSync(bundlePath, bundle.code);
  fs.writeFileSync(encryptedBundlePath(bundlePath), encryptedBundle.code);

  const databaseUrl = process.env.TEST_DATABASE_URL ?? pg!.url;
  const ds = createDataSource(databaseUrl);
  await ds.initialize();
  await runMigrations(ds);
  await ds.destroy();

  process.env.TEST_DATABASE_URL = databaseUrl;
  process.env.TEST_TEMPORAL_ADDRESS = temporal.address;
  process.env.TEST_TEMPORAL_CLI = cliPath;
  process.env.TEST_WORKFLOW_BUNDLE = bundlePath;
  process.env.TEST_TMP_DIR = dir;
  setGlobalServers({ dir, stops: [temporal.stop, ...(pg ? [pg.stop] : [])] });
}
