// Reads a V8 .cpuprofile (node --cpu-prof) and sums self time by what the code is: the webhook
// bench's breakdown of where a delivery's CPU goes. Self time only (no double counting); the
// window starts at the first sample inside `startAt` (a function name in a file), so module
// loading and start-up are left out.
import fs from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Category rules, first match wins: [name, test on "functionName url"]. */
const CATEGORIES: Array<[string, RegExp]> = [
  ['idle', /^\(idle\) /],
  ['garbage collection', /^\(garbage collector\) /],
  ['reading the body: JSON checked, the fields built (readPushDelivery, json-scan)', /^readPushDelivery |dist\/src\/webhooks\/json-scan/],
  ['HMAC-SHA256 (node:crypto)', /node:internal\/crypto|^(Hmac|digest|update|timingSafeEqual) /],
  ['the receiver (src/webhooks, routes/webhooks)', /dist\/src\/webhooks\/|dist\/src\/api\/routes\/webhooks/],
  ['Koa, router, middleware', /node_modules\/(koa|@koa|koa-compose|delegates|statuses|type-is|mime-types|content-type|cookies|http-errors|on-finished|vary|accepts|encodeurl|destroy)\/|dist\/src\/api\/(middleware|body|app)\.js/],
  ['logging (pino)', /node_modules\/(pino|sonic-boom|fast-redact|quick-format-unescaped|thread-stream|@pinojs|fast-safe-stringify)/],
  ['metrics (prom-client)', /node_modules\/(prom-client|tdigest|bintrees)\//],
  ['PostgreSQL client (pg, TypeORM)', /node_modules\/(pg|pg-protocol|pg-types|pg-pool|postgres-array|typeorm)\//],
  ['Temporal client: the dispatcher\'s signals (grpc, protobuf)', /node_modules\/(@temporalio|@grpc|protobufjs|long|@protobufjs)\/|node:internal\/http2/],
  ['HTTP server and sockets (node:http, streams, writev)', /node:(_http|net|internal\/stream|internal\/streams|stream|internal\/http|internal\/url|url)|^(writev|writeBuffer|writeUtf8String|writeLatin1String|shutdown|close) |^(parserOnHeadersComplete|parserOnBody|parserOnMessageComplete|execute) /],
  ['promises, async hooks, timers, events', /node:internal\/(async_hooks|process\/task_queues|timers)|node:events|^(runMicrotasks|processTicksAndRejections) /],
  ['other application code', /dist\/(src|activities|workflows)\//],
  ['V8 and native (program)', /^\(program\) /],
];

export interface ProfileSummary {
  /** Sampled time in the window, ms (idle included). */
  windowMs: number;
  /** Busy time by category, ms, largest first (idle excluded). */
  categories: Array<{ name: string; ms: number }>;
  /** The busiest functions (self time, ms). */
  top: Array<{ name: string; ms: number }>;
}

export function summarizeCpuProfile(file: string, startAt?: RegExp): ProfileSummary {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const label = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url.replace(/^.*\/(node_modules|dist)\//, '$1/')}`;
  const inside = new Map<number, boolean>();
  const isInside = (id: number): boolean => {
    if (!startAt) return true;
    let known = inside.get(id);
    if (known === undefined) {
      const p = parent.get(id);
      known = startAt.test(label(byId.get(id)!)) || (p !== undefined && isInside(p));
      inside.set(id, known);
    }
    return known;
  };
  const selfUs = new Map<number, number>();
  let started = !startAt;
  let windowUs = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    started ||= isInside(id);
    if (!started) continue;
    const dt = profile.timeDeltas[i + 1] ?? 0; // a sample's time is the gap to the next one
    windowUs += dt;
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
  }
  const categories = new Map<string, number>();
  const functions = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const name = label(byId.get(id)!);
    const category = CATEGORIES.find(([, test]) => test.test(name))?.[0] ?? 'other (node internals, libraries)';
    if (category === 'idle') continue;
    categories.set(category, (categories.get(category) ?? 0) + us);
    functions.set(name, (functions.get(name) ?? 0) + us);
  }
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).map(([name, us]) => ({ name, ms: us / 1000 }));
  return { windowMs: windowUs / 1000, categories: sorted(categories), top: sorted(functions).slice(0, 12) };
}
