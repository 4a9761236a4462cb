// Configuration: every variable of CONTRACT §1 (plus a few operational knobs), parsed and
// validated once at start-up. A bad value becomes one line naming the variable; secret values
// are never echoed back.
import crypto from 'node:crypto';
import path from 'node:path';
import { z } from 'zod';
import { parseByteSize } from './byte-size';

export const TASK_QUEUE_NAMES = ['lettuce-control', 'lettuce-indexing'] as const;
export type TaskQueueName = (typeof TASK_QUEUE_NAMES)[number];

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const httpUrl = z
  .string()
  .url('must be an absolute http(s) URL')
  .refine((v) => /^https?:\/\//.test(v), 'must be an absolute http(s) URL')
  .transform((v) => v.replace(/\/+$/, ''));

/** `30s`, `10m`, `1h` (also `500ms`, `1d`), or `0` for off; parsed to milliseconds. */
const duration = z.string().transform((v, ctx) => {
  const m = /^(\d+)(ms|s|m|h|d)?$/.exec(v.trim());
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
  const ms = m ? Number(m[1]) * unit[(m[2] ?? (m[1] === '0' ? 'ms' : '')) as keyof typeof unit] : NaN;
  if (!Number.isFinite(ms) || (ms !== 0 && ms < 1000) || ms > 7 * 86_400_000) {
    ctx.addIssue({ code: 'custom', message: 'must be a duration such as 30s, 10m or 1h (at least 1s, at most 7d), or 0 to turn it off' });
    return z.NEVER;
  }
  return ms;
});

/** BITBUCKET_REST_BUDGET: `N/window` (`900/1h`, `60/1m`): REST calls all processes may spend in any rolling window. */
const restBudget = z.string().transform((v, ctx) => {
  const m = /^\s*(\d+)\s*\/\s*(\d+)(s|m|h)\s*$/.exec(v);
  const unit = { s: 1000, m: 60_000, h: 3_600_000 } as const;
  const calls = m ? Number(m[1]) : NaN;
  const windowMs = m ? Number(m[2]) * unit[m[3] as keyof typeof unit] : NaN;
  if (!(calls >= 1 && calls <= 1_000_000) || !(windowMs >= 1000 && windowMs <= 86_400_000)) {
    ctx.addIssue({ code: 'custom', message: 'must be calls per window such as 900/1h or 60/1m (at least 1 call, a window of 1s to 24h)' });
    return z.NEVER;
  }
  return { calls, windowMs };
});

/** MAX_REPO_SIZE: `500m`, `2g`, `1024k`, plain bytes (binary units, see byte-size.ts), or `0` for no limit; parsed to bytes. */
const repoSize = z.string().transform((v, ctx) => {
  const bytes = parseByteSize(v);
  if (bytes === null || (bytes !== 0 && bytes < 1024 * 1024)) {
    ctx.addIssue({ code: 'custom', message: 'must be a size such as 500m, 2g or 1024k (k, m, g, t = KiB, MiB, GiB, TiB; plain numbers are bytes), at least 1m, or 0 for no limit' });
    return z.NEVER;
  }
  return bytes;
});

const base64Key = z.string().refine((v) => Buffer.from(v, 'base64').length === 32 && /^[A-Za-z0-9+/=_-]+$/.test(v), {
  message: 'must be 32 bytes, base64-encoded (openssl rand -base64 32)',
});

/** One key of TEMPORAL_PAYLOAD_KEY; the id travels in each payload's metadata so rotation finds the right key. */
export interface PayloadKey {
  id: string;
  key: Buffer;
}

/**
 * TEMPORAL_PAYLOAD_KEY: `base64` or a comma list of `[keyId:]base64` (32-byte keys); the first
 * encrypts, all decrypt. A key without an id gets one derived from it (a SHA-256 prefix), so a
 * bare `new,old` list rotates too.
 */
function parsePayloadKeys(value: string): PayloadKey[] | null {
  const keys: PayloadKey[] = [];
  for (const entry of value.split(',').map((s) => s.trim())) {
    const match = /^(?:([A-Za-z0-9._-]{1,64}):)?([A-Za-z0-9+/=_-]+)$/.exec(entry);
    const key = match ? Buffer.from(match[2], 'base64') : null;
    if (!match || key?.length !== 32) return null;
    const id = match[1] ?? `k${crypto.createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
    if (keys.some((k) => k.id === id)) return null;
    keys.push({ id, key });
  }
  return keys;
}

const schema = z
  .object({
    CODEWAZE_PUBLIC_URL: httpUrl.default('http://localhost:8080'),
    CODEWAZE_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
    BITBUCKET_APP_CLIENT_ID: z.string().min(1).optional(),
    BITBUCKET_APP_CLIENT_SECRET: z.string().min(1).optional(),
    BITBUCKET_URL: httpUrl.default('https://bitbucket.org'),
    BITBUCKET_API_URL: httpUrl.default('https://api.bitbucket.org/2.0'),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\/\S+$/, 'must be a postgres:// URL')
      .optional(),
    TEMPORAL_ADDRESS: z
      .string()
      .regex(/^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/, 'must be host:port')
      .optional(),
    TEMPORAL_NAMESPACE: z.string().regex(/^[A-Za-z0-9._-]{1,255}$/, 'must be a Temporal namespace name').default('default'),
    PORT: z.coerce.number({ message: 'must be a port number' }).int('must be an integer').min(0).max(65535).default(8080),
    DATA_DIR: z.string().min(1).default('./.lettuce'),
    TOKEN_ENCRYPTION_KEY: base64Key.optional(),
    GIT_ALLOW_PRIVATE_HOSTS: bool.default('false'),
    WEB_UI: bool.default('true'),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    WORKER_TASK_QUEUES: z
      .string()
      .default(TASK_QUEUE_NAMES.join(','))
      .transform((v) => v.split(',').map((s) => s.trim()).filter(Boolean))
      .refine((qs) => qs.length > 0 && qs.every((q) => (TASK_QUEUE_NAMES as readonly string[]).includes(q)), {
        message: `must be a comma list of ${TASK_QUEUE_NAMES.join(', ')}`,
      }),
    TEMPORAL_UI_URL: httpUrl.default('http://localhost:8233'),
    REPO_RECONCILE_INTERVAL: duration.default('10m'),
    WORKSPACE_SYNC_INTERVAL: duration.default('10m'),
    MAX_REPO_SIZE: repoSize.default('2g'),
    BITBUCKET_REST_BUDGET: restBudget.default('900/1h'),
    LETTUCE_TASK_QUEUE_PREFIX: z.string().regex(/^[A-Za-z0-9_-]{0,40}$/, 'must be letters, digits, "-" or "_"').default(''),
    WORKER_SHUTDOWN_GRACE_SECONDS: z.coerce.number({ message: 'must be a number of seconds' }).int().min(0).max(3600).default(30),
    TEMPORAL_PAYLOAD_KEY: z
      .string()
      .transform((v, ctx) => {
        const keys = parsePayloadKeys(v);
        if (!keys) ctx.addIssue({ code: 'custom', message: 'must be a 32-byte base64 key (openssl rand -base64 32), or a comma list of keyId:key entries with distinct ids' });
        return keys ?? z.NEVER;
      })
      .optional(),
    CODEC_SERVER_AUTH: z.enum(['admin-token', 'none'], { message: 'must be admin-token or none' }).default('admin-token'),
    WORKER_METRICS_ADDRESS: z
      .string()
      .regex(/^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/, 'must be host:port (e.g. 0.0.0.0:9464)')
      .optional(),
  })
  .superRefine((env, ctx) => {
    // The consumer is configured with both halves or neither.
    if (env.BITBUCKET_APP_CLIENT_ID && !env.BITBUCKET_APP_CLIENT_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['BITBUCKET_APP_CLIENT_SECRET'], message: 'must be set when BITBUCKET_APP_CLIENT_ID is set' });
    }
    if (env.BITBUCKET_APP_CLIENT_SECRET && !env.BITBUCKET_APP_CLIENT_ID) {
      ctx.addIssue({ code: 'custom', path: ['BITBUCKET_APP_CLIENT_ID'], message: 'must be set when BITBUCKET_APP_CLIENT_SECRET is set' });
    }
  });

export interface Config {
  publicUrl: string;
  adminToken: string;
  bitbucket: { clientId: string; clientSecret: string } | null;
  bitbucketUrl: string;
  bitbucketApiUrl: string;
  databaseUrl: string;
  temporal: { address: string; namespace: string };
  port: number;
  dataDir: string;
  tokenEncryptionKey: Buffer;
  gitAllowPrivateHosts: boolean;
  /** Serve the web UI (CONTRACT §12) at / and /repos; off for a deployment whose own frontend has those paths. */
  webUi: boolean;
  logLevel: string;
  worker: { taskQueues: TaskQueueName[]; shutdownGraceSeconds: number };
  temporalUiUrl: string;
  /** At most this long after its last check, a repo's main-branch head is compared with its index (CONTRACT §11); 0 = off. */
  repoReconcileIntervalMs: number;
  /** WORKSPACE_SYNC_INTERVAL (CONTRACT §1, §13) in ms; 0 = off. Validated now; whole-workspace sync is not built yet. */
  workspaceSyncIntervalMs: number;
  /** BITBUCKET_REST_BUDGET: REST calls to Bitbucket all processes together may spend in any rolling window of `windowMs` (CONTRACT §13). */
  bitbucketRestBudget: { calls: number; windowMs: number };
  /** MAX_REPO_SIZE in bytes: a clone or fetch that would grow the repo's clone past it stops (`too_large`, CONTRACT §6); 0 = no limit. */
  maxRepoSizeBytes: number;
  /** Prefix for task queue names; empty in production, set by tests to isolate files. */
  taskQueuePrefix: string;
  /** Temporal payload encryption keys (first encrypts); null = payloads stored as plain JSON. */
  payloadKeys: PayloadKey[] | null;
  /** Who may call the codec server: the admin token, or anyone (dev stack only). */
  codecAuth: 'admin-token' | 'none';
  /** host:port of the worker runtime's Prometheus endpoint; null = off. */
  workerMetricsAddress: string | null;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type RawEnv = Record<string, string | undefined>;

/** Parses the environment. Variables the dev stack fills in may be absent only when `devStack` is set. */
export function loadConfig(env: RawEnv = process.env): Config {
  // Empty strings count as unset: compose files and shells produce them for "not configured".
  const cleaned: RawEnv = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') cleaned[k] = v;
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue.path[0] ?? 'configuration');
    throw new ConfigError(`Invalid configuration: ${name} ${issue.message}.`);
  }
  const e = parsed.data;
  const required = (name: string, value: string | undefined, hint: string): string => {
    if (!value) throw new ConfigError(`Invalid configuration: ${name} is required (${hint}).`);
    return value;
  };
  return {
    publicUrl: e.CODEWAZE_PUBLIC_URL,
    adminToken: required('CODEWAZE_ADMIN_TOKEN', e.CODEWAZE_ADMIN_TOKEN, 'the admin API token; `npm start` generates one'),
    bitbucket:
      e.BITBUCKET_APP_CLIENT_ID && e.BITBUCKET_APP_CLIENT_SECRET
        ? { clientId: e.BITBUCKET_APP_CLIENT_ID, clientSecret: e.BITBUCKET_APP_CLIENT_SECRET }
        : null,
    bitbucketUrl: e.BITBUCKET_URL,
    bitbucketApiUrl: e.BITBUCKET_API_URL,
    databaseUrl: required('DATABASE_URL', e.DATABASE_URL, 'a postgres:// URL; `npm start` runs an embedded PostgreSQL'),
    temporal: {
      address: required('TEMPORAL_ADDRESS', e.TEMPORAL_ADDRESS, 'host:port of Temporal; `npm start` runs a dev server'),
      namespace: e.TEMPORAL_NAMESPACE,
    },
    port: e.PORT,
    dataDir: path.resolve(e.DATA_DIR),
    tokenEncryptionKey: Buffer.from(
      required('TOKEN_ENCRYPTION_KEY', e.TOKEN_ENCRYPTION_KEY, '32 bytes, base64; `npm start` generates one'),
      'base64',
    ),
    gitAllowPrivateHosts: e.GIT_ALLOW_PRIVATE_HOSTS,
    webUi: e.WEB_UI,
    logLevel: e.LOG_LEVEL,
    worker: { taskQueues: e.WORKER_TASK_QUEUES as TaskQueueName[], shutdownGraceSeconds: e.WORKER_SHUTDOWN_GRACE_SECONDS },
    temporalUiUrl: e.TEMPORAL_UI_URL,
    repoReconcileIntervalMs: e.REPO_RECONCILE_INTERVAL,
    workspaceSyncIntervalMs: e.WORKSPACE_SYNC_INTERVAL,
    maxRepoSizeBytes: e.MAX_REPO_SIZE,
    bitbucketRestBudget: e.BITBUCKET_REST_BUDGET,
    taskQueuePrefix: e.LETTUCE_TASK_QUEUE_PREFIX,
    payloadKeys: e.TEMPORAL_PAYLOAD_KEY ?? null,
    codecAuth: e.CODEC_SERVER_AUTH,
    workerMetricsAddress: e.WORKER_METRICS_ADDRESS ?? null,
  };
}

/** Entry points call this: a bad configuration prints one line and exits, never a stack trace. */
export function loadConfigOrExit(env: RawEnv = process.env): Config {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}
