// GET /v1/openapi.json: the API's OpenAPI 3.1 document (no auth: it describes, it does not reveal).
import Router from '@koa/router';
import { openApiDocument } from '../openapi/spec';

export function openApiRoutes(): Router {
  const router = new Router({ prefix: '/v1' });
  router.get('/openapi.json', (ctx) => {
    ctx.body = openApiDocument;
  });
  return router;
}
