// docker-compose.yml as data: the file `npm run stack` takes its topology from. Read as Compose does
// it — `.env` then the environment interpolated into `${VAR}`, `${VAR:-default}`, `${VAR:?error}`,
// YAML anchors and `<<` merges resolved, profiles filtering services — and nothing more: what a
// service is on this machine is local-mapping.ts's business.
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { DevStackError } from '../dev/processes';

export type DependsOn = Record<string, 'service_started' | 'service_healthy' | 'service_completed_successfully'>;

export interface Healthcheck {
  /** ['CMD', ...argv] or ['CMD-SHELL', script]. */
  test: string[];
  intervalMs: number;
  retries: number;
  startPeriodMs: number;
}

export interface ComposeService {
  name: string;
  image: string;
  /** The service builds the project's own image (`build:`). */
  builds: boolean;
  entrypoint: string[] | null;
  command: string[] | null;
  environment: Record<string, string>;
  dependsOn: DependsOn;
  /** 'source:target[:mode]' as written. */
  volumes: string[];
  /** 'host:container' or 'ip:host:container' as written. */
  ports: string[];
  restart: 'no' | 'always' | 'unless-stopped' | 'on-failure';
  healthcheck: Healthcheck | null;
  replicas: number;
  stopGraceMs: number;
}

export interface ComposeFile {
  projectDir: string;
  services: Map<string, ComposeService>;
}

type Env = Record<string, string | undefined>;

/** Compose's `.env`: KEY=VALUE lines, `#` comments, optional quotes. */
export function readDotEnv(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!fs.existsSync(file)) return out;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!m) continue;
    let value = m[2];
    if (/^(['"]).*\1$/.test(value)) value = value.slice(1, -1);
    else value = value.replace(/\s+#.*$/, '');
    out[m[1]] = value;
  }
  return out;
}

/** One string with Compose's variable syntax; `$$` is a literal `$`. */
export function interpolate(text: string, env: Env): string {
  return text.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])((?:[^{}]|\{[^{}]*\})*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (whole, name?: string, op?: string, arg?: string, bare?: string) => {
    if (whole === '$$') return '$';
    if (bare) return env[bare] ?? '';
    const value = env[name!];
    const unset = op?.startsWith(':') ? !value : value === undefined;
    if (!op || !unset) return value ?? '';
    if (op.endsWith('-')) return interpolate(arg ?? '', env);
    throw new DevStackError(`docker-compose.yml needs ${name}: ${interpolate(arg ?? '', env) || 'it is not set'}.`);
  });
}

function interpolateDeep(value: unknown, env: Env): unknown {
  if (typeof value === 'string') return interpolate(value, env);
  if (Array.isArray(value)) return value.map((v) => interpolateDeep(v, env));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateDeep(v, env)]));
  return value;
}

/** '45s', '1m30s', '500ms' → milliseconds. */
export function durationMs(text: unknown, fallback: number): number {
  if (text === undefined || text === null || text === '') return fallback;
  let total = 0;
  const s = String(text);
  const parts = s.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g);
  let matched = '';
  for (const [all, n, unit] of parts) {
    matched += all;
    total += Number(n) * { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[unit as 'ms' | 's' | 'm' | 'h'];
  }
  if (matched !== s) throw new DevStackError(`docker-compose.yml has a duration Compose would refuse: "${s}".`);
  return total;
}

/** Compose splits a string command into words (no shell); ours are all lists. */
const argv = (v: unknown): string[] | null => (v === undefined || v === null ? null : Array.isArray(v) ? v.map(String) : String(v).trim().split(/\s+/));

function environmentOf(v: unknown): Record<string, string> {
  if (!v) return {};
  if (Array.isArray(v)) return Object.fromEntries(v.map((item) => String(item).split(/=(.*)/s).slice(0, 2)).map(([k, val]) => [k, val ?? '']));
  return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, val]) => [k, val === null || val === undefined ? '' : String(val)]));
}

function dependsOnOf(v: unknown): DependsOn {
  if (!v) return {};
  if (Array.isArray(v)) return Object.fromEntries(v.map((name) => [String(name), 'service_started' as const]));
  return Object.fromEntries(Object.entries(v as Record<string, { condition?: string }>).map(([k, d]) => [k, (d?.condition ?? 'service_started') as DependsOn[string]]));
}

function healthcheckOf(v: unknown): Healthcheck | null {
  const h = v as { test?: unknown; disable?: boolean; interval?: string; retries?: number; start_period?: string } | undefined;
  if (!h || h.disable || !h.test) return null;
  const test = typeof h.test === 'string' ? ['CMD-SHELL', h.test] : (h.test as unknown[]).map(String);
  if (test[0] === 'NONE') return null;
  return { test, intervalMs: durationMs(h.interval, 30_000), retries: Number(h.retries ?? 3), startPeriodMs: durationMs(h.start_period, 0) };
}

/**
 * Reads `composeFile` with `env` (the process's environment over the project's `.env`, as Compose
 * does), keeping the services of the default profile plus `profiles`. `scale` overrides replicas.
 */
export function loadComposeFile(composeFile: string, opts: { env: Env; profiles?: string[]; scale?: Record<string, number> }): ComposeFile {
  const projectDir = path.dirname(path.resolve(composeFile));
  const env: Env = { ...readDotEnv(path.join(projectDir, '.env')), ...opts.env };
  let doc: { services?: Record<string, Record<string, unknown>> };
  try {
    doc = parse(fs.readFileSync(composeFile, 'utf8'), { merge: true, maxAliasCount: -1 }) as typeof doc;
  } catch (err) {
    throw new DevStackError(`Could not read ${composeFile}: ${(err as Error).message}`);
  }
  const services = new Map<string, ComposeService>();
  for (const [name, raw] of Object.entries(doc.services ?? {})) {
    const profiles = (raw.profiles as string[] | undefined) ?? [];
    if (profiles.length > 0 && !profiles.some((p) => opts.profiles?.includes(p))) continue;
    const s = interpolateDeep(raw, env) as Record<string, unknown>;
    const deploy = (s.deploy ?? {}) as { replicas?: unknown };
    services.set(name, {
      name,
      image: String(s.image ?? ''),
      builds: s.build !== undefined,
      entrypoint: argv(s.entrypoint),
      command: argv(s.command),
      environment: environmentOf(s.environment),
      dependsOn: dependsOnOf(s.depends_on),
      volumes: ((s.volumes as unknown[]) ?? []).map(String),
      ports: ((s.ports as unknown[]) ?? []).map(String),
      restart: (String(s.restart ?? 'no') as ComposeService['restart']),
      healthcheck: healthcheckOf(s.healthcheck),
      replicas: opts.scale?.[name] ?? Number(deploy.replicas ?? 1),
      stopGraceMs: durationMs(s.stop_grace_period, 10_000),
    });
  }
  for (const s of services.values()) {
    for (const dep of Object.keys(s.dependsOn)) {
      if (!services.has(dep)) throw new DevStackError(`docker-compose.yml: ${s.name} depends on ${dep}, which is not a service of the chosen profiles.`);
    }
  }
  return { projectDir, services };
}

/** Services in Compose's start order: every service after what it depends on. */
export function startOrder(file: ComposeFile): ComposeService[] {
  const done = new Set<string>();
  const out: ComposeService[] = [];
  const visit = (s: ComposeService, trail: string[]) => {
    if (done.has(s.name)) return;
    if (trail.includes(s.name)) throw new DevStackError(`docker-compose.yml has a dependency cycle: ${[...trail, s.name].join(' → ')}.`);
    for (const dep of Object.keys(s.dependsOn)) visit(file.services.get(dep)!, [...trail, s.name]);
    done.add(s.name);
    out.push(s);
  };
  for (const s of file.services.values()) visit(s, []);
  return out;
}
