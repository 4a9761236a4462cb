// The webhook bench's baseline: a bare Koa app that does only what no receiver can skip — read
// the raw body, verify X-Hub-Signature, parse the JSON — and answers 202. No database, no Temporal.
// Run by bench/webhook-bench.ts as a child process (PORT, WEBHOOK_SECRET).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Router from '@koa/router';
import Koa from 'koa';
import { readRawBody } from '../src/api/body';
import { verifySignature } from '../src/api/routes/webhooks';

const secret = process.env.WEBHOOK_SECRET ?? '';
const app = new Koa();
const router = new Router();
router.post('/v1/webhooks/bitbucket/:accountId', async (ctx) => {
  const raw = await readRawBody(ctx);
  if (!verifySignature(raw, ctx.get('x-hub-signature') || undefined, secret)) {
    ctx.status = 401;
    ctx.body = { error: { code: 'invalid_signature', message: 'The X-Hub-Signature does not match this payload.' } };
    return;
  }
  const payload = JSON.parse(raw.toString('utf8'));
  ctx.status = 202;
  ctx.body = { outcome: Array.isArray(payload?.push?.changes) ? 'accepted' : 'ignored' };
});
app.use(router.routes());
const server = http.createServer(app.callback());
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(`bare receiver listening on ${(server.address() as AddressInfo).port}\n`);
});
process.once('SIGTERM', () => server.close(() => process.exit(0)));
