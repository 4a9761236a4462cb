// API process (production): serves the HTTP API until SIGINT/SIGTERM.
import { loadConfigOrExit } from '../config';
import { createLogger } from '../logger';
import { startService } from '../service';

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const log = createLogger(config.logLevel);
  const service = await startService({ config, log, api: true, workers: false });
  log.info({ url: service.url }, 'API listening');
  const shutdown = (signal: string) => {
    log.info({ signal }, 'shutting down');
    service.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((err: Error) => {
  process.stderr.write(`API failed to start: ${err.message}\n`);
  process.exit(1);
});
