// The API as a real child process (the compiled production entry point), so a test can kill -9
// it at a known moment.
import type { Config } from '../../../src/config';
import { processEnv, startServiceProcess, type ServiceProcess } from '../../support/worker-process';

export type ApiProcess = ServiceProcess;

/** `node dist/src/api/main.js` with the environment of a test config (plus `extraEnv`), listening on config.port. */
export function startApiProcess(config: Config, extraEnv: Record<string, string> = {}): Promise<ApiProcess> {
  return startServiceProcess('src/api/main.js', 'API listening', { ...processEnv(config), ...extraEnv });
}
