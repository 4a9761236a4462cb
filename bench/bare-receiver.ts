// The webhook bench's baselines, each doing only what no receiver can skip, with no database and
// no Temporal (run by bench/webhook-bench.ts as a child process: PORT, WEBHOOK_SECRET, BARE):
//   BARE=http — node:http alone: read the raw body, verify X-Hub-Signature, answer 202 (the
//               issue's baseline: what any receiver on this machine could do at most);
//   BARE=koa  — a Koa app with one router: the same, plus parsing the JSON (the baseline before).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import Koa from 'koa';
import { readRawBody } from '../src/api/body';
import { verifySignature } from '../src/webhooks/signature';

const secret = process.env.WEBHOOK_SECRET ?? '';
const REFUSED = JSON.stringify({ error: { code: 'invalid_signature', message: 'The X-Hub-Signature does not match this payload.' } });
const ACCEPTED = JSON.stringify({ outcome: 'accepted' });

function bareHttp(): http.RequestListener {
  return (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const ok = verifySignature(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks), req.headers['x-hub-signature'] as string | undefined, secret);
      const body = ok ? ACCEPTED : REFUSED;
      res.writeHead(ok ? 202 : 401, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(body)) });
      res.end(body);
    });
  };
}

function bareKoa(): http.RequestListener {
  const app = new Koa();
  const router = new Router();
  router.post('/v1/webhooks/bitbucket/:accountId', async (ctx) => {
    const raw = await readRawBody(ctx);
    if (!verifySignature(raw, ctx.get('x-hub-signature') || undefined, secret)) {
      ctx.status = 401;
      ctx.body = JSON.parse(REFUSED);
      return;
    }
    const payload = JSON.parse(raw.toString('utf8'));
    ctx.status = 202;
    ctx.body = { outcome: Array.isArray(payload?.push?.changes) ? 'accepted' : 'ignored' };
  });
  app.use(router.routes());
  return app.callback();
}

const server = http.createServer(process.env.BARE === 'koa' ? bareKoa() : bareHttp());
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`bare receiver (${process.env.BARE ?? 'http'}) listening on ${(server.address() as AddressInfo).port}\n`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
