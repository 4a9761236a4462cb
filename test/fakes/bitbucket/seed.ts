// Demo data for the sandbox and e2e tests, and a bulk helper for listing/pagination tests.
import type { FakeBitbucket, Permission } from './server';

export const DEMO_USER = 'demo';

/** What seedDemo creates, for assertions. */
export const DEMO = {
  user: DEMO_USER,
  displayName: 'Demo User',
  /** A second user (owns the repos demo only contributes to or reads). */
  otherUser: 'alice',
  workspaces: ['demo', 'acme', 'oss-lab'] as const,
  repos: {
    /** private, demo is admin (personal workspace) */
    hello: 'demo/hello-ts',
    /** private, demo is admin */
    api: 'acme/api',
    /** private, demo is admin, Python */
    worker: 'acme/worker-py',
    /** private, demo has write only: listed with role=contributor, hook creation answers 403 */
    contributorOnly: 'acme/frontend',
    /** private, demo has read only: not listed with role=contributor */
    readOnly: 'acme/infra',
    /** public, demo is admin; clones anonymously */
    public: 'oss-lab/go-tools',
  },
} as const;

const TS_FILES: Record<string, string> = {
  'README.md': '# hello-ts\n\nA tiny TypeScript service used by the Lettuce sandbox.\n',
  'package.json': '{\n  "name": "hello-ts",\n  "version": "1.0.0",\n  "main": "dist/index.js"\n}\n',
  'src/index.ts': "import { greet } from './greet';\n\nexport function main(): void {\n  console.log(greet('world'));\n}\n\nmain();\n",
  'src/greet.ts': 'export interface Greeting {\n  text: string;\n}\n\nexport function greet(name: string): string {\n  return `Hello, ${name}!`;\n}\n',
};

const API_FILES: Record<string, string> = {
  'README.md': '# acme/api\n\nHTTP API of Acme, in TypeScript, with a Python migration tool.\n',
  'src/server.ts': "import { createServer } from 'node:http';\nimport { routes } from './routes';\n\nexport function start(port = 3000) {\n  return createServer((req, res) => routes(req, res)).listen(port);\n}\n",
  'src/routes.ts': "import type { IncomingMessage, ServerResponse } from 'node:http';\n\nexport class NotFound extends Error {}\n\nexport function routes(req: IncomingMessage, res: ServerResponse): void {\n  if (req.url === '/health') {\n    res.end('ok');\n    return;\n  }\n  res.statusCode = 404;\n  res.end('not found');\n}\n",
  'tools/migrate.py': 'import sys\n\n\nclass Migration:\n    def __init__(self, name):\n        self.name = name\n\n    def run(self):\n        print(f"running {self.name}")\n\n\ndef main(argv):\n    for name in argv[1:]:\n        Migration(name).run()\n\n\nif __name__ == "__main__":\n    main(sys.argv)\n',
};

const PY_FILES: Record<string, string> = {
  'README.md': '# worker-py\n\nBackground jobs for Acme.\n',
  'worker/__init__.py': '',
  'worker/jobs.py': 'import time\n\n\nclass Job:\n    """A unit of background work."""\n\n    def __init__(self, payload):\n        self.payload = payload\n\n    def run(self):\n        time.sleep(0)\n        return {"ok": True, "payload": self.payload}\n\n\ndef handle(payload):\n    return Job(payload).run()\n',
  'requirements.txt': 'requests==2.32.3\n',
};

const FRONTEND_FILES: Record<string, string> = {
  'README.md': '# frontend\n\nAcme web frontend.\n',
  'src/App.tsx': "export function App(): JSX.Element {\n  return <h1>Acme</h1>;\n}\n",
  'src/api.ts': "export async function fetchRepos(): Promise<unknown> {\n  const res = await fetch('/v1/repos');\n  return res.json();\n}\n",
};

const INFRA_FILES: Record<string, string> = {
  'README.md': '# infra\n\nTerraform and scripts.\n',
  'main.tf': 'resource "null_resource" "demo" {}\n',
  'scripts/deploy.sh': '#!/bin/sh\necho deploying\n',
};

const GO_FILES: Record<string, string> = {
  'README.md': '# go-tools\n\nSmall Go utilities (public).\n',
  'go.mod': 'module example.test/go-tools\n\ngo 1.22\n',
  'cmd/hello/main.go': 'package main\n\nimport "fmt"\n\nfunc main() {\n\tfmt.Println(Hello("gopher"))\n}\n',
  'cmd/hello/hello.go': 'package main\n\n// Hello returns a greeting.\nfunc Hello(name string) string {\n\treturn "Hello, " + name\n}\n\ntype Greeter struct {\n\tPrefix string\n}\n',
};

/**
 * Seeds the demo world: user `demo` ("Demo User", current browser user) in 3 workspaces,
 * repos with real TypeScript/Python/Go content, one contributor-only repo, one read-only
 * repo and one public repo (see DEMO).
 */
export async function seedDemo(fake: FakeBitbucket): Promise<void> {
  fake.addUser({ nickname: DEMO.user, display_name: DEMO.displayName, email: 'demo@example.test' });
  fake.addUser({ nickname: DEMO.otherUser, display_name: 'Alice Admin', email: 'alice@example.test' });
  fake.setCurrentUser(DEMO.user);
  fake.addWorkspace({ slug: 'demo', name: 'Demo User', members: [{ nickname: DEMO.user, administrator: true }] });
  fake.addWorkspace({ slug: 'acme', name: 'Acme Corp', members: [{ nickname: DEMO.otherUser, administrator: true }, DEMO.user] });
  fake.addWorkspace({ slug: 'oss-lab', name: 'OSS Lab', members: [DEMO.user] });

  await fake.addRepo({ workspace: 'demo', slug: 'hello-ts', name: 'hello-ts', language: 'typescript', files: TS_FILES, owner: DEMO.user });
  await fake.addRepo({ workspace: 'acme', slug: 'api', name: 'API', language: 'typescript', files: API_FILES, owner: DEMO.user });
  await fake.addRepo({ workspace: 'acme', slug: 'worker-py', name: 'worker-py', language: 'python', files: PY_FILES, owner: DEMO.user });
  await fake.addRepo({ workspace: 'acme', slug: 'frontend', name: 'Frontend', language: 'typescript', files: FRONTEND_FILES, owner: DEMO.otherUser });
  fake.grant(DEMO.user, DEMO.repos.contributorOnly, 'write');
  await fake.addRepo({ workspace: 'acme', slug: 'infra', name: 'infra', language: 'shell', files: INFRA_FILES, owner: DEMO.otherUser });
  fake.grant(DEMO.user, DEMO.repos.readOnly, 'read');
  await fake.addRepo({ workspace: 'oss-lab', slug: 'go-tools', name: 'go-tools', language: 'go', is_private: false, files: GO_FILES, owner: DEMO.user });
}

export interface BulkOptions {
  /** Number of repos, default 120. */
  count?: number;
  /** Number of workspaces, default 3 (slugs `${prefix}-1` …). */
  workspaces?: number;
  /** The user who gets `permission` on every repo (created if missing). Default DEMO_USER. */
  user?: string;
  permission?: 'read' | 'write' | 'admin';
  prefix?: string;
  /** Give every repo a README commit (slower: one git process per repo). Default false: empty, lazy bare repos. */
  withContent?: boolean;
}

/**
 * Creates `count` repos spread round-robin over `workspaces` workspaces, all visible to `user`.
 * Returns the full names, sorted.
 */
export async function seedMany(fake: FakeBitbucket, opts: BulkOptions = {}): Promise<string[]> {
  const count = opts.count ?? 120;
  const nWs = opts.workspaces ?? 3;
  const user = opts.user ?? DEMO_USER;
  const prefix = opts.prefix ?? 'bulk';
  if (!fake.user(user)) fake.addUser({ nickname: user });
  const slugs: string[] = [];
  for (let i = 1; i <= nWs; i++) {
    const slug = `${prefix}-${i}`;
    fake.addWorkspace({ slug, name: `Bulk ${i}`, members: [user] });
    slugs.push(slug);
  }
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const ws = slugs[i % nWs];
    const slug = `repo-${String(i + 1).padStart(4, '0')}`;
    await fake.addRepo({
      workspace: ws, slug, files: opts.withContent ? { 'README.md': `# ${slug}\n` } : undefined,
    });
    fake.grant(user, `${ws}/${slug}`, opts.permission ?? 'admin');
    names.push(`${ws}/${slug}`);
  }
  return names.sort();
}

/** The files every seedWorkspace repo shares by default (a tiny TypeScript project). */
export const SEED_FILES: Readonly<Record<string, string>> = Object.freeze({
  'package.json': '{\n  "name": "seeded",\n  "version": "1.0.0",\n  "main": "dist/index.js"\n}\n',
  'src/index.ts': "import { greet } from './greet';\n\nexport function main(): void {\n  console.log(greet('world'));\n}\n",
  'src/greet.ts': 'export function greet(name: string): string {\n  return `Hello, ${name}!`;\n}\n',
  '.gitignore': 'node_modules/\ndist/\n',
});

export interface SeedWorkspaceMember {
  nickname: string;
  /** A workspace administrator ("owner"): admin on every repo, may use workspace hooks. Default false. */
  administrator?: boolean;
  /** An explicit permission on every seeded repo (none by default: a plain member sees only public repos). */
  permission?: Permission;
}

export interface SeedWorkspaceOptions {
  /** The workspace's slug; it must not exist yet. */
  workspace: string;
  /** How many repos (hundreds to thousands are fine: 1,000 take a few seconds at most). */
  count: number;
  /** The workspace owner (an administrator, and every repo's creator); created if missing. Default DEMO_USER. */
  owner?: string;
  /** Other members (created if missing): a nickname is a plain member. */
  members?: Array<string | SeedWorkspaceMember>;
  /**
   * Content every repo shares (default SEED_FILES). Each repo also gets its own README.md naming it
   * unless `files` has one, and always a commit of its own ("Initial commit of ws/slug"), so no two
   * repos have the same head.
   */
  files?: Record<string, string>;
  /** Repo slugs are `${slugPrefix}-0001` … (zero-padded to at least 4 digits). Default "repo". */
  slugPrefix?: string;
  /** The workspace's display name (default the slug). */
  name?: string;
  /** Default true. */
  is_private?: boolean;
}

/**
 * A large workspace, cheaply: `count` repos, each a real bare git repository with one commit on
 * `main` (clonable, `headOf` works, later `fake.commit`s land in that repo only and `deliverPush`
 * reports only them). The shared content is written with git once, into a template whose objects
 * every repo hard-links; each repo's own README, trees and commit are written in-process (no git
 * process per repo). Returns the repos' full names, sorted.
 */
export async function seedWorkspace(fake: FakeBitbucket, opts: SeedWorkspaceOptions): Promise<string[]> {
  if (!Number.isInteger(opts.count) || opts.count < 0) throw new Error(`count must be an integer >= 0, not ${opts.count}`);
  const owner = opts.owner ?? DEMO_USER;
  const members: SeedWorkspaceMember[] = (opts.members ?? []).map((m) => (typeof m === 'string' ? { nickname: m } : m));
  for (const nick of [owner, ...members.map((m) => m.nickname)]) if (!fake.user(nick)) fake.addUser({ nickname: nick });
  const ws = fake.addWorkspace({
    slug: opts.workspace,
    name: opts.name,
    members: [{ nickname: owner, administrator: true }, ...members.map((m) => ({ nickname: m.nickname, administrator: m.administrator ?? false }))],
  });
  const shared = opts.files ?? SEED_FILES;
  const ownReadme = !('README.md' in shared);
  const prefix = opts.slugPrefix ?? 'repo';
  const width = Math.max(4, String(opts.count).length);
  const template = await fake.repoTemplate({ ...shared });
  const names: string[] = [];
  try {
    for (let i = 1; i <= opts.count; i++) {
      const slug = `${prefix}-${String(i).padStart(width, '0')}`;
      const full = `${ws.slug}/${slug}`;
      await fake.addRepo({
        workspace: ws.slug, slug, owner, is_private: opts.is_private, template, message: `Initial commit of ${full}`,
        files: ownReadme ? { 'README.md': `# ${slug}\n\nRepository ${i} of ${opts.count} in the ${ws.slug} workspace.\n` } : undefined,
      });
      for (const m of members) if (m.permission) fake.grant(m.nickname, full, m.permission);
      names.push(full);
    }
  } finally {
    await template.dispose();
  }
  return names.sort();
}
