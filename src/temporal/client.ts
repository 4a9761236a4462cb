// The API's connection to Temporal (pure-JS gRPC client; no native bridge in the API).
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';

export interface TemporalClientHandle {
  client: Client;
  connection: Connection;
  close(): Promise<void>;
}

/** `dataConverter`: payload encryption (temporalDataConverter); the workers must use the same. */
export async function connectTemporal(address: string, namespace: string, dataConverter?: DataConverter): Promise<TemporalClientHandle> {
  const connection = await Connection.connect({ address, connectTimeout: '10 seconds' });
  const client = new Client({ connection, namespace, dataConverter });
  return { client, connection, close: () => connection.close() };
}

/** True when the Temporal frontend answers within the deadline. */
export async function temporalAnswers(connection: Connection, timeoutMs = 2_000): Promise<boolean> {
  try {
    await connection.withDeadline(Date.now() + timeoutMs, () => connection.workflowService.getSystemInfo({}));
    return true;
  } catch {
    return false;
  }
}
