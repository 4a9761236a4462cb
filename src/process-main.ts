// The shape of every production entry point: validate config, start the service, log that it
// runs, stop it cleanly on SIGINT/SIGTERM, and report a start-up failure in one line.
import { loadConfigOrExit, type Config } from './config';
import { createLogger, type Logger } from './logger';
import { startService, type RunningService, type ServiceOptions } from './service';

export interface ProcessSpec {
  name: string;
  before?: (config: Config, log: Logger) => void;
  service: Pick<ServiceOptions, 'api' | 'workers'>;
  started: (service: RunningService, config: Config, log: Logger) => void;
}

export function runProcess(spec: ProcessSpec): void {
  const main = async () => {
    const config = loadConfigOrExit();
    const log = createLogger(config.logLevel);
    spec.before?.(config, log);
    const service = await startService({ config, log, ...spec.service });
    spec.started(service, config, log);
    const shutdown = (signal: string) => {
      log.info({ signal }, `${spec.name} shutting down`);
      service.stop().then(() => process.exit(0), () => process.exit(1));
    };
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
  };
  main().catch((err: Error) => {
    process.stderr.write(`${spec.name} failed to start: ${err.message}\n`);
    process.exit(1);
  });
}
