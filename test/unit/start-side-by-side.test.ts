// The dev stack, the tests' global setup and the benches start PostgreSQL and Temporal side by
// side: when one of them fails, the other must not be left running.
import { startSideBySide } from '../../src/dev/processes';

const server = (name: string, stops: string[]) => ({ name, stop: async () => void stops.push(name) });

it('returns every started server, in order, when all start', async () => {
  const stops: string[] = [];
  const [a, none, b] = await startSideBySide([Promise.resolve(server('a', stops)), null, Promise.resolve(server('b', stops))]);
  expect([a.name, none, b.name]).toEqual(['a', null, 'b']);
  expect(stops).toEqual([]);
});

it('stops the servers that started, including one that finished after the failure, and throws the failure', async () => {
  const stops: string[] = [];
  const slow = new Promise<ReturnType<typeof server>>((resolve) => setTimeout(() => resolve(server('slow', stops)), 50));
  const failing = Promise.reject(new Error('port taken'));
  await expect(startSideBySide([Promise.resolve(server('fast', stops)), failing, slow])).rejects.toThrow('port taken');
  expect(stops.sort()).toEqual(['fast', 'slow']);
});
