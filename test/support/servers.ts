// Hand-over between globalSetup and globalTeardown (they share one process and its globals).
interface GlobalServers {
  dir: string;
  stops: Array<() => Promise<void>>;
}

const KEY = '__lettuceTestServers';

export function setGlobalServers(servers: GlobalServers): void {
  (globalThis as Record<string, unknown>)[KEY] = servers;
}

export function takeGlobalServers(): GlobalServers | undefined {
  const servers = (globalThis as Record<string, unknown>)[KEY] as GlobalServers | undefined;
  delete (globalThis as Record<string, unknown>)[KEY];
  return servers;
}
