import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fetchWithRetry } from '../../src/bitbucket/http';
import { keepAliveFetch } from '../../src/bitbucket/keep-alive-fetch';

describe('keepAliveFetch (the Bitbucket calls over node:http)', () => {
  let server: http.Server;
  let base: string;
  const sockets = new Set<unknown>();
  const seen: Array<{ method?: string; url?: string; headers: http.IncomingHttpHeaders; body: string }> = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      sockets.add(req.socket);
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, headers: req.headers, body });
        if (req.url === '/slow') return void setTimeout(() => res.end('late'), 2_000);
        if (req.url === '/empty') return void res.writeHead(204).end();
        if (req.url === '/created') return void res.writeHead(201, { location: 'http://x/hooks/1', 'set-cookie': ['a=1', 'b=2'] }).end('{"uuid":"{h}"}');
        if (req.url === '/cut') return void res.writeHead(200, { 'content-length': '100' }).end('{"partial"', () => req.socket.destroy());
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise((r) => server.close(r)));

  it('answers like fetch: status, headers (repeated ones too), JSON body; and keeps the connection for the next call', async () => {
    sockets.clear();
    const first = await keepAliveFetch(`${base}/repo`, { headers: { authorization: 'Bearer t', accept: 'application/json' } });
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('application/json');
    expect(await first.json()).toEqual({ ok: true });
    expect(seen.at(-1)!.headers.authorization).toBe('Bearer t');
    await (await keepAliveFetch(`${base}/repo`)).text();
    expect(sockets.size).toBe(1);

    const created = await keepAliveFetch(`${base}/created`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"url":"https://h"}' });
    expect(created.status).toBe(201);
    expect(created.headers.get('location')).toBe('http://x/hooks/1');
    expect(created.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    expect(seen.at(-1)).toMatchObject({ method: 'POST', body: '{"url":"https://h"}', headers: { 'content-length': '19' } });

    const empty = await keepAliveFetch(`${base}/empty`, { method: 'DELETE' });
    expect(empty.status).toBe(204);
    expect(await empty.text()).toBe('');
  });

  it('rejects with the signal\'s TimeoutError at the deadline, which fetchWithRetry names', async () => {
    await expect(keepAliveFetch(`${base}/slow`, { signal: AbortSignal.timeout(100) })).rejects.toMatchObject({ name: 'TimeoutError' });
    await expect(fetchWithRetry(keepAliveFetch, `${base}/slow`, {}, 'Bitbucket GET /slow', { attempts: 2, baseDelayMs: 1, maxDelayMs: 1, timeoutMs: 100 })).rejects.toThrow(
      'Bitbucket GET /slow failed after 2 attempts: no answer within 100 ms.',
    );
  });

  it('rejects an answer cut short, and a refused connection, as network errors', async () => {
    await expect(keepAliveFetch(`${base}/cut`)).rejects.toThrow();
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await expect(fetchWithRetry(keepAliveFetch, `http://127.0.0.1:${port}/x`, {}, 'Bitbucket GET /x', { attempts: 1, baseDelayMs: 1, maxDelayMs: 1, timeoutMs: 1000 })).rejects.toThrow(
      'Bitbucket GET /x failed after 1 attempt: network error.',
    );
  });
});
