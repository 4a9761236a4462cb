import fs from 'node:fs';
import { takeGlobalServers } from './servers';

export default async function globalTeardown(): Promise<void> {
  const servers = takeGlobalServers();
  if (!servers) return;
  for (const stop of servers.stops) await stop().catch(() => undefined);
  if (!process.env.KEEP_TEST_DIR) fs.rmSync(servers.dir, { recursive: true, force: true });
}
