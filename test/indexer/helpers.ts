// Helpers of the indexer tests: the run's PostgreSQL, repo rows, and real git repositories built
// with the git CLI in temp dirs (an "origin" with a work tree, and shallow clones of it).
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DataSource } from 'typeorm';
import { createDataSource } from '../../src/db/data-source';

export async function openTestDb(): Promise<DataSource> {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error('TEST_DATABASE_URL is not set (run through jest, whose globalSetup starts PostgreSQL).');
  const ds = createDataSource(url, { poolSize: 6 });
  await ds.initialize();
  return ds;
}

export async function createRepoRow(ds: DataSource): Promise<string> {
  const [account] = await ds.query(`INSERT INTO accounts (name, webhook_secret) VALUES ($1, $2) RETURNING id`, ['Indexer Test', 'secret']);
  const key = crypto.randomBytes(6).toString('hex');
  const [repo] = await ds.query(
    `INSERT INTO repos (account_id, source, source_key, name, clone_url) VALUES ($1, 'url', $2, $3, $4) RETURNING id`,
    [account.id, `example.test/${key}`, `example.test/${key}`, `https://example.test/${key}.git`],
  );
  return repo.id as string;
}

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Test',
  GIT_AUTHOR_EMAIL: 'test@example.test',
  GIT_COMMITTER_NAME: 'Test',
  GIT_COMMITTER_EMAIL: 'test@example.test',
  GIT_CONFIG_NOSYSTEM: '1',
};

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'init.defaultBranch=main', '-c', 'protocol.file.allow=always', ...args], {
    cwd,
    env: GIT_ENV,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  }).trim();
}

export function tempDir(prefix: string): string {
  const base = process.env.TEST_TMP_DIR ?? os.tmpdir();
  return fs.mkdtempSync(path.join(base, `${prefix}-`));
}

export type Files = Record<string, string | Buffer | { symlink: string }>;

/** A work-tree repository; `write` then `commit` to make history. */
export class Origin {
  readonly dir = tempDir('origin');
  constructor() {
    git(this.dir, 'init', '-q');
  }
  write(files: Files): this {
    for (const [p, content] of Object.entries(files)) {
      const full = path.join(this.dir, p);
      fs.mkdirSync(path.dirname(full), { recursive: true });
      fs.rmSync(full, { force: true });
      if (typeof content === 'object' && !Buffer.isBuffer(content)) fs.symlinkSync(content.symlink, full);
      else fs.writeFileSync(full, content);
    }
    return this;
  }
  remove(...paths: string[]): this {
    for (const p of paths) fs.rmSync(path.join(this.dir, p), { force: true, recursive: true });
    return this;
  }
  rename(from: string, to: string): this {
    fs.mkdirSync(path.dirname(path.join(this.dir, to)), { recursive: true });
    fs.renameSync(path.join(this.dir, from), path.join(this.dir, to));
    return this;
  }
  commit(message = 'change'): string {
    git(this.dir, 'add', '-A');
    git(this.dir, 'commit', '-q', '--allow-empty', '-m', message);
    return git(this.dir, 'rev-parse', 'HEAD');
  }
  /** A shallow clone, as production makes it. */
  clone(opts: { bare?: boolean } = {}): string {
    const dir = tempDir('clone');
    git(dir, 'clone', '-q', '--depth', '1', ...(opts.bare ? ['--bare'] : []), `file://${this.dir}`, 'repo');
    return path.join(dir, 'repo');
  }
  /** `git fetch --depth 1` of the new head into an existing clone; returns the fetched commit. */
  static fetch(cloneDir: string): string {
    git(cloneDir, 'fetch', '-q', '--depth', '1', 'origin', 'main');
    return git(cloneDir, 'rev-parse', 'FETCH_HEAD');
  }
}
