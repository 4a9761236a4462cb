// An HTTP reverse proxy on 127.0.0.1 in front of the fake Bitbucket that can forward a request
// and then withhold the answer: Bitbucket did the work (a hook created, a refresh token rotated)
// but the caller never hears back — what the fake's own faults (answered before any work) cannot
// show. Everything else is passed through untouched.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

interface HoldRule {
  method?: string;
  path: RegExp;
  remaining: number;
}

export interface HoldProxy {
  /** Base URL of the proxy (same paths as the target). */
  url: string;
  /** The next `times` matching requests reach the target, but their answers are never sent. */
  holdAnswers(rule: { method?: string; path: RegExp; times?: number }): void;
  /** How many answers were withheld so far. */
  held(): number;
  /** Drops the held connections (the caller sees a network error). */
  dropHeld(): void;
  close(): Promise<void>;
}

export async function startHoldProxy(target: string): Promise<HoldProxy> {
  const targetUrl = new URL(target);
  const rules: HoldRule[] = [];
  const holding = new Set<http.ServerResponse>();
  let heldCount = 0;

  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const rule = rules.find((r) => r.remaining > 0 && (!r.method || r.method === req.method) && r.path.test(path));
    if (rule) rule.remaining--;
    const upstream = http.request(
      { host: targetUrl.hostname, port: targetUrl.port, method: req.method, path: req.url, headers: { ...req.headers, host: targetUrl.host } },
      (answer) => {
        if (rule) {
          // Read the whole answer (so the target finished its work), then keep the caller waiting.
          answer.resume();
          answer.on('end', () => {
            heldCount++;
            holding.add(res);
          });
          res.on('close', () => holding.delete(res));
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${targetUrl.pathname.replace(/\/+$/, '')}`,
    holdAnswers: ({ method, path, times = 1 }) => void rules.push({ method, path, remaining: times }),
    held: () => heldCount,
    dropHeld: () => {
      for (const res of holding) res.destroy();
      holding.clear();
    },
    close: async () => {
      for (const res of holding) res.destroy();
      holding.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
