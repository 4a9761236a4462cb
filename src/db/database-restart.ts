// A PostgreSQL restart (an upgrade, a failover, `docker compose restart postgres`) takes seconds.
// Every process rides it out instead of failing what it was doing: a connection that cannot be had
// because the server is stopping, starting or gone is asked for again, with back-off, for up to
// RESTART_GRACE_MS (the pool below, TypeORM's `driver`); an API read whose statement the restart cut
// off runs again (api/middleware.ts). Only past the grace period does a caller see the error, as
// `503 database_unavailable` at the API.
import pg from 'pg';

/** How long a restart may take before callers see it. */
export const RESTART_GRACE_MS = 20_000;

/** SQLSTATEs and socket errors of a server that is restarting, not of a statement that is wrong. */
const RESTART_CODES = new Set(['57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT']);
const RESTART_MESSAGES = /Connection terminated|connection timeout|timeout exceeded when trying to connect|the database system is (starting up|shutting down|in recovery mode)|terminating connection due to administrator command|Client has encountered a connection error/i;

/** Whether `err` says the database is restarting (or unreachable), rather than that a query failed. */
export function isDatabaseRestart(err: unknown): boolean {
  for (let e = err as { code?: unknown; message?: unknown; driverError?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 4; depth++) {
    if (typeof e.code === 'string' && RESTART_CODES.has(e.code)) return true;
    if (typeof e.message === 'string' && RESTART_MESSAGES.test(e.message)) return true;
    e = (e.driverError ?? e.cause) as typeof e;
  }
  return false;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type ConnectCallback = (err: Error | undefined, client?: pg.PoolClient, done?: (release?: unknown) => void) => void;

/** pg's Pool whose `connect` waits out a restart (the callback form is TypeORM's). */
class RestartTolerantPool extends pg.Pool {
  override connect(): Promise<pg.PoolClient>;
  override connect(callback: ConnectCallback): void;
  override connect(callback?: ConnectCallback): Promise<pg.PoolClient> | void {
    const attempt = async (): Promise<pg.PoolClient> => {
      const deadline = Date.now() + RESTART_GRACE_MS;
      for (let wait = 100; ; wait = Math.min(wait * 2, 1_000)) {
        try {
          return await super.connect();
        } catch (err) {
          if (!isDatabaseRestart(err) || Date.now() + wait > deadline || this.ending) throw err;
          await sleep(wait);
        }
      }
    };
    if (!callback) return attempt();
    attempt().then(
      (client) => callback(undefined, client, (release?: unknown) => client.release(release as Error | boolean | undefined)),
      (err: Error) => callback(err),
    );
  }
}

/** The `pg` module as TypeORM loads it, with the pool above. */
export const restartTolerantPg: typeof pg = Object.assign(Object.create(pg) as typeof pg, { Pool: RestartTolerantPool });
