// Static checks of the production deployment files: Dockerfile, .dockerignore, docker-compose.yml,
// .env.example and deploy/. No Docker engine is involved: the files are parsed and checked against
// each other, against package.json and against CONTRACT §1, §9 and §10.
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { INDEXING_PROCESS_ENV } from '../../src/indexer/process-memory';

const ROOT = path.resolve(__dirname, '..', '..');
const readText = (rel: string): string => fs.readFileSync(path.join(ROOT, rel), 'utf8');

// ── docker-compose.yml ──────────────────────────────────────────────────────────────────────────

type Scalar = string | number | boolean | null;
type PortSpec = string | number | { target?: number | string; published?: number | string; host_ip?: string };
type VolumeSpec = string | { type?: string; source?: string; target?: string; read_only?: boolean };

interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string[] | string;
  entrypoint?: string[] | string;
  environment?: Record<string, Scalar> | string[];
  ports?: PortSpec[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string[] | string; disable?: boolean };
  deploy?: { replicas?: number | string };
  container_name?: string;
  volumes?: VolumeSpec[];
  stop_grace_period?: string;
  restart?: string;
  profiles?: string[];
}

interface ComposeFile {
  version?: unknown;
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

const compose = parse(readText('docker-compose.yml'), { merge: true }) as ComposeFile;
const services = compose.services;

function service(name: string): Service {
  const s = services[name];
  if (!s) throw new Error(`docker-compose.yml has no service "${name}"`);
  return s;
}

type Vars = Record<string, string | undefined>;

// Compose's interpolation: $$, $NAME, ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error},
// ${NAME?error}, ${NAME:+alt}, ${NAME+alt}.
const VAR_PATTERN = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])((?:[^{}]|\{[^{}]*\})*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g;

function interpolate(value: string, vars: Vars): string {
  return value.replace(VAR_PATTERN, (match: string, name?: string, op?: string, arg?: string, bare?: string) => {
    if (match === '$$') return '$';
    const key = (name ?? bare) as string;
    const v = vars[key];
    const set = v !== undefined;
    const nonEmpty = set && v !== '';
    const rest = interpolate(arg ?? '', vars);
    switch (op) {
      case ':-': return nonEmpty ? (v as string) : rest;
      case '-': return set ? (v as string) : rest;
      case ':?': if (!nonEmpty) throw new Error(`${key}: ${rest}`); return v as string;
      case '?': if (!set) throw new Error(`${key}: ${rest}`); return v as string;
      case ':+': return nonEmpty ? rest : '';
      case '+': return set ? rest : '';
      default: return v ?? '';
    }
  });
}

function variablesIn(value: string): string[] {
  const names: string[] = [];
  for (const m of value.matchAll(VAR_PATTERN)) {
    if (m[0] === '$$') continue;
    names.push((m[1] ?? m[4]) as string);
    if (m[3]) names.push(...variablesIn(m[3]));
  }
  return names;
}

function stringsIn(node: unknown, out: string[] = []): string[] {
  if (typeof node === 'string') out.push(node);
  else if (Array.isArray(node)) node.forEach((n) => stringsIn(n, out));
  else if (node && typeof node === 'object') Object.values(node).forEach((n) => stringsIn(n, out));
  return out;
}

function rawEnv(s: Service): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  if (Array.isArray(s.environment)) {
    for (const entry of s.environment) {
      const i = entry.indexOf('=');
      if (i < 0) env[entry] = undefined;
      else env[entry.slice(0, i)] = entry.slice(i + 1);
    }
  } else {
    for (const [k, v] of Object.entries(s.environment ?? {})) env[k] = v === null ? undefined : String(v);
  }
  return env;
}

function envOf(s: Service, vars: Vars): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(rawEnv(s))) out[k] = v === undefined ? undefined : interpolate(v, vars);
  return out;
}

interface PortMapping { hostIp?: string; published?: string; target: string }

function portsOf(s: Service, vars: Vars): PortMapping[] {
  return (s.ports ?? []).map((p) => {
    if (typeof p === 'object') {
      return {
        hostIp: p.host_ip,
        published: p.published === undefined ? undefined : interpolate(String(p.published), vars),
        target: String(p.target),
      };
    }
    const parts = interpolate(String(p), vars).replace(/\/(tcp|udp)$/, '').split(':');
    const target = parts.pop() as string;
    const published = parts.pop();
    return { hostIp: parts.pop(), published, target };
  });
}

function dependsOn(s: Service): Record<string, string> {
  if (Array.isArray(s.depends_on)) return Object.fromEntries(s.depends_on.map((d) => [d, 'service_started']));
  return Object.fromEntries(Object.entries(s.depends_on ?? {}).map(([k, v]) => [k, v.condition ?? 'service_started']));
}

const words = (cmd: string[] | string | undefined): string[] =>
  Array.isArray(cmd) ? cmd : (cmd ?? '').split(/\s+/).filter(Boolean);

function healthTest(s: Service): string {
  const t = s.healthcheck?.test;
  return Array.isArray(t) ? t.join(' ') : (t ?? '');
}

function seconds(duration: string): number {
  const parts = [...duration.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== duration) throw new Error(`bad duration ${duration}`);
  const unit: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };
  return parts.reduce((sum, p) => sum + Number(p[1]) * unit[p[2] as string], 0);
}

/** Host path of a container path, through the service's bind mounts. */
function hostPathOf(s: Service, containerPath: string, vars: Vars): string | undefined {
  for (const v of s.volumes ?? []) {
    let source: string | undefined;
    let target: string | undefined;
    if (typeof v === 'string') {
      [source, target] = interpolate(v, vars).split(':');
    } else {
      source = v.source;
      target = v.target;
    }
    if (!source || !target || !/^\.{0,2}\//.test(source)) continue; // bind mounts only
    if (containerPath === target || containerPath.startsWith(`${target}/`)) {
      return path.join(ROOT, source, containerPath.slice(target.length));
    }
  }
  return undefined;
}

function shellSyntaxOk(file: string): { ok: boolean; stderr: string } {
  const r = spawnSync('sh', ['-n', file], { encoding: 'utf8' });
  return { ok: r.status === 0, stderr: r.stderr };
}

// ── .env.example ────────────────────────────────────────────────────────────────────────────────

const envExampleLines = readText('.env.example').split(/\r?\n/);
const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/;
const COMMENTED_ASSIGNMENT = /^#\s*([A-Za-z_][A-Za-z0-9_]*)=/;

const envExample: Vars = {};
const documented = new Set<string>();
for (const line of envExampleLines) {
  const a = ASSIGNMENT.exec(line);
  if (a) {
    envExample[a[1] as string] = a[2] as string;
    documented.add(a[1] as string);
  }
  const c = COMMENTED_ASSIGNMENT.exec(line);
  if (c) documented.add(c[1] as string);
}

// The production secrets as an operator fills them in (values shaped like `openssl rand` output).
const SECRETS: Vars = {
  CODEWAZE_ADMIN_TOKEN: 'q0Hk2n1VYbq3bJ0hX2n5YQeJbJmQ4m8vQmUj7nN1d1o=',
  TOKEN_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
};
const FILLED: Vars = { ...envExample, ...SECRETS };

const APP_SERVICES = ['migrate', 'api', 'worker', 'indexing-worker'];
const WORKER_SERVICES = ['worker', 'indexing-worker'];
const REQUIRED_SECRETS = ['CODEWAZE_ADMIN_TOKEN', 'TOKEN_ENCRYPTION_KEY'];
const TASK_QUEUES = ['lettuce-control', 'lettuce-indexing'];
const SEARCH_ATTRIBUTES = ['LettuceAccountId', 'LettuceRepo', 'LettuceRepoStatus', 'LettuceWorkspace'];

describe('docker-compose.yml', () => {
  it('follows the Compose specification (no version key) and defines the whole stack', () => {
    expect(compose.version).toBeUndefined();
    expect(Object.keys(services).sort()).toEqual(
      ['api', 'indexing-worker', 'migrate', 'postgres', 'temporal', 'temporal-admin-tools', 'temporal-setup', 'temporal-ui', 'worker'].sort(),
    );
  });

  it('pins the upstream images to the reference versions, overridable from the environment', () => {
    const image = (name: string, vars: Vars): string => interpolate(service(name).image ?? '', vars);
    for (const vars of [{}, envExample]) {
      expect(image('postgres', vars)).toBe('postgres:16');
      expect(image('temporal', vars)).toBe('temporalio/server:1.30.1');
      expect(image('temporal-admin-tools', vars)).toBe('temporalio/admin-tools:1.30.1');
      expect(image('temporal-setup', vars)).toBe('temporalio/admin-tools:1.30.1');
      expect(image('temporal-ui', vars)).toBe('temporalio/ui:2.34.0');
    }
    expect(image('temporal', { TEMPORAL_VERSION: '1.31.0' })).toBe('temporalio/server:1.31.0');
    for (const [name, s] of Object.entries(services)) {
      if (APP_SERVICES.includes(name)) continue;
      expect(s.image).not.toMatch(/auto-setup|:latest$/);
      expect(s.build).toBeUndefined();
    }
  });

  it('publishes only the API (PORT → 8080) and the Temporal UI (loopback 8233 → 8080)', () => {
    expect(portsOf(service('api'), {})).toEqual([{ hostIp: undefined, published: '8080', target: '8080' }]);
    expect(portsOf(service('api'), { PORT: '9090' })).toEqual([{ hostIp: undefined, published: '9090', target: '8080' }]);
    expect(portsOf(service('temporal-ui'), envExample)).toEqual([{ hostIp: '127.0.0.1', published: '8233', target: '8080' }]);
    expect(portsOf(service('temporal-ui'), {})).toEqual([{ hostIp: '127.0.0.1', published: '8233', target: '8080' }]);
    for (const [name, s] of Object.entries(services)) {
      if (name !== 'api' && name !== 'temporal-ui') expect({ name, ports: s.ports ?? [] }).toEqual({ name, ports: [] });
    }
  });

  it('runs the API, the workers and the migration job from one build, with one environment', () => {
    const api = service('api');
    expect(api.build).toEqual({ context: '.', dockerfile: 'Dockerfile' });
    const apiEnv = envOf(api, FILLED);
    for (const name of APP_SERVICES) {
      const s = service(name);
      expect(s.build).toEqual(api.build);
      expect(s.image).toBe(api.image);
      const env = envOf(s, FILLED);
      for (const [k, v] of Object.entries(apiEnv)) expect({ service: name, [k]: env[k] }).toEqual({ service: name, [k]: v });
    }
    for (const key of [
      'CODEWAZE_PUBLIC_URL', 'CODEWAZE_ADMIN_TOKEN', 'TOKEN_ENCRYPTION_KEY', 'TEMPORAL_PAYLOAD_KEY', 'BITBUCKET_APP_CLIENT_ID',
      'BITBUCKET_APP_CLIENT_SECRET', 'BITBUCKET_URL', 'BITBUCKET_API_URL', 'DATABASE_URL', 'TEMPORAL_ADDRESS',
      'TEMPORAL_NAMESPACE', 'PORT', 'DATA_DIR', 'GIT_ALLOW_PRIVATE_HOSTS', 'LOG_LEVEL',
    ]) {
      expect(Object.keys(apiEnv)).toContain(key);
    }
    expect(apiEnv.NODE_ENV).toBe('production');
    expect(apiEnv.PORT).toBe('8080');
    expect(apiEnv.BITBUCKET_URL).toBe('https://bitbucket.org');
    expect(apiEnv.BITBUCKET_API_URL).toBe('https://api.bitbucket.org/2.0');
    expect(apiEnv.GIT_ALLOW_PRIVATE_HOSTS).toBe('false');
    expect(apiEnv.BITBUCKET_APP_CLIENT_SECRET).toBe(''); // blank = integration not configured
  });

  it('points the app at the bundled PostgreSQL database and Temporal frontend', () => {
    for (const vars of [FILLED, { ...FILLED, POSTGRES_USER: 'ops', POSTGRES_PASSWORD: 's3cret', POSTGRES_DB: 'lettuce_prod' }]) {
      const env = envOf(service('api'), vars);
      const pg = envOf(service('postgres'), vars);
      const url = new URL(env.DATABASE_URL ?? '');
      expect(url.protocol).toBe('postgres:');
      expect(url.hostname).toBe('postgres');
      expect(url.port).toBe('5432');
      expect(decodeURIComponent(url.username)).toBe(pg.POSTGRES_USER);
      expect(decodeURIComponent(url.password)).toBe(pg.POSTGRES_PASSWORD);
      expect(url.pathname).toBe(`/${pg.POSTGRES_DB}`);
      expect(['temporal', 'temporal_visibility']).not.toContain(pg.POSTGRES_DB);

      expect(env.TEMPORAL_ADDRESS).toBe('temporal:7233');
      // The namespace the app uses is the one temporal-setup creates and the UI opens.
      expect(env.TEMPORAL_NAMESPACE).toBe(envOf(service('temporal-setup'), vars).TEMPORAL_NAMESPACE);
      expect(env.TEMPORAL_NAMESPACE).toBe(envOf(service('temporal-ui'), vars).TEMPORAL_DEFAULT_NAMESPACE);
    }
    expect(envOf(service('api'), { ...FILLED, TEMPORAL_NAMESPACE: 'lettuce' }).TEMPORAL_NAMESPACE).toBe('lettuce');
    expect(envOf(service('temporal-setup'), { TEMPORAL_NAMESPACE: 'lettuce' }).TEMPORAL_NAMESPACE).toBe('lettuce');
  });

  it('refuses to start the app without the production secrets', () => {
    for (const secret of REQUIRED_SECRETS) {
      for (const name of APP_SERVICES) {
        expect(rawEnv(service(name))[secret]).toMatch(new RegExp(`^\\$\\{${secret}:\\?.+\\}$`));
        expect(() => envOf(service(name), { ...FILLED, [secret]: '' })).toThrow(secret);
        expect(() => envOf(service(name), { ...FILLED, [secret]: undefined })).toThrow(secret);
      }
    }
  });

  it('starts the processes package.json declares', () => {
    const scripts = (JSON.parse(readText('package.json')) as { scripts: Record<string, string> }).scripts;
    expect(words(service('api').command)).toEqual(words(scripts['start:api']));
    expect(words(service('worker').command)).toEqual(words(scripts['start:worker']));
    expect(words(service('indexing-worker').command)).toEqual(words(scripts['start:worker']));
    expect(words(service('migrate').command)).toEqual(words(scripts.migrate));
    expect(words(service('api').command)).toEqual(['node', 'dist/src/api/main.js']);
    expect(words(service('worker').command)).toEqual(['node', 'dist/src/temporal/worker-main.js']);
  });

  it('orders start-up with health and completion conditions', () => {
    const appDeps = {
      postgres: 'service_healthy',
      migrate: 'service_completed_successfully',
      'temporal-setup': 'service_completed_successfully',
    };
    expect(dependsOn(service('temporal-admin-tools'))).toEqual({ postgres: 'service_healthy' });
    expect(dependsOn(service('temporal'))).toEqual({
      postgres: 'service_healthy',
      'temporal-admin-tools': 'service_completed_successfully',
    });
    expect(dependsOn(service('temporal-setup'))).toEqual({ temporal: 'service_healthy' });
    expect(dependsOn(service('temporal-ui'))).toEqual({ temporal: 'service_healthy' });
    expect(dependsOn(service('migrate'))).toEqual({ postgres: 'service_healthy' });
    expect(dependsOn(service('api'))).toEqual(appDeps);
    expect(dependsOn(service('worker'))).toEqual(appDeps);
    expect(dependsOn(service('indexing-worker'))).toEqual(appDeps);

    // Every condition can actually be met.
    for (const [name, s] of Object.entries(services)) {
      for (const [dep, condition] of Object.entries(dependsOn(s))) {
        const target = service(dep);
        if (condition === 'service_healthy') {
          expect({ name, dep, healthcheck: Boolean(target.healthcheck?.test) && !target.healthcheck?.disable }).toEqual({
            name, dep, healthcheck: true,
          });
        }
        if (condition === 'service_completed_successfully') {
          expect({ name, dep, restart: target.restart ?? 'no', replicas: target.deploy?.replicas }).toEqual({
            name, dep, restart: 'no', replicas: undefined,
          });
        }
      }
    }
  });

  it('has healthchecks on postgres, temporal and the api (readiness), none on workers', () => {
    expect(healthTest(service('postgres'))).toMatch(/pg_isready/);
    expect(healthTest(service('temporal'))).toMatch(/\b7233\b/);
    const api = healthTest(service('api'));
    expect(api).toMatch(/^CMD node /);
    expect(api).toMatch(/\/readyz$/);
    // The image's HEALTHCHECK probes the API port, which a worker does not serve.
    for (const name of [...WORKER_SERVICES, 'migrate']) expect(service(name).healthcheck?.disable).toBe(true);
  });

  it('keeps workers replicable, splits the task queues and lets in-flight activities drain', () => {
    for (const name of WORKER_SERVICES) {
      const w = service(name);
      expect(w.container_name).toBeUndefined();
      expect(w.ports ?? []).toEqual([]);
      for (const vars of [{}, envExample]) {
        const grace = Number(envOf(w, { ...vars, ...SECRETS }).WORKER_SHUTDOWN_GRACE_SECONDS);
        expect(grace).toBeGreaterThan(0);
        expect(seconds(interpolate(w.stop_grace_period ?? '10s', vars))).toBeGreaterThanOrEqual(grace + 10);
      }
    }
    const worker = service('worker');
    expect(interpolate(String(worker.deploy?.replicas), {})).toBe('1');
    expect(interpolate(String(worker.deploy?.replicas), { WORKER_REPLICAS: '4' })).toBe('4');
    expect(envOf(worker, { ...FILLED, WORKER_TASK_QUEUES: undefined }).WORKER_TASK_QUEUES?.split(',').sort()).toEqual(TASK_QUEUES);
    expect(envOf(worker, { ...FILLED, WORKER_TASK_QUEUES: 'lettuce-control' }).WORKER_TASK_QUEUES).toBe('lettuce-control');

    // Every process that may run index builds starts with the memory settings the indexer measured.
    for (const name of WORKER_SERVICES) expect(envOf(service(name), FILLED)).toMatchObject(INDEXING_PROCESS_ENV);
    expect(envOf(service('api'), FILLED).NODE_OPTIONS).toBeUndefined();

    const indexing = service('indexing-worker');
    expect(indexing.profiles).toEqual(['indexing']);
    expect(envOf(indexing, FILLED).WORKER_TASK_QUEUES).toBe('lettuce-indexing');

    // Clones persist on a named volume at DATA_DIR, shared by the API and every replica.
    for (const name of ['api', ...WORKER_SERVICES]) {
      expect(envOf(service(name), FILLED).DATA_DIR).toBe('/data');
      expect(service(name).volumes).toContain('lettuce-data:/data');
    }
    expect(Object.keys(compose.volumes ?? {})).toEqual(expect.arrayContaining(['lettuce-data', 'postgres-data']));
    expect(service('postgres').volumes).toContain('postgres-data:/var/lib/postgresql/data');
  });

  it('runs Temporal on PostgreSQL with a dynamic config file that exists', () => {
    const temporal = service('temporal');
    const env = envOf(temporal, FILLED);
    const pg = envOf(service('postgres'), FILLED);
    expect(env).toMatchObject({
      DB: 'postgres12',
      DB_PORT: '5432',
      POSTGRES_SEEDS: 'postgres',
      POSTGRES_USER: pg.POSTGRES_USER,
      POSTGRES_PWD: pg.POSTGRES_PASSWORD,
      BIND_ON_IP: '0.0.0.0',
    });
    const dynamicConfig = hostPathOf(temporal, env.DYNAMIC_CONFIG_FILE_PATH ?? '', FILLED);
    expect(dynamicConfig).toBeDefined();
    expect(path.relative(ROOT, dynamicConfig as string)).toMatch(/^deploy\//);
    const parsed = parse(fs.readFileSync(dynamicConfig as string, 'utf8')) as Record<string, { value: unknown }[]>;
    expect(parsed['limit.maxIDLength']?.[0]?.value).toBe(255);
    // The workflow cache is bounded by bytes and purged in the background (1.30's default keeps every
    // run touched within the hour, up to 128,000 of them).
    expect(parsed['history.cacheSizeBasedLimit']?.[0]?.value).toBe(true);
    expect(parsed['history.hostLevelCacheMaxSizeBytes']?.[0]?.value).toBeLessThanOrEqual(128 * 1024 * 1024);
    expect(parsed['history.cacheBackgroundEvict']?.[0]?.value).toMatchObject({ Enabled: true });
    // Go's soft memory limit, in the runtime's syntax ("160MB" would stop the server: malformed GOMEMLIMIT).
    expect(env.GOMEMLIMIT).toMatch(/^\d+(B|KiB|MiB|GiB)$/);
  });

  it('creates both Temporal databases with temporal-sql-tool before the server starts', () => {
    const job = service('temporal-admin-tools');
    const jobEnv = envOf(job, FILLED);
    const serverEnv = envOf(service('temporal'), FILLED);
    for (const k of ['DB_PORT', 'POSTGRES_SEEDS', 'POSTGRES_USER', 'POSTGRES_PWD', 'DBNAME', 'VISIBILITY_DBNAME']) {
      expect({ [k]: jobEnv[k] }).toEqual({ [k]: serverEnv[k] });
    }
    expect([serverEnv.DBNAME, serverEnv.VISIBILITY_DBNAME]).toEqual(['temporal', 'temporal_visibility']);

    const script = [...words(job.entrypoint), ...words(job.command)].find((w) => w.endsWith('.sh'));
    const file = hostPathOf(job, script ?? '', FILLED);
    expect(file && fs.existsSync(file)).toBeTruthy();
    const text = fs.readFileSync(file as string, 'utf8');
    expect(shellSyntaxOk(file as string)).toEqual({ ok: true, stderr: '' });
    expect(text).toMatch(/temporal-sql-tool --plugin postgres12/);
    for (const step of ['create', 'setup-schema -v 0.0', 'update-schema -d']) expect(text).toContain(step);
    expect(text).toContain('postgresql/v12');
    expect(text).toMatch(/setup_db "\$DBNAME" temporal\b/);
    expect(text).toMatch(/setup_db "\$VISIBILITY_DBNAME" visibility\b/);
  });

  it('creates the namespace with a deliberate retention and registers the Keyword search attributes', () => {
    const setup = service('temporal-setup');
    expect(envOf(setup, {})).toMatchObject({ TEMPORAL_ADDRESS: 'temporal:7233', TEMPORAL_NAMESPACE: 'default', TEMPORAL_NAMESPACE_RETENTION: '7d' });
    const script = [...words(setup.entrypoint), ...words(setup.command)].find((w) => w.endsWith('.sh'));
    const file = hostPathOf(setup, script ?? '', FILLED);
    expect(file && fs.existsSync(file)).toBeTruthy();
    expect(shellSyntaxOk(file as string)).toEqual({ ok: true, stderr: '' });
    const text = fs.readFileSync(file as string, 'utf8').replace(/\\\n\s*/g, ' '); // join continued lines
    expect(text).toMatch(/temporal operator namespace create[^\n]*--retention "\$RETENTION"/);
    expect(text).toMatch(/temporal operator search-attribute create[^\n]*--type Keyword/);
    expect(text).toContain('already exists'); // idempotent
    const listed = /SEARCH_ATTRIBUTES="([^"]*)"/.exec(text)?.[1]?.split(/\s+/).sort();
    expect(listed).toEqual([...SEARCH_ATTRIBUTES].sort());
  });

  it('wires the Temporal UI to the server, the namespace and the optional codec endpoint', () => {
    const ui = service('temporal-ui');
    expect(envOf(ui, {})).toMatchObject({ TEMPORAL_ADDRESS: 'temporal:7233', TEMPORAL_CODEC_ENDPOINT: '' });
    expect(envOf(ui, {}).TEMPORAL_CORS_ORIGINS).toMatch(/^https?:\/\//);
    expect(envOf(ui, { TEMPORAL_CODEC_ENDPOINT: 'https://lettuce.example/codec' }).TEMPORAL_CODEC_ENDPOINT).toBe(
      'https://lettuce.example/codec',
    );
  });
});

describe('.env.example', () => {
  const interpolated = new Set(stringsIn(compose).flatMap(variablesIn));

  it('documents every variable docker-compose.yml interpolates', () => {
    expect(interpolated.size).toBeGreaterThan(10);
    expect([...interpolated].filter((v) => !documented.has(v))).toEqual([]);
  });

  it('documents every CONTRACT §1 variable and the operational knobs', () => {
    const expected = [
      'CODEWAZE_PUBLIC_URL', 'CODEWAZE_ADMIN_TOKEN', 'BITBUCKET_APP_CLIENT_ID', 'BITBUCKET_APP_CLIENT_SECRET', 'BITBUCKET_URL',
      'BITBUCKET_API_URL', 'DATABASE_URL', 'TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'PORT', 'DATA_DIR', 'TOKEN_ENCRYPTION_KEY',
      'GIT_ALLOW_PRIVATE_HOSTS', 'LOG_LEVEL', 'WORKER_TASK_QUEUES', 'WORKER_SHUTDOWN_GRACE_SECONDS', 'TEMPORAL_PAYLOAD_KEY',
      'TEMPORAL_CODEC_ENDPOINT', 'WORKER_REPLICAS', 'REPO_RECONCILE_INTERVAL', 'WORKSPACE_SYNC_INTERVAL', 'MAX_REPO_SIZE', 'BITBUCKET_REST_BUDGET',
    ];
    expect(expected.filter((v) => !documented.has(v))).toEqual([]);
  });

  it('puts a comment line above each variable', () => {
    const undocumented = envExampleLines.flatMap((line, i) => {
      const name = ASSIGNMENT.exec(line)?.[1] ?? COMMENTED_ASSIGNMENT.exec(line)?.[1];
      if (!name) return [];
      const above = envExampleLines[i - 1] ?? '';
      return /^#\s*\S/.test(above) && !COMMENTED_ASSIGNMENT.test(above) ? [] : [name];
    });
    expect(undocumented).toEqual([]);
  });

  it('ships no usable secret and says how to generate them', () => {
    for (const secret of [...REQUIRED_SECRETS, 'TEMPORAL_PAYLOAD_KEY', 'BITBUCKET_APP_CLIENT_SECRET']) {
      expect({ [secret]: envExample[secret] }).toEqual({ [secret]: '' });
    }
    expect(readText('.env.example')).toContain('openssl rand -base64 32');
    // Copied as is, compose stops on the blank secrets instead of starting with a known one.
    expect(() => stringsIn(compose).forEach((s) => interpolate(s, envExample))).toThrow(/CODEWAZE_ADMIN_TOKEN|TOKEN_ENCRYPTION_KEY/);
    expect(() => stringsIn(compose).forEach((s) => interpolate(s, FILLED))).not.toThrow();
  });
});

// ── Dockerfile and .dockerignore ────────────────────────────────────────────────────────────────

interface Instruction { cmd: string; args: string }
interface Stage { image: string; name?: string; instructions: Instruction[] }

function dockerfileStages(text: string): Stage[] {
  const logical = text
    .split(/\r?\n/)
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const stages: Stage[] = [];
  for (const line of logical) {
    const [, cmd = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const instruction = { cmd: cmd.toUpperCase(), args: args.replace(/\s+/g, ' ') };
    if (instruction.cmd === 'FROM') {
      const [, image = '', name] = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.args) ?? [];
      stages.push({ image, name, instructions: [] });
    } else if (stages.length === 0) {
      if (instruction.cmd !== 'ARG') throw new Error(`instruction before FROM: ${line}`);
    } else {
      (stages[stages.length - 1] as Stage).instructions.push(instruction);
    }
  }
  return stages;
}

const dockerfile = readText('Dockerfile');
const stages = dockerfileStages(dockerfile);
const finalStage = stages[stages.length - 1] as Stage;
const all = (stage: Stage, cmd: string): string[] => stage.instructions.filter((i) => i.cmd === cmd).map((i) => i.args);
const last = (stage: Stage, cmd: string): string | undefined => all(stage, cmd).pop();

describe('Dockerfile', () => {
  it('is multi-stage on Debian bookworm (glibc for the Temporal native bridge), never Alpine', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const s of stages) expect(s.image).toMatch(/^node:20(\.\d+)*-bookworm(-slim)?(@sha256:[0-9a-f]{64})?$/);
    const instructions = stages.flatMap((s) => [s.image, ...s.instructions.map((i) => i.args)]).join('\n');
    expect(instructions).not.toMatch(/alpine|musl/i);
  });

  it('builds the code and the workflow bundle, then ships production dependencies only', () => {
    const buildStage = stages.find((s) => all(s, 'RUN').some((r) => r.includes('npm run build')));
    expect(buildStage).toBeDefined();
    const build = buildStage as Stage;
    expect(build).not.toBe(finalStage);
    expect(all(build, 'RUN').some((r) => /\bnpm ci\b/.test(r))).toBe(true);
    expect(all(build, 'RUN').join('\n')).toContain('dist/workflow-bundle.js');
    expect(all(build, 'RUN').join('\n')).toContain('dist/ui/index.html'); // the web UI the API serves
    const prunedOrProdOnly = stages.some((s) => all(s, 'RUN').some((r) => /npm prune --omit=dev|npm ci --omit=dev/.test(r)));
    expect(prunedOrProdOnly).toBe(true);

    const copies = all(finalStage, 'COPY');
    const copiedFromBuild = copies.filter((c) => c.startsWith(`--from=${build.name} `)).join('\n');
    expect(copiedFromBuild).toMatch(/\/app\/dist\b/);
    expect(copiedFromBuild).toMatch(/\/app\/node_modules\b/);
    expect(copiedFromBuild).toMatch(/\/app\/package\.json\b/);
    // Sources never reach the runtime image: only built output and the healthcheck probe.
    expect(copies.filter((c) => !c.startsWith('--from='))).toEqual(['deploy/healthcheck.js ./healthcheck.js']);
    expect(all(finalStage, 'RUN').join('\n')).not.toMatch(/npm (ci|install)/);
  });

  it('runs as an unprivileged user that owns DATA_DIR=/data, a volume', () => {
    const user = last(finalStage, 'USER');
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
    expect(user).toMatch(/^(node|[1-9]\d*)(:(node|[1-9]\d*))?$/);
    const env = all(finalStage, 'ENV').join(' ');
    expect(env).toMatch(/\bNODE_ENV=production\b/);
    expect(env).toMatch(/\bDATA_DIR=\/data\b/);
    expect(all(finalStage, 'RUN').join('\n')).toMatch(/chown (node|1000)(:(node|1000))? \/data/);
    expect(all(finalStage, 'VOLUME').join(' ')).toMatch(/"\/data"|^\/data$/);
  });

  it('installs git and CA certificates without recommends and cleans the apt lists', () => {
    const run = all(finalStage, 'RUN').find((r) => r.includes('apt-get install')) ?? '';
    expect(run).toContain('--no-install-recommends');
    expect(run).toMatch(/\bgit\b/);
    expect(run).toMatch(/\bca-certificates\b/);
    expect(run).toContain('rm -rf /var/lib/apt/lists/*');
  });

  it('exposes 8080, stops on SIGTERM, probes /healthz with node and starts the API by default', () => {
    expect(all(finalStage, 'EXPOSE')).toEqual(['8080']);
    expect(last(finalStage, 'STOPSIGNAL')).toBe('SIGTERM');
    const healthcheck = last(finalStage, 'HEALTHCHECK') ?? '';
    const probe = /CMD (\[.*\])$/.exec(healthcheck)?.[1];
    expect(JSON.parse(probe ?? 'null')).toEqual(['node', '/app/healthcheck.js', '/healthz']);
    expect(JSON.parse(last(finalStage, 'CMD') ?? 'null')).toEqual(['node', 'dist/src/api/main.js']);
    const scripts = (JSON.parse(readText('package.json')) as { scripts: Record<string, string> }).scripts;
    expect(JSON.parse(last(finalStage, 'CMD') ?? 'null')).toEqual(words(scripts['start:api']));
  });
});

describe('deploy/healthcheck.js', () => {
  const run = promisify(execFile);
  const probe = async (port: number, route: string): Promise<number> => {
    try {
      await run(process.execPath, [path.join(ROOT, 'deploy/healthcheck.js'), route], {
        env: { ...process.env, PORT: String(port) },
        timeout: 10_000,
      });
      return 0;
    } catch (err) {
      return (err as { code?: number }).code ?? -1;
    }
  };

  it('exits 0 only on a 200 from the API port', async () => {
    const server = http.createServer((req, res) => {
      res.statusCode = req.url === '/healthz' ? 200 : 503;
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      expect(await probe(port, '/healthz')).toBe(0);
      expect(await probe(port, '/readyz')).toBe(1);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    expect(await probe(port, '/healthz')).toBe(1); // nothing listening
  });
});

describe('.dockerignore', () => {
  const patterns = readText('.dockerignore')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

  const toRegExp = (pattern: string): RegExp => {
    const body = pattern
      .replace(/^\/+|\/+$/g, '')
      .split('/')
      .map((seg) => (seg === '**' ? '.*' : seg.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')))
      .join('/');
    return new RegExp(`^${body}(/.*)?$`);
  };
  // Docker's rule: the last matching pattern wins; `!` re-includes.
  const excluded = (p: string): boolean =>
    patterns.reduce((ex, pat) => {
      const negate = pat.startsWith('!');
      return toRegExp(negate ? pat.slice(1) : pat).test(p) ? !negate : ex;
    }, false);

  it('keeps local state, dependencies, build output and secrets out of the build context', () => {
    for (const p of ['node_modules', 'node_modules/koa/package.json', 'dist', 'dist/workflow-bundle.js', '.lettuce', '.stack', '.stack/volumes/postgres-data/PG_VERSION', '.tools', '.git', 'coverage', '.env', 'test/unit/compose.test.ts', 'test/support/global-setup.ts', 'test-output/browser/seed-flow/01-sign-in.png']) {
      expect({ [p]: excluded(p) }).toEqual({ [p]: true });
    }
  });

  it('keeps what the build and the image need', () => {
    for (const p of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json', 'src/config.ts', 'workflows/index.ts', 'activities/index.ts', 'deploy/healthcheck.js', 'test/fakes/bitbucket/server.ts', 'web/build.ts', 'web/tsconfig.json', 'web/src/main.tsx']) {
      expect({ [p]: excluded(p) }).toEqual({ [p]: false });
    }
  });
});
