// `npm run migrate`: apply pending migrations and exit.
import { loadConfigOrExit } from '../config';
import { createLogger } from '../logger';
import { createDataSource, runMigrations } from './data-source';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const log = createLogger(config.logLevel);
  const ds = createDataSource(config.databaseUrl);
  await ds.initialize();
  try {
    const applied = await runMigrations(ds);
    log.info({ applied }, applied.length ? 'migrations applied' : 'schema already up to date');
  } finally {
    await ds.destroy();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`Migration failed: ${err.message}\n`);
  process.exit(1);
});
