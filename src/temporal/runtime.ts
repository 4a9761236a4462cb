// The worker's native runtime, installed before any worker connects. Signals are left to the
// process's own shutdown code, which stops the API and workers in order. The SDK shuts the
// runtime down by itself once its last worker and connection are gone; a later worker in the
// same process (tests) installs a fresh one.
//
// With a logger, the SDK's own lines (and the native core's warnings, forwarded) go through
// pino as JSON. With WORKER_METRICS_ADDRESS, the runtime serves Prometheus metrics of the
// workers (task latencies, slots, polls, failures: `temporal_*`) on that address at /metrics —
// a worker process has no HTTP server of its own.
import { DefaultLogger, Runtime, makeTelemetryFilterString, type RuntimeOptions } from '@temporalio/worker';
import { IllegalStateError } from '@temporalio/common';
import type { Logger } from '../logger';
import { PinoSdkLogger } from './sdk-logger';

export interface WorkerRuntimeOptions {
  log?: Logger;
  /** host:port for the Prometheus endpoint; unset = no worker metrics. */
  metricsAddress?: string | null;
}

/** Installs the runtime; false when one is already installed and in use (its options stay). */
export function installWorkerRuntime(opts: WorkerRuntimeOptions = {}): boolean {
  const filter = makeTelemetryFilterString({ core: 'WARN' });
  const options: RuntimeOptions = {
    logger: opts.log ? new PinoSdkLogger(opts.log) : new DefaultLogger('WARN'),
    shutdownSignals: [],
    telemetryOptions: {
      logging: opts.log ? { filter, forward: {} } : { filter },
      ...(opts.metricsAddress ? { metrics: { prometheus: { bindAddress: opts.metricsAddress } } } : {}),
    },
  };
  try {
    Runtime.install(options);
    return true;
  } catch (err) {
    if (!(err instanceof IllegalStateError)) throw err; // already installed and still in use
    return false;
  }
}
