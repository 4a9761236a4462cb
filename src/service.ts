// The composition root: opens PostgreSQL (running migrations), connects to Temporal, and starts
// the API and/or the workers in this process. The dev stack, the production entry points and the
// end-to-end tests all start the service through here.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { createRequestListener } from './api/app';
import { answerClientError } from './api/client-error';
import { BitbucketIntegration } from './bitbucket/integration';
import type { Config } from './config';
import { openDatabase } from './db/data-source';
import type { Logger } from './logger';
import { serveStoredCounters } from './metrics';
import { SecretBox } from './security/secret-box';
import { connectTemporal } from './temporal/client';
import { temporalDataConverter } from './temporal/data-converter';
import { TemporalGateway } from './temporal/gateway';
import { createWorkers } from './temporal/worker';
import { DeliveryRecorder } from './webhooks/delivery-recorder';
import { RepoStarter } from './repos/repo-starter';
import { PushDispatcher } from './webhooks/push-dispatcher';
import { WorkspaceNudger } from './workspaces/workspace-nudger';
import { AccountLimiter } from './search/account-limiter';
import { WebhookReceiver } from './webhooks/receiver';

export interface ServiceOptions {
  config: Config;
  log: Logger;
  api?: boolean;
  workers?: boolean;
  workflowBundlePath?: string;
  /** Listen host for the API (default all interfaces, like any server; tests use 127.0.0.1). */
  host?: string;
  /** The service's clock (tests move it to expire OAuth states). */
  clock?: () => Date;
}

export interface RunningService {
  url: string | null;
  workers: Worker[];
  stop(): Promise<void>;
}

export async function startService(opts: ServiceOptions): Promise<RunningService> {
  const { config, log } = opts;
  const ds = await openDatabase(config.databaseUrl);
  const box = new SecretBox(config.tokenEncryptionKey);
  const clock = opts.clock ?? (() => new Date());
  const bitbucket = new BitbucketIntegration(config, ds, box, clock);
  const dataConverter = temporalDataConverter(config); // payload encryption: client and workers alike
  const cleanups: Array<() => Promise<void>> = [() => ds.destroy()];
  const stop = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch((err: Error) => log.warn({ err: err.message }, 'shutdown step failed'));
  };
  try {
    let workers: Worker[] = [];
    let workersDone: Promise<unknown> = Promise.resolve();
    if (opts.workers !== false) {
      const connection = await NativeConnection.connect({ address: config.temporal.address });
      cleanups.push(() => connection.close());
      workers = await createWorkers({
        connection,
        namespace: config.temporal.namespace,
        queues: config.worker.taskQueues,
        deps: { ds, config, log, box, bitbucket },
        shutdownGraceSeconds: config.worker.shutdownGraceSeconds,
        taskQueuePrefix: config.taskQueuePrefix,
        workflowBundlePath: opts.workflowBundlePath,
        dataConverter,
      });
      workersDone = Promise.all(workers.map((w) => w.run())).catch((err: Error) => log.error({ err: err.message }, 'worker failed'));
      cleanups.push(async () => {
        for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
        await workersDone;
      });
    }

    let url: string | null = null;
    if (opts.api !== false) {
      const temporal = await connectTemporal(config.temporal.address, config.temporal.namespace, dataConverter);
      cleanups.push(() => temporal.close());
      const gateway = new TemporalGateway(temporal.client, temporal.connection, config.taskQueuePrefix, config.repoReconcileIntervalMs);
      // Pushes recorded by this API (or left waiting by one that died) reach their workflows from here.
      const dispatcher = new PushDispatcher(ds, config.taskQueuePrefix, gateway, log);
      dispatcher.start();
      cleanups.push(() => dispatcher.stop());
      // Repos added by this API (or left without a workflow by one that died) get theirs from here.
      const starter = new RepoStarter(ds, gateway, log, { taskQueuePrefix: config.taskQueuePrefix });
      starter.begin();
      cleanups.push(() => starter.stop());
      const nudger = new WorkspaceNudger(ds, gateway, log, config.taskQueuePrefix);
      nudger.begin();
      cleanups.push(() => nudger.stop());
      const deliveries = new DeliveryRecorder(ds, config.taskQueuePrefix, () => dispatcher.wake());
      serveStoredCounters(ds); // counters workers keep in PostgreSQL, on this API's /metrics
      const receiver = new WebhookReceiver({ ds, box, deliveries });
      const server = http.createServer(createRequestListener({ config, ds, box, temporal: gateway, log, bitbucket, clock, receiver, starter, searches: new AccountLimiter() }));
      server.requestTimeout = 30_000;
      server.on('clientError', answerClientError); // malformed HTTP gets the JSON error shape too
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, opts.host, resolve);
      });
      const { port } = server.address() as AddressInfo;
      url = `http://${opts.host && opts.host !== '0.0.0.0' ? opts.host : '127.0.0.1'}:${port}`;
      cleanups.push(
        () =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeIdleConnections();
          }),
      );
    }
    return { url, workers, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
