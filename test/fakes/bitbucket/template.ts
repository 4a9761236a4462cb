// Cheap repositories for large workspaces (seedWorkspace): one bare "template" repository is written
// once with git, and every seeded repository gets its objects as hard links (a copy where links are
// impossible) plus a few loose objects of its own, written here in-process (a per-repo file such as a
// README, the trees above it, and its own commit), so no git process runs per repository. Every copy
// is an ordinary bare repository: later commits (`git fast-import`) add packs to that repository only,
// and git never rewrites an object file in place, so the shared inodes stay as they are.
import { createHash } from 'node:crypto';
import { existsSync, promises as fsp, copyFileSync, linkSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { git, GitStore, validateBranch, validateFilePath } from './git';

interface TreeEntry {
  /** As stored in a tree object: "100644", "100755", "120000", "40000", "160000". */
  mode: string;
  name: string;
  /** 40 hex. */
  sha: string;
}

export interface TemplateCommit {
  branch: string;
  /** Files of this repository only, written over the template's (path → content). */
  files?: Record<string, string>;
  message: string;
  author: { name: string; email: string };
  /** Seconds since the epoch; default now. */
  time?: number;
}

const CONFIG = '[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = true\n'
  + '[uploadpack]\n\tallowReachableSHA1InWant = true\n[http]\n\treceivepack = false\n';

/** Git's tree order: byte order of the names, a tree's name compared as if it ended in "/". */
function treeOrder(a: TreeEntry, b: TreeEntry): number {
  const key = (e: TreeEntry) => Buffer.from(e.mode === '40000' ? `${e.name}/` : e.name, 'utf8');
  return Buffer.compare(key(a), key(b));
}

export class RepoTemplate {
  private constructor(
    /** The template's bare repository (removed by dispose()). */
    readonly dir: string,
    /** Directory path ("" = root) → its entries. */
    private readonly trees: Map<string, TreeEntry[]>,
    /** Files under the template's objects/ (relative paths) every copy links to. */
    private readonly objectFiles: string[],
  ) {}

  /** Writes `files` into a new bare repository at `dir` (with git, once) and reads its trees back. */
  static async build(dir: string, files: Record<string, string>): Promise<RepoTemplate> {
    if (existsSync(dir)) throw new Error(`${dir} exists`);
    await fsp.mkdir(dir, { recursive: true });
    await git(['init', '--bare', '--quiet', '--initial-branch=main', dir]);
    const store = new GitStore(path.dirname(dir));
    const sha = await store.commit(dir, 'main', files, { message: 'template' });
    const trees = new Map<string, TreeEntry[]>([['', []]]);
    const out = await git(['ls-tree', '-r', '-t', '-z', sha], { cwd: dir });
    for (const rec of out.split('\0').filter(Boolean)) {
      const m = /^(\d+) (\w+) ([0-9a-f]{40})\t(.*)$/s.exec(rec);
      if (!m) throw new Error(`unexpected ls-tree output ${JSON.stringify(rec)}`);
      const [, mode, type, objSha, p] = m;
      const parent = p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '';
      const entry = { mode: type === 'tree' ? '40000' : mode, name: p.slice(parent === '' ? 0 : parent.length + 1), sha: objSha };
      if (type === 'tree' && !trees.has(p)) trees.set(p, []);
      const list = trees.get(parent) ?? [];
      trees.set(parent, list);
      list.push(entry);
    }
    // One pack (and its index) in place of fast-import's objects, a few links per copy whatever the
    // file count: the blobs and trees below the root only. Not the template's commit nor its root tree:
    // every copy writes its own (instantiate), and these would only dangle there.
    const wanted = [...trees.values()].flat().filter((e) => e.mode !== '160000').map((e) => e.sha);
    const objects = path.join(dir, 'objects');
    const packName = wanted.length === 0 ? null
      : (await git(['pack-objects', '-q', path.join(objects, 'pack', 'tmpl')], { cwd: dir, input: `${[...new Set(wanted)].join('\n')}\n` })).trim();
    for (const e of readdirSync(objects, { withFileTypes: true })) {
      if (e.name !== 'pack' && e.name !== 'info') await fsp.rm(path.join(objects, e.name), { recursive: true, force: true });
    }
    for (const f of readdirSync(path.join(objects, 'pack'))) {
      if (packName === null || !f.startsWith(`tmpl-${packName}.`)) await fsp.rm(path.join(objects, 'pack', f), { force: true });
    }
    const objectFiles: string[] = [];
    const walk = (rel: string) => {
      for (const e of readdirSync(path.join(objects, rel), { withFileTypes: true })) {
        const r = rel ? `${rel}/${e.name}` : e.name;
        if (e.isDirectory()) walk(r);
        else if (e.isFile() && !r.startsWith('info/')) objectFiles.push(r);
      }
    };
    walk('');
    return new RepoTemplate(dir, trees, objectFiles);
  }

  /**
   * Creates the bare repository `target` with the template's objects (hard links) and one commit
   * on `branch` (also its HEAD): the template's files with `files` written over them. Returns the
   * commit's sha. Synchronous and in-process: no git command runs.
   */
  instantiate(target: string, c: TemplateCommit): string {
    if (existsSync(path.join(target, 'HEAD'))) throw new Error(`${target} is already a repository`);
    validateBranch(c.branch);
    for (const p of Object.keys(c.files ?? {})) validateFilePath(p);
    const objects = path.join(target, 'objects');
    for (const d of ['objects/pack', 'objects/info', 'refs/heads', 'refs/tags']) mkdirSync(path.join(target, d), { recursive: true });
    writeFileSync(path.join(target, 'config'), CONFIG);
    const dirsMade = new Set<string>(['pack', 'info']);
    for (const rel of this.objectFiles) {
      const sub = path.dirname(rel);
      if (!dirsMade.has(sub)) {
        mkdirSync(path.join(objects, sub), { recursive: true });
        dirsMade.add(sub);
      }
      const from = path.join(this.dir, 'objects', rel);
      const to = path.join(objects, rel);
      try {
        linkSync(from, to);
      } catch {
        copyFileSync(from, to); // another file system, or no hard links there
      }
    }
    const write = (type: string, body: Buffer): string => {
      const raw = Buffer.concat([Buffer.from(`${type} ${body.length}\0`), body]);
      const sha = createHash('sha1').update(raw).digest('hex');
      const dir = path.join(objects, sha.slice(0, 2));
      if (!dirsMade.has(sha.slice(0, 2))) {
        mkdirSync(dir, { recursive: true });
        dirsMade.add(sha.slice(0, 2));
      }
      try {
        // 'wx': never write through an existing file, which may be a link shared with other repositories.
        writeFileSync(path.join(dir, sha.slice(2)), zlib.deflateSync(raw, { level: 1 }), { flag: 'wx', mode: 0o444 });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      return sha;
    };
    const tree = this.writeTree('', c.files ?? {}, write);
    const time = c.time ?? Math.floor(Date.now() / 1000);
    const ident = `${c.author.name} <${c.author.email}> ${time} +0000`;
    const message = c.message.endsWith('\n') ? c.message : `${c.message}\n`;
    const commit = write('commit', Buffer.from(`tree ${tree}\nauthor ${ident}\ncommitter ${ident}\n\n${message}`, 'utf8'));
    const ref = path.join(target, 'refs/heads', c.branch);
    mkdirSync(path.dirname(ref), { recursive: true });
    writeFileSync(ref, `${commit}\n`);
    writeFileSync(path.join(target, 'HEAD'), `ref: refs/heads/${c.branch}\n`);
    return commit;
  }

  /** The tree at `dir` with `files` (paths relative to the repository root) written over it; returns its sha. */
  private writeTree(dir: string, files: Record<string, string>, write: (type: string, body: Buffer) => string): string {
    const prefix = dir === '' ? '' : `${dir}/`;
    const here = new Map<string, string>();
    const subdirs = new Set<string>();
    for (const [p, content] of Object.entries(files)) {
      if (!p.startsWith(prefix)) continue;
      const rest = p.slice(prefix.length);
      if (rest.includes('/')) subdirs.add(rest.slice(0, rest.indexOf('/')));
      else here.set(rest, content);
    }
    const base = this.trees.get(dir) ?? [];
    if (here.size === 0 && subdirs.size === 0) {
      const own = this.treeShaOf(dir);
      if (own) return own;
    }
    const entries = new Map(base.map((e) => [e.name, { ...e }]));
    for (const [name, content] of here) entries.set(name, { mode: '100644', name, sha: write('blob', Buffer.from(content, 'utf8')) });
    for (const name of subdirs) entries.set(name, { mode: '40000', name, sha: this.writeTree(`${prefix}${name}`, files, write) });
    const body = Buffer.concat([...entries.values()].sort(treeOrder).map((e) =>
      Buffer.concat([Buffer.from(`${e.mode} ${e.name}\0`, 'utf8'), Buffer.from(e.sha, 'hex')])));
    return write('tree', body);
  }

  /** The template's own sha of the tree at `dir` (null for the root, always written anew, or a new directory). */
  private treeShaOf(dir: string): string | null {
    if (dir === '') return null;
    const parent = dir.includes('/') ? dir.slice(0, dir.lastIndexOf('/')) : '';
    const name = dir.slice(parent === '' ? 0 : parent.length + 1);
    return this.trees.get(parent)?.find((e) => e.name === name && e.mode === '40000')?.sha ?? null;
  }

  /** Removes the template repository; the copies keep their (linked) objects. */
  async dispose(): Promise<void> {
    await fsp.rm(this.dir, { recursive: true, force: true });
    await fsp.rmdir(path.dirname(this.dir)).catch(() => undefined); // the templates' directory, once empty
  }
}
