// The API's connection to Temporal (pure-JS gRPC client; no native bridge in the API).
import { Client, Connection } from '@temporalio/client';

export interface TemporalClientHandle {
  client: Client;
  connection: Connection;
  close(): Promise<void>;
}

export async function connectTemporal(address: string, namespace: string): Promise<TemporalClientHandle> {
  const connection = await Connection.connect({ address, connectTimeout: '10 seconds' });
  const client = new Client({ connection, namespace });
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
