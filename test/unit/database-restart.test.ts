// What counts as a database restart (src/db/database-restart.ts), and which requests run again
// through one (readsRideOutDatabaseRestarts): reads whose own route failed, never writes, never an
// error from further down the chain.
import Koa from 'koa';
import { isDatabaseRestart } from '../../src/db/database-restart';
import { readsRideOutDatabaseRestarts } from '../../src/api/middleware';

const pgError = (code: string, message: string) => Object.assign(new Error(message), { code });

describe('isDatabaseRestart', () => {
  it.each([
    ['admin shutdown of a connection', pgError('57P01', 'terminating connection due to administrator command')],
    ['a server starting up', pgError('57P03', 'the database system is starting up')],
    ['a server shutting down', pgError('57P03', 'the database system is shutting down')],
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })],
    ['a connection that ended under a query', new Error('Connection terminated unexpectedly')],
    ["TypeORM's wrapper of one", Object.assign(new Error('query failed'), { driverError: pgError('57P01', 'terminating connection') })],
  ])('%s: yes', (_, err) => expect(isDatabaseRestart(err)).toBe(true));

  it.each([
    ['a unique violation', pgError('23505', 'duplicate key value violates unique constraint')],
    ['a syntax error', pgError('42601', 'syntax error at or near "SELEC"')],
    ['a statement timeout', pgError('57014', 'canceling statement due to statement timeout')],
    ['not an error', undefined],
  ])('%s: no', (_, err) => expect(isDatabaseRestart(err)).toBe(false));
});

describe('readsRideOutDatabaseRestarts', () => {
  async function call(method: string, route: Koa.Middleware, after: Koa.Middleware = async () => {}) {
    const app = new Koa();
    app.silent = true;
    app.use(async (ctx, next) => {
      try {
        await next();
      } catch (err) {
        ctx.status = 503;
        ctx.body = { failed: (err as Error).message };
      }
    });
    app.use(readsRideOutDatabaseRestarts(route));
    app.use(after);
    const server = app.listen(0);
    await new Promise((r) => server.once('listening', r));
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as { port: number }).port}/`, { method });
      return { status: res.status, body: await res.json() };
    } finally {
      server.close();
    }
  }

  it('runs a read again until the restart is over', async () => {
    let runs = 0;
    const res = await call('GET', async (ctx) => {
      if (++runs < 3) throw pgError('57P03', 'the database system is starting up');
      ctx.body = { runs };
    });
    expect(res).toEqual({ status: 200, body: { runs: 3 } });
  });

  it('does not run a write again: its first statements may have taken effect', async () => {
    let runs = 0;
    const res = await call('POST', async () => {
      runs++;
      throw pgError('57P01', 'terminating connection due to administrator command');
    });
    expect([res.status, runs]).toEqual([503, 1]);
  });

  it('does not run a read again for an error that is not a restart, or that came from further down', async () => {
    let runs = 0;
    const duplicate: Koa.Middleware = async () => {
      runs++;
      throw pgError('23505', 'duplicate key value violates unique constraint');
    };
    expect((await call('GET', duplicate)).status).toBe(503);
    expect(runs).toBe(1);
    let downstream = 0;
    const passOn: Koa.Middleware = async (_ctx, next) => next();
    const res = await call('GET', passOn, async () => {
      downstream++;
      throw pgError('57P01', 'terminating connection');
    });
    expect([res.status, downstream]).toEqual([503, 1]);
  });
});
