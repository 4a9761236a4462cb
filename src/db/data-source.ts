// The TypeORM data source. Schema changes only through migrations (never `synchronize`).
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { restartTolerantPg } from './database-restart';
import { ENTITIES } from './entities';
import { MIGRATIONS } from './migrations';

// Any fixed number: every process that migrates takes this advisory lock first, so an API and a
// worker starting together do not race through the same migration.
const MIGRATION_LOCK_ID = 7_204_511;

export function createDataSource(databaseUrl: string, options: { poolSize?: number } = {}): DataSource {
  return new DataSource({
    type: 'postgres',
    driver: restartTolerantPg, // a PostgreSQL restart is waited out, not failed (database-restart.ts)
    url: databaseUrl,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTableName: 'typeorm_migrations',
    synchronize: false,
    logging: false,
    extra: { max: options.poolSize ?? 10, connectionTimeoutMillis: 5_000 },
  });
}

export async function runMigrations(ds: DataSource): Promise<string[]> {
  const runner = ds.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
    const done = await ds.runMigrations({ transaction: 'each' });
    return done.map((m) => m.name);
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_ID]).catch(() => undefined);
    await runner.release();
  }
}

/** Opens the data source and brings the schema up to date. */
export async function openDatabase(databaseUrl: string, options: { poolSize?: number } = {}): Promise<DataSource> {
  const ds = createDataSource(databaseUrl, options);
  await ds.initialize();
  try {
    await runMigrations(ds);
  } catch (err) {
    await ds.destroy();
    throw err;
  }
  return ds;
}
