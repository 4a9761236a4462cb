// The worker's native runtime, installed before any worker connects. Signals are left to the
// process's own shutdown code, which stops the API and workers in order. The SDK shuts the
// runtime down by itself once its last worker and connection are gone; a later worker in the
// same process (tests) installs a fresh one.
import { DefaultLogger, Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import { IllegalStateError } from '@temporalio/common';

export function installWorkerRuntime(): void {
  try {
    Runtime.install({
      logger: new DefaultLogger('WARN'),
      shutdownSignals: [],
      telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'WARN' }) } },
    });
  } catch (err) {
    if (!(err instanceof IllegalStateError)) throw err; // already installed and still in use
  }
}
