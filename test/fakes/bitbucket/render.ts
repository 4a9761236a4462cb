// JSON shapes of Bitbucket Cloud objects, as the REST API and webhook payloads send them.
// Checked against the official OpenAPI spec by test/fakes-tests/fake-bitbucket-spec.test.ts.
import type { CommitInfo } from './git';
import { escapeHtml } from './http-util';
import type { FakeHook, FakeRepo, FakeUser, FakeWorkspace } from './model';

export interface Urls {
  siteUrl: string; // http://127.0.0.1:PORT
  apiUrl: string; // ${siteUrl}/2.0
}

const link = (href: string) => ({ href });
const enc = encodeURIComponent;

export function renderUser(u: FakeUser, urls: Urls): Record<string, unknown> {
  return {
    type: 'user',
    uuid: u.uuid,
    account_id: u.account_id,
    nickname: u.nickname,
    display_name: u.display_name,
    account_status: 'active',
    created_on: u.created_on,
    is_staff: false,
    has_2fa_enabled: false,
    location: null,
    links: {
      self: link(`${urls.apiUrl}/users/${enc(u.uuid)}`),
      avatar: link(`${urls.siteUrl}/account/${enc(u.uuid)}/avatar/`),
      html: link(`${urls.siteUrl}/${enc(u.uuid)}/`),
      repositories: link(`${urls.apiUrl}/repositories/${enc(u.uuid)}`),
      snippets: link(`${urls.apiUrl}/snippets/${enc(u.uuid)}`),
      hooks: link(`${urls.apiUrl}/users/${enc(u.uuid)}/hooks`),
    },
  };
}

/** The short user form embedded in payloads and commit authors. */
export function renderUserRef(u: FakeUser, urls: Urls): Record<string, unknown> {
  return {
    display_name: u.display_name,
    links: {
      self: link(`${urls.apiUrl}/users/${enc(u.uuid)}`),
      avatar: link(`${urls.siteUrl}/account/${enc(u.uuid)}/avatar/`),
      html: link(`${urls.siteUrl}/${enc(u.uuid)}/`),
    },
    type: 'user',
    uuid: u.uuid,
    account_id: u.account_id,
    nickname: u.nickname,
  };
}

export function renderWorkspaceBase(w: FakeWorkspace, urls: Urls): Record<string, unknown> {
  return {
    type: 'workspace_base',
    uuid: w.uuid,
    slug: w.slug,
    links: {
      avatar: link(`${urls.siteUrl}/workspaces/${w.slug}/avatar/`),
      self: link(`${urls.apiUrl}/workspaces/${w.slug}`),
    },
  };
}

export function renderWorkspaceRef(w: FakeWorkspace, urls: Urls): Record<string, unknown> {
  return {
    type: 'workspace',
    uuid: w.uuid,
    name: w.name,
    slug: w.slug,
    links: {
      avatar: link(`${urls.siteUrl}/workspaces/${w.slug}/avatar/`),
      html: link(`${urls.siteUrl}/${w.slug}/`),
      self: link(`${urls.apiUrl}/workspaces/${w.slug}`),
    },
  };
}

function renderOwner(w: FakeWorkspace, urls: Urls): Record<string, unknown> {
  return {
    display_name: w.name,
    links: {
      self: link(`${urls.apiUrl}/workspaces/${enc(w.uuid)}`),
      avatar: link(`${urls.siteUrl}/account/${w.slug}/avatar/`),
      html: link(`${urls.siteUrl}/${enc(w.uuid)}/`),
    },
    type: 'team',
    uuid: w.uuid,
    username: w.slug,
  };
}

function renderProject(w: FakeWorkspace, urls: Urls, withSelf: boolean): Record<string, unknown> {
  const links: Record<string, unknown> = {};
  // The spec's project.links allows only html and avatar; webhook payloads also carry self.
  if (withSelf) links.self = link(`${urls.apiUrl}/workspaces/${w.slug}/projects/${w.project.key}`);
  links.html = link(`${urls.siteUrl}/${w.slug}/workspace/projects/${w.project.key}`);
  links.avatar = link(`${urls.siteUrl}/account/user/${w.slug}/projects/${w.project.key}/avatar/32`);
  return { type: 'project', key: w.project.key, uuid: w.project.uuid, name: w.project.name, links };
}

function repoBase(r: FakeRepo, urls: Urls): string {
  return `${urls.apiUrl}/repositories/${r.workspace}/${r.slug}`;
}

/**
 * The repository object of GET /2.0/repositories/{workspace}[/{repo_slug}]. `size` is the bytes its
 * bare repository takes on disk, as Bitbucket reports a repository's size (0 before any content).
 */
export function renderRepository(r: FakeRepo, w: FakeWorkspace, viewer: FakeUser | null, urls: Urls, size = 0): Record<string, unknown> {
  const api = repoBase(r, urls);
  const site = new URL(urls.siteUrl);
  const httpsClone = `${site.protocol}//${viewer ? `${enc(viewer.nickname)}@` : ''}${site.host}/${r.workspace}/${r.slug}.git`;
  return {
    type: 'repository',
    full_name: `${r.workspace}/${r.slug}`,
    links: {
      self: link(api),
      html: link(`${urls.siteUrl}/${r.workspace}/${r.slug}`),
      avatar: link(`${urls.siteUrl}/ravatar/${enc(r.uuid)}?ts=default`),
      pullrequests: link(`${api}/pullrequests`),
      commits: link(`${api}/commits`),
      forks: link(`${api}/forks`),
      watchers: link(`${api}/watchers`),
      downloads: link(`${api}/downloads`),
      clone: [
        { name: 'https', href: httpsClone },
        { name: 'ssh', href: `git@${site.hostname}:${r.workspace}/${r.slug}.git` },
      ],
      hooks: link(`${api}/hooks`),
    },
    name: r.name,
    slug: r.slug,
    description: r.description,
    scm: 'git',
    website: null,
    owner: renderOwner(w, urls),
    workspace: renderWorkspaceRef(w, urls),
    is_private: r.is_private,
    project: renderProject(w, urls, false),
    fork_policy: r.is_private ? 'no_public_forks' : 'allow_forks',
    created_on: r.created_on,
    updated_on: r.updated_on,
    size,
    language: r.language,
    uuid: r.uuid,
    mainbranch: { name: r.mainbranch, type: 'branch' },
    override_settings: { default_merge_strategy: true, branching_model: true },
    enforced_signed_commits: null,
    has_issues: false,
    has_wiki: false,
  };
}

/** The repository object of webhook payloads: no slug, no links.clone (reference §3.4). */
export function renderPayloadRepository(r: FakeRepo, w: FakeWorkspace, urls: Urls): Record<string, unknown> {
  return {
    type: 'repository',
    full_name: `${r.workspace}/${r.slug}`,
    links: {
      self: link(repoBase(r, urls)),
      html: link(`${urls.siteUrl}/${r.workspace}/${r.slug}`),
      avatar: link(`${urls.siteUrl}/ravatar/${enc(r.uuid)}?ts=default`),
    },
    name: r.name,
    scm: 'git',
    website: null,
    owner: renderOwner(w, urls),
    workspace: renderWorkspaceRef(w, urls),
    is_private: r.is_private,
    project: renderProject(w, urls, true),
    uuid: r.uuid,
  };
}

/** The fields every webhook_subscription has, whatever its subject. */
function hookBody(h: FakeHook, subjectType: 'repository' | 'workspace', subject: Record<string, unknown>, self: string): Record<string, unknown> {
  return {
    type: 'webhook_subscription',
    uuid: h.uuid,
    url: h.url,
    description: h.description,
    subject_type: subjectType,
    subject,
    active: h.active,
    created_at: h.created_at,
    events: [...h.events],
    secret_set: h.secret !== null,
    read_only: false,
    skip_cert_verification: false,
    source: null,
    history_enabled: false,
    links: { self: link(self) },
  };
}

export function renderHook(h: FakeHook, r: FakeRepo, urls: Urls): Record<string, unknown> {
  return hookBody(h, 'repository', {
    type: 'repository',
    full_name: `${r.workspace}/${r.slug}`,
    name: r.name,
    uuid: r.uuid,
    links: {
      self: link(repoBase(r, urls)),
      html: link(`${urls.siteUrl}/${r.workspace}/${r.slug}`),
      avatar: link(`${urls.siteUrl}/ravatar/${enc(r.uuid)}?ts=default`),
    },
  }, `${repoBase(r, urls)}/hooks/${enc(h.uuid)}`);
}

/** A workspace hook (`/2.0/workspaces/{workspace}/hooks`): `subject_type: "workspace"`, the workspace as `subject`. */
export function renderWorkspaceHook(h: FakeHook, w: FakeWorkspace, urls: Urls): Record<string, unknown> {
  return hookBody(h, 'workspace', renderWorkspaceRef(w, urls), `${urls.apiUrl}/workspaces/${w.slug}/hooks/${enc(h.uuid)}`);
}

function renderCommit(c: CommitInfo, r: FakeRepo, urls: Urls, authorUser: FakeUser | null, full: boolean): Record<string, unknown> {
  const api = repoBase(r, urls);
  const html = `${urls.siteUrl}/${r.workspace}/${r.slug}`;
  const firstLine = c.message.split('\n')[0];
  const links: Record<string, unknown> = {
    self: link(`${api}/commit/${c.hash}`),
    html: link(`${html}/commits/${c.hash}`),
  };
  if (full) {
    links.diff = link(`${api}/diff/${c.hash}`);
    links.approve = link(`${api}/commit/${c.hash}/approve`);
    links.comments = link(`${api}/commit/${c.hash}/comments`);
    links.statuses = link(`${api}/commit/${c.hash}/statuses`);
    links.patch = link(`${api}/patch/${c.hash}`);
  }
  const author: Record<string, unknown> = { type: 'author', raw: `${c.authorName} <${c.authorEmail}>` };
  if (authorUser) author.user = renderUserRef(authorUser, urls);
  return {
    type: 'commit',
    hash: c.hash,
    date: c.date,
    author,
    message: c.message,
    summary: { type: 'rendered', raw: c.message, markup: 'markdown', html: `<p>${escapeHtml(firstLine)}</p>` },
    links,
    parents: c.parents.map((p) => ({
      type: 'commit',
      hash: p,
      links: { self: link(`${api}/commit/${p}`), html: link(`${html}/commits/${p}`) },
    })),
    rendered: {},
    properties: {},
  };
}

export function renderBranchState(branch: string, head: CommitInfo, r: FakeRepo, urls: Urls,
  authorOf: (email: string) => FakeUser | null): Record<string, unknown> {
  const api = repoBase(r, urls);
  return {
    name: branch,
    target: renderCommit(head, r, urls, authorOf(head.authorEmail), false),
    links: {
      self: link(`${api}/refs/branches/${branch}`),
      commits: link(`${api}/commits/${branch}`),
      html: link(`${urls.siteUrl}/${r.workspace}/${r.slug}/branch/${branch}`),
    },
    type: 'branch',
    merge_strategies: ['merge_commit', 'squash', 'fast_forward'],
    default_merge_strategy: 'merge_commit',
  };
}

/** A lightweight tag as push payloads show it: `tagger`, `date` and `message` are null (real captures). */
export function renderTagState(tag: string, head: CommitInfo, r: FakeRepo, urls: Urls,
  authorOf: (email: string) => FakeUser | null): Record<string, unknown> {
  const api = repoBase(r, urls);
  return {
    name: tag,
    target: renderCommit(head, r, urls, authorOf(head.authorEmail), false),
    links: {
      self: link(`${api}/refs/tags/${tag}`),
      commits: link(`${api}/commits/${tag}`),
      html: link(`${urls.siteUrl}/${r.workspace}/${r.slug}/commits/tag/${tag}`),
    },
    type: 'tag',
    message: null,
    date: null,
    tagger: null,
  };
}

export interface PushChangeInput {
  /** The branch (or, with `refType: 'tag'`, the tag) the change is about. */
  branch: string;
  refType?: 'branch' | 'tag';
  oldHead: CommitInfo | null;
  newHead: CommitInfo | null;
  /** Up to 6 commits newest first (the 6th only tells that the list was truncated). */
  commits: CommitInfo[];
  forced: boolean;
}

export function renderPushChange(ch: PushChangeInput, r: FakeRepo, urls: Urls,
  authorOf: (email: string) => FakeUser | null): Record<string, unknown> {
  const api = repoBase(r, urls);
  const state = ch.refType === 'tag' ? renderTagState : renderBranchState;
  const change: Record<string, unknown> = {
    old: ch.oldHead ? state(ch.branch, ch.oldHead, r, urls, authorOf) : null,
    new: ch.newHead ? state(ch.branch, ch.newHead, r, urls, authorOf) : null,
    truncated: ch.commits.length > 5,
    created: ch.oldHead === null,
    forced: ch.forced,
    closed: ch.newHead === null,
  };
  if (ch.newHead) {
    const n = ch.newHead.hash;
    const o = ch.oldHead?.hash;
    change.links = {
      commits: link(`${api}/commits?include=${n}${o ? `&exclude=${o}` : ''}`),
      diff: link(`${api}/diff/${n}${o ? `..${o}` : ''}`),
      html: link(`${urls.siteUrl}/${r.workspace}/${r.slug}/branches/compare/${n}${o ? `..${o}` : ''}`),
    };
    change.commits = ch.commits.slice(0, 5).map((c) => renderCommit(c, r, urls, authorOf(c.authorEmail), true));
  }
  return change;
}

/** Builds a paginated envelope; `next` is an opaque absolute URL. */
export function page<T>(values: T[], pageNo: number, pagelen: number, nextUrl: (nextPage: number) => string): Record<string, unknown> {
  const start = (pageNo - 1) * pagelen;
  const body: Record<string, unknown> = {
    pagelen,
    size: values.length,
    values: values.slice(start, start + pagelen),
    page: pageNo,
  };
  if (start + pagelen < values.length) body.next = nextUrl(pageNo + 1);
  return body;
}
