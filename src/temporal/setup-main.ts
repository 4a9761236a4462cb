// `npm run temporal:setup`: registers Lettuce's search attributes on TEMPORAL_NAMESPACE.
import { Connection } from '@temporalio/client';
import { registerSearchAttributes } from './search-attributes';

async function main(): Promise<void> {
  const address = process.env.TEMPORAL_ADDRESS || '127.0.0.1:7233';
  const namespace = process.env.TEMPORAL_NAMESPACE || 'default';
  const connection = await Connection.connect({ address, connectTimeout: '10 seconds' });
  try {
    const added = await registerSearchAttributes(connection, namespace);
    console.log(added.length ? `Registered search attributes on ${namespace}: ${added.join(', ')}.` : `Search attributes already registered on ${namespace}.`);
  } finally {
    await connection.close();
  }
}

main().catch((err: Error) => {
  console.error(`Could not register search attributes: ${err.message}`);
  process.exit(1);
});
