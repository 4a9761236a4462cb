// A real Temporal server (`temporal server start-dev`, SQLite-backed, with the Web UI) for the
// dev stack and the tests. With `dbFile` its state survives restarts.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTE_KEYS } from '../../workflows/definitions';
import { DevStackError, freePort, livePidFromFile, portAcceptsConnections, stopPid, waitFor } from './processes';

export interface TemporalDevServerOptions {
  cliPath: string;
  port: number;
  /** null = headless (no Web UI). */
  uiPort: number | null;
  namespace?: string;
  dbFile?: string;
  pidFile?: string;
  logFile?: string;
  codecEndpoint?: string;
}

export interface TemporalDevServer {
  address: string;
  uiUrl: string | null;
  pid: number;
  stop(): Promise<void>;
}

export async function startTemporalDevServer(opts: TemporalDevServerOptions): Promise<TemporalDevServer> {
  if (opts.pidFile) {
    const stale = livePidFromFile(opts.pidFile, 'start-dev');
    if (stale) await stopPid(stale, 'SIGTERM');
  }
  for (const port of [opts.port, opts.uiPort].filter((p): p is number => !!p)) {
    if (await portAcceptsConnections(port)) {
      throw new DevStackError(`Port ${port} is already in use, so the Temporal dev server cannot start: free it, or set TEMPORAL_ADDRESS to a running Temporal.`);
    }
  }
  const namespace = opts.namespace ?? 'default';
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(opts.port), '--namespace', namespace, '--log-level', 'warn'];
  args.push(...(opts.uiPort ? ['--ui-port', String(opts.uiPort)] : ['--headless']));
  if (opts.dbFile) args.push('--db-filename', opts.dbFile);
  if (opts.codecEndpoint) args.push('--ui-codec-endpoint', opts.codecEndpoint);
  for (const key of SEARCH_ATTRIBUTE_KEYS) args.push('--search-attribute', `${key.name}=Keyword`);

  const out = opts.logFile ? fs.openSync(opts.logFile, 'a') : 'ignore';
  const child = spawn(opts.cliPath, args, { stdio: ['ignore', out, out] });
  if (typeof out === 'number') fs.closeSync(out);
  let exited = false;
  child.once('exit', () => (exited = true));
  if (opts.pidFile) fs.writeFileSync(opts.pidFile, `${child.pid}\n`);

  const address = `127.0.0.1:${opts.port}`;
  const ready = await waitFor(async () => {
    if (exited) return true;
    try {
      const c = await Connection.connect({ address, connectTimeout: '1 second' });
      try {
        await c.workflowService.describeNamespace({ namespace });
        return true;
      } finally {
        await c.close();
      }
    } catch {
      return false;
    }
  }, 60_000, 250);
  if (exited || !ready) {
    if (!exited) await stopPid(child.pid!, 'SIGKILL');
    throw new DevStackError(`The Temporal dev server did not start${opts.logFile ? `; see ${opts.logFile}` : ''}.`);
  }
  return {
    address,
    uiUrl: opts.uiPort ? `http://127.0.0.1:${opts.uiPort}` : null,
    pid: child.pid!,
    stop: async () => {
      await stopPid(child.pid!, 'SIGTERM', 15_000);
      if (opts.pidFile) fs.rmSync(opts.pidFile, { force: true });
    },
  };
}

/**
 * A dev server on a port picked now. Another process may take a free port (or the HTTP port the
 * server opens next to it) before the server binds it, so a failed start is tried again on new
 * ports, up to `attempts` times.
 */
export async function startTemporalOnFreePort(opts: Omit<TemporalDevServerOptions, 'port'>, attempts = 3): Promise<TemporalDevServer> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startTemporalDevServer({ ...opts, port: await freePort() });
    } catch (err) {
      if (attempt >= attempts) throw err;
    }
  }
}
