// API process (production): serves the HTTP API until SIGINT/SIGTERM.
import { runProcess } from '../process-main';

runProcess({
  name: 'API',
  service: { api: true, workers: false },
  started: (service, _config, log) => log.info({ url: service.url }, 'API listening'),
});
