// A TCP proxy on 127.0.0.1 in front of a server (Temporal's frontend, PostgreSQL). `blackhole()`
// keeps accepting the client's bytes but forwards none of them — the server never sees the
// request — and counts them, so a test knows exactly when the client tried to talk to the server.
// `blackhole('replies')` forwards the requests but swallows the server's answers: the server acts
// (a COMMIT happens) while the client never learns it did.
import net from 'node:net';

export interface TcpProxy {
  address: string;
  /** From now on, bytes from clients (or, with 'replies', from the server) are swallowed and counted. */
  blackhole(direction?: 'requests' | 'replies'): void;
  /** Bytes swallowed since blackhole(). */
  swallowed(): number;
  /** Forward again; connections that lost bytes are cut, so clients reconnect cleanly. */
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const [host, portText] = [target.slice(0, target.lastIndexOf(':')), target.slice(target.lastIndexOf(':') + 1)];
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket; broken: boolean }>();
  let holing: 'requests' | 'replies' | null = null;
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
    const forward = (from: 'requests' | 'replies', to: net.Socket) => (d: Buffer) => {
      if (holing === from) {
        swallowed += d.length;
        pair.broken = true;
        return;
      }
      to.write(d);
    };
    client.on('data', forward('requests', upstream));
    upstream.on('data', forward('replies', client));
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    blackhole: (direction = 'requests') => {
      holing = direction;
      swallowed = 0;
    },
    swallowed: () => swallowed,
    restore: () => {
      holing = null;
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
