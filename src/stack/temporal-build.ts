// The Temporal server and temporal-sql-tool at the version docker-compose.yml pins, built from
// the Go module `go.temporal.io/server` with this machine's Go (the images cannot run here), once
// per version into ~/.cache/lettuce/temporal-<version>/ (LETTUCE_CACHE_DIR to move it). The
// schema files the admin-tools image ships come from the same module.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DevStackError } from '../dev/processes';

export interface TemporalBuild {
  version: string;
  server: string;
  sqlTool: string;
  /** schema/postgresql/v12 of the module (what the admin-tools image has at /etc/temporal/schema/postgresql/v12). */
  postgresSchemaDir: string;
}

export const cacheDir = (env: Record<string, string | undefined> = process.env) => env.LETTUCE_CACHE_DIR || path.join(os.homedir(), '.cache', 'lettuce');

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout.trim());
      const last = `${stderr}`.trim().split('\n').filter(Boolean).slice(-3).join(' / ');
      reject(new Error((err as NodeJS.ErrnoException).code === 'ENOENT' ? 'ENOENT' : last || err.message));
    });
  });
}

export async function ensureTemporalBuild(version: string, say: (line: string) => void): Promise<TemporalBuild> {
  const bin = path.join(cacheDir(), `temporal-${version}`);
  const server = path.join(bin, 'server');
  const sqlTool = path.join(bin, 'sql');
  const env = { ...process.env, GOBIN: bin, GOFLAGS: '-mod=mod', GOTOOLCHAIN: process.env.GOTOOLCHAIN || 'auto' };
  const missing = [server, sqlTool].filter((f) => !fs.existsSync(f));
  if (missing.length > 0) {
    say(`Building the Temporal server ${version} and temporal-sql-tool from go.temporal.io/server (once, into ${bin}; a few minutes)...`);
    fs.mkdirSync(bin, { recursive: true });
    try {
      for (const pkg of ['cmd/server', 'cmd/tools/sql']) await run('go', ['install', `go.temporal.io/server/${pkg}@v${version}`], env, 30 * 60_000);
    } catch (err) {
      if ((err as Error).message === 'ENOENT') throw new DevStackError(`Go is not installed, and the stack builds the Temporal server ${version} with it: install Go (https://go.dev/dl/) and run again.`);
      throw new DevStackError(`Could not build the Temporal server ${version} with Go (${(err as Error).message}): check that the Go module proxy is reachable.`);
    }
  }
  // `go mod download -json` prints the module's folder (downloading it again if the cache was cleaned).
  const modDir = (JSON.parse(await run('go', ['mod', 'download', '-json', `go.temporal.io/server@v${version}`], env, 10 * 60_000)) as { Dir: string }).Dir;
  const postgresSchemaDir = path.join(modDir, 'schema', 'postgresql', 'v12');
  if (!fs.existsSync(postgresSchemaDir)) throw new DevStackError(`The Temporal module ${version} has no schema at ${postgresSchemaDir}: delete ${bin} and run again.`);
  return { version, server, sqlTool, postgresSchemaDir };
}
