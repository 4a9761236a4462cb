// Where the embedded PostgreSQL's binaries and data directory live when it runs as another user.
// PostgreSQL refuses to run as root, so as root it runs as the `postgres` system user — and a
// clone in a folder other users cannot enter (root's home, a `mktemp -d` folder: mode 0700) hides
// both node_modules and DATA_DIR from that user. Then what it cannot reach is put where it can:
// the binaries are copied (once per version) and the data directory is made under a root-owned
// folder every user can enter, /var/lib/lettuce, with DATA_DIR/postgres a link to it so later
// runs find the same database. Nothing is moved for a user who runs PostgreSQL as themselves.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { DevStackError } from './processes';

export const SHARED_DIR = '/var/lib/lettuce';

export interface RunAs {
  uid: number;
  gid: number;
}

export interface PostgresPlacement {
  /** The package's `native` folder (bin/, lib/, share/) the server runs from. */
  nativeDir: string;
  /** The data directory the server uses (the link's target when relocated). */
  pgdata: string;
  /** One sentence saying what was put where, or null when nothing had to move. */
  notice: string | null;
}

const COMPLETE_MARKER = '.lettuce-copy-complete';

/** Whether `runAs` passes the shell `test` expression on `file` (as PostgreSQL itself would run). */
function passes(runAs: RunAs, file: string, expression: string): boolean {
  const result = spawnSync('/bin/sh', ['-c', expression, 'sh', file], { uid: runAs.uid, gid: runAs.gid, stdio: 'ignore', timeout: 10_000 });
  return result.status === 0;
}

const binariesUsable = (runAs: RunAs, nativeDir: string) =>
  passes(runAs, nativeDir, 'test -x "$1/bin/initdb" && test -x "$1/bin/postgres" && test -r "$1/share/postgresql/postgres.bki"');
const dataDirUsable = (runAs: RunAs, dir: string) => passes(runAs, dir, 'test -d "$1" && test -w "$1" && test -x "$1"');

/** The first folder on the way to `file` that `runAs` cannot enter, if any. */
function blockedAt(runAs: RunAs, file: string): string | null {
  let dir = path.parse(file).root;
  for (const part of path.resolve(file).split(path.sep).filter(Boolean)) {
    dir = path.join(dir, part);
    if (!passes(runAs, dir, 'test -x "$1"')) return dir;
  }
  return null;
}

const RUNS_AS = 'PostgreSQL runs as the "postgres" user (it refuses root)';
const whoCannotEnter = (blocked: string | null) => (blocked ? `, who cannot enter ${blocked}` : '');

function cannotPlace(what: string, blocked: string | null, reason: string): DevStackError {
  return new DevStackError(
    `${RUNS_AS}${whoCannotEnter(blocked)} to reach ${what}, and ${reason}: ` +
      'run npm as a user other than root, move the project to a folder every user can enter, or set DATABASE_URL.',
  );
}

function ensureSharedDir(sharedDir: string, what: string, blocked: string | null): void {
  try {
    fs.mkdirSync(sharedDir, { recursive: true });
    fs.chmodSync(sharedDir, 0o755); // whatever root's umask
  } catch (err) {
    throw cannotPlace(what, blocked, `${sharedDir} could not be made to hold it (${(err as Error).message})`);
  }
}

/** Lets every user read the copy (and run what was executable), whatever root's umask was. */
function openUp(dir: string): void {
  fs.chmodSync(dir, 0o755);
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) openUp(file);
    else if (entry.isFile()) fs.chmodSync(file, fs.statSync(file).mode & 0o111 ? 0o755 : 0o644);
  }
}

/** A complete copy of `nativeDir` under `sharedDir`, made once per version (atomically: concurrent starts agree). */
function copiedBinaries(nativeDir: string, version: string, sharedDir: string): string {
  const dest = path.join(sharedDir, `postgres-${version}-${process.platform}-${process.arch}`);
  const complete = () => fs.existsSync(path.join(dest, COMPLETE_MARKER));
  if (complete()) return dest;
  const staging = `${dest}.partial-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  try {
    fs.cpSync(nativeDir, staging, { recursive: true, verbatimSymlinks: true });
    openUp(staging);
    fs.writeFileSync(path.join(staging, COMPLETE_MARKER), `${version}\n`, { mode: 0o644 });
    if (fs.existsSync(dest) && !complete()) fs.rmSync(dest, { recursive: true, force: true });
    fs.renameSync(staging, dest);
  } catch (err) {
    if (!complete()) throw err; // else another start copied it first
  } finally {
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return dest;
}

function makeDataDir(dir: string, runAs: RunAs): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700); // PostgreSQL insists
  fs.chownSync(dir, runAs.uid, runAs.gid);
}

/** The data directory `runAs` can use for `requested`: itself, the target of the link an earlier run left, or a new one under `sharedDir`. */
function placedDataDir(requested: string, runAs: RunAs, sharedDir: string): { pgdata: string; relocated: boolean } {
  const stat = fs.lstatSync(requested, { throwIfNoEntry: false });
  if (stat?.isSymbolicLink()) {
    const target = path.resolve(path.dirname(requested), fs.readlinkSync(requested));
    makeDataDir(target, runAs);
    return { pgdata: target, relocated: true };
  }
  makeDataDir(requested, runAs);
  if (dataDirUsable(runAs, requested)) return { pgdata: requested, relocated: false };

  const blocked = blockedAt(runAs, requested);
  if (fs.readdirSync(requested).length > 0) {
    throw cannotPlace(
      `its data in ${requested}`,
      blocked,
      'that folder already holds files, which are not moved for you: move them out and link the folder, for example ' +
        `\`mv ${requested} ${path.join(sharedDir, 'postgres-data')} && ln -s ${path.join(sharedDir, 'postgres-data')} ${requested}\``,
    );
  }
  fs.rmdirSync(requested);
  ensureSharedDir(sharedDir, `its data in ${requested}`, blocked);
  const target = path.join(sharedDir, `postgres-data-${crypto.createHash('sha256').update(path.resolve(requested)).digest('hex').slice(0, 12)}`);
  makeDataDir(target, runAs);
  fs.symlinkSync(target, requested);
  return { pgdata: target, relocated: true };
}

export function placeForPostgres(opts: { nativeDir: string; version: string; pgdata: string; runAs: RunAs | null; sharedDir?: string }): PostgresPlacement {
  const requested = path.resolve(opts.pgdata);
  if (!opts.runAs) {
    fs.mkdirSync(requested, { recursive: true, mode: 0o700 });
    return { nativeDir: opts.nativeDir, pgdata: requested, notice: null };
  }
  const runAs = opts.runAs;
  const sharedDir = opts.sharedDir ?? SHARED_DIR;
  const placed: string[] = [];
  let blocked: string | null = null;

  let nativeDir = opts.nativeDir;
  if (!binariesUsable(runAs, nativeDir)) {
    blocked = blockedAt(runAs, path.join(nativeDir, 'bin', 'initdb'));
    ensureSharedDir(sharedDir, 'its binaries', blocked);
    nativeDir = copiedBinaries(opts.nativeDir, opts.version, sharedDir);
    if (!binariesUsable(runAs, nativeDir)) throw cannotPlace('its binaries', blockedAt(runAs, path.join(nativeDir, 'bin', 'initdb')), `neither can it reach the copy in ${nativeDir}`);
    placed.push(`its binaries run from a copy in ${nativeDir}`);
  }

  const { pgdata, relocated } = placedDataDir(requested, runAs, sharedDir);
  if (!dataDirUsable(runAs, pgdata)) throw cannotPlace(`its data in ${pgdata}`, blockedAt(runAs, pgdata), 'no other place was found for it');
  if (relocated) {
    if (!placed.length) blocked = blockedAt(runAs, requested);
    placed.push(`its data is in ${pgdata} (linked from ${requested})`);
  }

  const notice = placed.length ? `${RUNS_AS}${whoCannotEnter(blocked)}: ${placed.join(' and ')}.` : null;
  return { nativeDir, pgdata, notice };
}
