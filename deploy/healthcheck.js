// Container health probe for the app image: `node /app/healthcheck.js [path]`.
// Exits 0 when the API answers 200 on 127.0.0.1:$PORT (default 8080) at `path` (default /healthz),
// 1 otherwise. The Dockerfile's HEALTHCHECK uses /healthz (process up); docker-compose.yml uses
// /readyz for the api service (database and Temporal answer). Plain node: the slim image has no curl.
'use strict';
const http = require('node:http');

const path = process.argv[2] || '/healthz';
const port = Number(process.env.PORT) || 8080;

const req = http.get({ host: '127.0.0.1', port, path, timeout: 4000 }, (res) => {
  res.resume();
  process.exit(res.statusCode === 200 ? 0 : 1);
});
req.on('timeout', () => {
  req.destroy();
  process.exit(1);
});
req.on('error', () => process.exit(1));
