// Small helpers for the child servers the dev stack and the tests run (PostgreSQL, Temporal):
// liveness of a pid, waiting for a port, and stopping a process for sure.
import fs from 'node:fs';
import net from 'node:net';

export class DevStackError extends Error {
  override name = 'DevStackError';
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function commandLineOf(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, intervalMs = 100): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Sends `signal`, then SIGKILL if the process is still there after `graceMs`. */
export async function stopPid(pid: number, signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000): Promise<void> {
  if (!isAlive(pid)) return;
  try {
    process.kill(pid, signal);
  } catch {
    return;
  }
  if (await waitFor(() => !isAlive(pid), graceMs)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
  await waitFor(() => !isAlive(pid), 5_000);
}

export function portAcceptsConnections(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.setTimeout(1_000);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
    socket.once('error', () => resolve(false));
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Reads a pid file, returning the pid only if that process still runs the expected program. */
export function livePidFromFile(file: string, expect: string): number | null {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(file, 'utf8').split('\n')[0].trim());
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return null;
  return commandLineOf(pid).includes(expect) ? pid : null;
}

/**
 * Starts servers side by side and waits for all of them. If one fails, the ones that did start
 * (anything with a `stop()`) are stopped before its error is thrown, so no server outlives a
 * failed start.
 */
export async function startSideBySide<T extends readonly unknown[]>(starts: { [K in keyof T]: Promise<T[K]> | T[K] }): Promise<T> {
  const settled = await Promise.allSettled(starts as unknown as Array<Promise<unknown>>);
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (!failed) return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as unknown as T;
  for (const s of settled) {
    const server = s.status === 'fulfilled' ? (s.value as { stop?: () => Promise<void> } | null) : null;
    await server?.stop?.().catch(() => undefined);
  }
  throw failed.reason;
}
