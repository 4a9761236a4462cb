// `fetch` for Bitbucket's API over node:http(s) with kept-alive connections. Node's own fetch
// (undici) spends two to three times the CPU of a plain node:http request on each call
// (~200 against ~120 µs per small JSON answer, client and server together, measured on loopback),
// and on a burst of adds that is a visible share of each answer. What the Bitbucket calls need
// only: string bodies, the whole answer read into memory (API pages are small), no redirects
// followed (the REST API and the token endpoint answer none), and the caller's AbortSignal as the
// deadline, rejecting with its reason (a TimeoutError) as fetch does.
import http from 'node:http';
import https from 'node:https';
import type { Fetch } from './http';

// Idle connections are dropped after 4 s, as undici does, before servers' usual 5 s: a request
// never goes out on a connection the server is closing.
const agents: Record<string, http.Agent> = {
  'http:': new http.Agent({ keepAlive: true, timeout: 4_000 }),
  'https:': new https.Agent({ keepAlive: true, timeout: 4_000 }),
};

/** Statuses whose Response must have no body. */
const NULL_BODY = new Set([101, 204, 205, 304]);

function responseHeaders(raw: http.IncomingHttpHeaders): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(raw)) {
    if (Array.isArray(value)) for (const v of value) pairs.push([name, v]);
    else if (value !== undefined) pairs.push([name, value]);
  }
  return pairs;
}

export const keepAliveFetch: Fetch = (input, init = {}) =>
  new Promise<Response>((resolve, reject) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const agent = agents[url.protocol];
    if (!agent) return reject(new TypeError(`Unsupported protocol ${url.protocol}`));
    if (init.body !== undefined && init.body !== null && typeof init.body !== 'string') return reject(new TypeError('keepAliveFetch sends string bodies only'));
    const signal = init.signal ?? undefined;
    const headers = init.headers instanceof Headers || Array.isArray(init.headers) ? Object.fromEntries(new Headers(init.headers)) : (init.headers as Record<string, string> | undefined);
    const fail = (err: unknown) => reject(signal?.aborted ? signal.reason : err);
    const request = (url.protocol === 'https:' ? https : http).request(
      url,
      { method: init.method ?? 'GET', headers, agent, signal },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', fail); // also a connection closed before the whole answer (ECONNRESET 'aborted')
        res.on('end', () => {
          const status = res.statusCode ?? 502;
          try {
            resolve(new Response(NULL_BODY.has(status) ? null : Buffer.concat(chunks), { status, statusText: res.statusMessage, headers: responseHeaders(res.headers) }));
          } catch (err) {
            fail(err);
          }
        });
      },
    );
    request.on('error', fail);
    request.end(init.body ?? undefined);
  });
