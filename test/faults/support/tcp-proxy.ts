// A TCP proxy on 127.0.0.1 in front of a server (here: Temporal's frontend). `blackhole()` keeps
// accepting the client's bytes but forwards none of them — the server never sees the request —
// and counts them, so a test knows exactly when the client tried to talk to the server.
import net from 'node:net';

export interface TcpProxy {
  address: string;
  /** From now on, bytes from clients are swallowed (and counted) instead of forwarded. */
  blackhole(): void;
  /** Bytes swallowed since blackhole(). */
  swallowed(): number;
  /** Forward again; connections that lost bytes are cut, so clients reconnect cleanly. */
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const [host, portText] = [target.slice(0, target.lastIndexOf(':')), target.slice(target.lastIndexOf(':') + 1)];
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket; broken: boolean }>();
  let holing = false;
  let swallowed = 0;
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(portText), host);
    const pair = { client, upstream, broken: false };
    pairs.add(pair);
    const end = () => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    client.on('data', (d) => {
      if (holing) {
        swallowed += d.length;
        pair.broken = true;
        return;
      }
      upstream.write(d);
    });
    upstream.on('data', (d) => client.write(d));
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    blackhole: () => {
      holing = true;
      swallowed = 0;
    },
    swallowed: () => swallowed,
    restore: () => {
      holing = false;
      for (const p of [...pairs]) {
        if (!p.broken) continue;
        p.client.destroy();
        p.upstream.destroy();
        pairs.delete(p);
      }
    },
    close: async () => {
      for (const p of pairs) {
        p.client.destroy();
        p.upstream.destroy();
      }
      pairs.clear();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
