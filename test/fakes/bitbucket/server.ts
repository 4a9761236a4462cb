// A fake Bitbucket Cloud (2026 behaviour) on a real HTTP server: OAuth consumer flow with
// rotating refresh tokens, REST 2.0 (user, workspaces, repositories, hooks), git over HTTP via
// `git http-backend`, signed webhook deliveries, the REST rate limit (per OAuth consumer, see
// rate-limit.ts), fault injection, and a /_fake control API.
// See README.md beside this file and ../../../../shared/reference/bitbucket-cloud.md.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, promises as fs } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import zlib from 'node:zlib';
import path from 'node:path';
import { handleControl } from './control';
import { deliver, type Delivery } from './delivery';
import { dirSizeSync, GitStore, runHttpBackend, type CommitInfo } from './git';
import { BITBUCKET_REST_LIMIT, isLimitedRestPath, RestRateLimiter, type RestLimit } from './rate-limit';
import { RepoTemplate } from './template';
import {
  apiError, escapeHtml, htmlPage, HttpError, parseBasic, parseBearer, readForm, readJson, redirect,
  sendHtml, sendJson, sendText, str,
} from './http-util';
import {
  bbTimestamp, braceUuid, maxPermission, permissionAtLeast, randomAccountId, randomToken, REPO_HOOK_EVENTS, SLUG_RE,
  type AccessToken, type AuthCode, type FakeHook, type FakeRepo, type FakeUser, type FakeWorkspace, type Permission,
  type RefreshToken, type Role,
} from './model';
import {
  page, renderHook, renderPayloadRepository, renderPushChange, renderRepository, renderUser, renderUserRef,
  renderWorkspaceBase, renderWorkspaceHook, renderWorkspaceRef, type Urls,
} from './render';

export type { Delivery } from './delivery';
export type { FakeHook, FakeRepo, FakeUser, FakeWorkspace, Permission, Role } from './model';
export { BITBUCKET_REST_LIMIT, type RestLimit } from './rate-limit';
export type { RepoTemplate } from './template';

export type AuthorizeMode = 'consent-page' | 'auto-approve' | 'auto-deny';

export interface FakeBitbucketOptions {
  /** 0 (default) = a random free port. Always bound to 127.0.0.1. */
  port?: number;
  clientId?: string;
  clientSecret?: string;
  /** The consumer's registered callback URL (can be set later with setCallbackUrl). */
  callbackUrl?: string;
  /** Access token lifetime, default 7200 s. */
  accessTokenTtlSeconds?: number;
  authorizeMode?: AuthorizeMode;
  /** Where bare repos live; default a temp dir removed on close(). */
  dataDir?: string;
  /** Emit the pre-2026 `scopes` key in token responses instead of `scope`. */
  legacyScopesKey?: boolean;
  /**
   * The consumer's permissions as Bitbucket lists them in a token's `scope`: space separated, only
   * the highest level of each (`repository:write`, not also `repository`). Default: what Lettuce
   * needs, "account team project repository:write webhook". A grant keeps the scopes the consumer
   * had when the user authorized it (refreshes too); setConsumer changes them for later grants.
   */
  scopes?: string;
  /**
   * A private consumer (default) gets refresh tokens; a public one gets only an access token
   * (CONTRACT §5 "consumer_not_private").
   */
  privateConsumer?: boolean;
  /** Webhook delivery timeout, default 10000 ms (Bitbucket's). */
  deliveryTimeoutMs?: number;
  /**
   * Bitbucket's REST rate limit on repository and webhook resources (`/2.0/repositories/*`,
   * `/2.0/workspaces/{ws}/hooks*`), counted per OAuth consumer in a rolling window: beyond it a 429
   * `text/plain` "Rate limit for this resource has been exceeded", no Retry-After. Default the real
   * one, 1,000 calls an hour (BITBUCKET_REST_LIMIT); null turns it off. setRestLimit changes it.
   */
  restLimit?: RestLimit | null;
}

export interface TokenResponse {
  access_token: string;
  scope?: string;
  scopes?: string;
  token_type: 'bearer';
  expires_in: number;
  state: string;
  /** Absent for a public (not private) consumer. */
  refresh_token?: string;
}

export interface FaultSpec {
  method?: string;
  /** Matched against the request's pathname (exact string, or RegExp test). */
  path: string | RegExp;
  /** Default 500. 429 answers text/plain "Rate limit for this resource has been exceeded", no Retry-After. */
  status?: number;
  /** Never answer (until close() or clearFaults()). */
  hang?: boolean;
  /** How many matching requests it hits; default 1; Infinity = until cleared. */
  times?: number;
  /** Response body override. */
  body?: string;
}

export interface FakeStats {
  /** Successful authorization_code exchanges. */
  tokenExchanges: number;
  /** Failed authorization_code exchanges (bad, reused or expired code). */
  tokenExchangeFailures: number;
  /** Successful refresh_token grants. */
  refreshes: number;
  /** Rejected refresh_token grants (unknown, rotated away or revoked). */
  refreshFailures: number;
  /** GET info/refs?service=git-upload-pack: one per clone, fetch or ls-remote. */
  gitFetches: number;
  /** POST git-upload-pack requests (protocol v2 makes two per clone: ls-refs and fetch). */
  gitUploadPacks: number;
  /** Upload-pack requests that asked for objects (a clone or fetch; an ls-remote only lists refs). */
  gitPackFetches: number;
  /** Webhook deliveries (one per hook per event, retries not counted separately). */
  deliveries: number;
  /** Webhook HTTP attempts, retries included. */
  deliveryAttempts: number;
  /** Injected faults served (an injected 429 included; not the rate limiter's 429s). */
  faultsServed: number;
  /**
   * Rate-limited REST calls (repository and webhook resources) counted in the current window, per
   * OAuth consumer (client id). Empty while the limit is off; resetStats leaves it (it is the limiter's state).
   */
  restCalls: Record<string, number>;
  /** Rate-limited REST calls let through since resetStats, whether or not a limit is on. */
  restCallsTotal: number;
  /** 429s the rate limiter answered (injected 429 faults are in faultsServed). */
  rateLimited: number;
  /** "METHOD /route/template" → count, e.g. "GET /2.0/repositories/{workspace}". */
  requests: Record<string, number>;
}

export interface AddUserSpec {
  nickname: string;
  display_name?: string;
  uuid?: string;
  account_id?: string;
  email?: string;
}

export interface AddWorkspaceSpec {
  slug: string;
  name?: string;
  uuid?: string;
  members?: Array<string | { nickname: string; administrator?: boolean }>;
}

export interface AddRepoSpec {
  workspace: string;
  slug: string;
  name?: string;
  uuid?: string;
  /** Default true. */
  is_private?: boolean;
  /** Default "main". */
  mainbranch?: string;
  description?: string;
  language?: string;
  /** Nickname of the creator: gets admin (role=owner). */
  owner?: string;
  /**
   * Initial content, committed at once. Without it (and without `template`) the bare repo is created
   * lazily. With `template`, the files of this repo written over the template's.
   */
  files?: Record<string, string>;
  message?: string;
  /**
   * Content from a template (`repoTemplate(files)`): the repo gets the template's objects as hard links
   * and one commit of its own (the template's files plus `files`) written in-process, no git process.
   * What seedWorkspace uses to make a thousand repos in seconds.
   */
  template?: RepoTemplate;
}

export interface CommitOpts {
  message?: string;
  branch?: string;
  /** Replace the branch head (the new commit is not a descendant of the old head). */
  force?: boolean;
  /** Nickname of the commit author (default: the current user, else the repo owner). */
  author?: string;
}

export interface DeliverPushOpts extends PushedRef {
  /** Nickname of the pusher (default: current user, else repo owner). */
  actor?: string;
}

/** One change of a push: a branch (default the main branch) or a tag, from `oldHash` to `newHash`. */
export interface PushedRef {
  branch?: string;
  /** A tag instead of a branch (lightweight: `tagger`, `date`, `message` null, as real payloads show). */
  tag?: string;
  /** Default: the head at the previous delivery (or before the first undelivered commit). null = branch created. */
  oldHash?: string | null;
  /** Default: the current head of the branch. null = branch deleted. */
  newHash?: string | null;
  /** Default: computed (old head not an ancestor of the new one). */
  forced?: boolean;
}

interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: string[];
}

interface Route {
  method: string;
  re: RegExp;
  key: string;
  handler: (ctx: Ctx) => Promise<void> | void;
}

interface ActiveFault extends FaultSpec {
  remaining: number;
}

const CODE_TTL_MS = 10 * 60 * 1000;
const DEFAULT_PAGELEN = 10;
const MAX_PAGELEN = 100;
const RATE_LIMIT_TEXT = 'Rate limit for this resource has been exceeded';
const CHANGE_2770_URL = 'https://developer.atlassian.com/cloud/bitbucket/changelog#CHANGE-2770';
const GIT_RE = /^\/([^/]+)\/([^/]+?)(?:\.git)?\/(info\/refs|git-upload-pack|git-receive-pack)$/;

function emptyStats(): FakeStats {
  return {
    tokenExchanges: 0, tokenExchangeFailures: 0, refreshes: 0, refreshFailures: 0, gitFetches: 0, gitUploadPacks: 0, gitPackFetches: 0,
    deliveries: 0, deliveryAttempts: 0, faultsServed: 0, restCalls: {}, restCallsTotal: 0, rateLimited: 0, requests: {},
  };
}

/** A grant's scopes with the ones each implies: x:admin ⊇ x:write ⊇ x (Bitbucket lists only the highest). */
export function impliedScopes(scope: string): Set<string> {
  const scopes = new Set<string>();
  for (const s of scope.split(/\s+/).filter(Boolean)) {
    scopes.add(s);
    const [base, level] = s.split(':');
    if (level === 'admin') scopes.add(`${base}:write`);
    if (level === 'admin' || level === 'write') scopes.add(base);
  }
  return scopes;
}

function tokenError(res: ServerResponse, error: string, description: string, status = 400): void {
  sendJson(res, status, { error_description: description, error });
}

export class FakeBitbucket {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly dataDir: string;
  siteUrl = '';
  apiUrl = '';

  private server: http.Server | null = null;
  private readonly ownsDataDir: boolean;
  private readonly gitStore: GitStore;
  private callbackUrl: string | null;
  private authorizeMode: AuthorizeMode;
  private currentUser: string | null = null;
  private readonly accessTtlMs: number;
  private readonly legacyScopesKey: boolean;
  private consumerScopes: string;
  private privateConsumer: boolean;
  private readonly deliveryTimeoutMs: number;
  private readonly rateLimiter: RestRateLimiter;

  private readonly users = new Map<string, FakeUser>();
  private readonly workspaces = new Map<string, FakeWorkspace>();
  private readonly repos = new Map<string, FakeRepo>();
  private readonly hooks = new Map<string, FakeHook>();
  private readonly accessTokens = new Map<string, AccessToken>();
  private readonly refreshTokens = new Map<string, RefreshToken>();
  private readonly codes = new Map<string, AuthCode>();
  private faults: ActiveFault[] = [];
  private counters: FakeStats = emptyStats();
  /** "ws/slug#branch" → head at the last delivered push (undefined = none recorded). */
  private readonly deliveredHeads = new Map<string, string | null>();
  private readonly deliveryLog: Delivery[] = [];
  private readonly hanging = new Set<ServerResponse>();
  private readonly children = new Set<ChildProcess>();
  private readonly routes: Route[];

  constructor(opts: FakeBitbucketOptions = {}) {
    this.clientId = opts.clientId ?? 'fake-client-id';
    this.clientSecret = opts.clientSecret ?? 'fake-client-secret';
    this.callbackUrl = opts.callbackUrl ?? null;
    this.authorizeMode = opts.authorizeMode ?? 'consent-page';
    this.accessTtlMs = (opts.accessTokenTtlSeconds ?? 7200) * 1000;
    this.legacyScopesKey = opts.legacyScopesKey ?? false;
    this.consumerScopes = opts.scopes ?? 'account team project repository:write webhook';
    this.privateConsumer = opts.privateConsumer ?? true;
    this.deliveryTimeoutMs = opts.deliveryTimeoutMs ?? 10_000;
    this.rateLimiter = new RestRateLimiter(opts.restLimit === undefined ? BITBUCKET_REST_LIMIT : opts.restLimit);
    this.ownsDataDir = opts.dataDir === undefined;
    this.dataDir = opts.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'fake-bitbucket-'));
    this.gitStore = new GitStore(this.dataDir);
    this.routes = this.buildRoutes();
  }

  // ---------------------------------------------------------------- lifecycle

  async listen(port = 0): Promise<void> {
    await fs.mkdir(this.dataDir, { recursive: true });
    const server = http.createServer((req, res) => {
      this.handle(req, res).catch((e: unknown) => {
        if (!res.headersSent) sendJson(res, 500, apiError('Internal fake error', e instanceof Error ? e.message : String(e)));
        else res.destroy();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    const addr = server.address() as AddressInfo;
    this.siteUrl = `http://127.0.0.1:${addr.port}`;
    this.apiUrl = `${this.siteUrl}/2.0`;
  }

  get port(): number {
    return Number(new URL(this.siteUrl).port);
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
    for (const child of this.children) child.kill('SIGKILL');
    const server = this.server;
    this.server = null;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    if (this.ownsDataDir) await fs.rm(this.dataDir, { recursive: true, force: true });
  }

  // ---------------------------------------------------------------- seeding

  addUser(spec: AddUserSpec): FakeUser {
    if (this.users.has(spec.nickname)) throw new Error(`user ${spec.nickname} exists`);
    const user: FakeUser = {
      uuid: spec.uuid ?? braceUuid(),
      account_id: spec.account_id ?? randomAccountId(),
      nickname: spec.nickname,
      display_name: spec.display_name ?? spec.nickname,
      email: spec.email ?? `${spec.nickname}@example.test`,
      created_on: bbTimestamp(),
    };
    this.users.set(user.nickname, user);
    return user;
  }

  addWorkspace(spec: AddWorkspaceSpec): FakeWorkspace {
    if (!SLUG_RE.test(spec.slug)) throw new Error(`invalid workspace slug ${spec.slug}`);
    if (this.workspaces.has(spec.slug)) throw new Error(`workspace ${spec.slug} exists`);
    const ws: FakeWorkspace = {
      uuid: spec.uuid ?? braceUuid(),
      slug: spec.slug,
      name: spec.name ?? spec.slug,
      members: new Map(),
      project: { uuid: braceUuid(), key: 'PROJ', name: 'Default project' },
      created_on: bbTimestamp(),
    };
    this.workspaces.set(ws.slug, ws);
    for (const m of spec.members ?? []) {
      if (typeof m === 'string') this.addMember(ws.slug, m);
      else this.addMember(ws.slug, m.nickname, m.administrator ?? false);
    }
    return ws;
  }

  /** Workspace membership: members see the workspace in /2.0/user/workspaces; administrators admin every repo in it. */
  addMember(workspace: string, nickname: string, administrator = false): void {
    this.mustUser(nickname);
    this.mustWorkspace(workspace).members.set(nickname, administrator);
  }

  removeMember(workspace: string, nickname: string): void {
    this.mustWorkspace(workspace).members.delete(nickname);
  }

  async addRepo(spec: AddRepoSpec): Promise<FakeRepo> {
    const ws = this.mustWorkspace(spec.workspace);
    if (!SLUG_RE.test(spec.slug)) throw new Error(`invalid repo slug ${spec.slug}`);
    const full = `${ws.slug}/${spec.slug}`;
    if (this.repos.has(full)) throw new Error(`repo ${full} exists`);
    const now = bbTimestamp();
    const repo: FakeRepo = {
      uuid: spec.uuid ?? braceUuid(),
      workspace: ws.slug,
      slug: spec.slug,
      name: spec.name ?? spec.slug,
      description: spec.description ?? '',
      is_private: spec.is_private ?? true,
      mainbranch: spec.mainbranch ?? 'main',
      language: spec.language ?? '',
      owner: spec.owner ?? null,
      created_on: now,
      updated_on: now,
      grants: new Map(),
    };
    this.repos.set(full, repo);
    if (spec.owner) this.grant(spec.owner, full, 'admin');
    if (spec.template) {
      const authorNick = this.currentUser ?? repo.owner;
      const author = authorNick ? this.users.get(authorNick) : undefined;
      const sha = spec.template.instantiate(this.gitStore.dirOf(ws.slug, repo.slug), {
        branch: repo.mainbranch,
        files: spec.files,
        message: spec.message ?? 'Initial commit',
        author: author ? { name: author.display_name, email: author.email } : { name: 'Fake Bitbucket', email: 'noreply@fake-bitbucket.test' },
      });
      // As with `files`: seeded content counts as already pushed.
      this.deliveredHeads.set(`${full}#${repo.mainbranch}`, sha);
    } else if (spec.files) {
      await this.commit(ws.slug, repo.slug, spec.files, { message: spec.message ?? 'Initial commit' });
      // Seeded content counts as already pushed: the first deliverPush reports only later commits.
      this.deliveredHeads.set(`${full}#${repo.mainbranch}`, await this.headOf(ws.slug, repo.slug));
    }
    return repo;
  }

  /**
   * Writes `files` once into a template repository (under dataDir, never served) for
   * `addRepo({template})`; `dispose()` it when done (the repos made from it keep their objects).
   */
  async repoTemplate(files: Record<string, string>): Promise<RepoTemplate> {
    return RepoTemplate.build(path.join(this.dataDir, '.templates', `t-${randomToken(6)}.git`), files);
  }

  /** Deletes a repository (its repo hooks too, not its workspace's); the API then answers 404 for it. */
  async removeRepo(fullName: string): Promise<void> {
    const repo = this.mustRepoByFullName(fullName);
    this.repos.delete(fullName);
    for (const [id, h] of this.hooks) if (h.repo === fullName) this.hooks.delete(id);
    await fs.rm(this.gitStore.dirOf(repo.workspace, repo.slug), { recursive: true, force: true });
  }

  /**
   * Gives `nickname` an explicit permission on `fullName` ("ws/slug"); null removes it.
   * A user granted access to a repo also becomes a (non-admin) member of its workspace.
   */
  grant(nickname: string, fullName: string, permission: Permission | null): void {
    this.mustUser(nickname);
    const repo = this.mustRepoByFullName(fullName);
    if (permission === null) {
      repo.grants.delete(nickname);
      return;
    }
    repo.grants.set(nickname, permission);
    const ws = this.mustWorkspace(repo.workspace);
    if (!ws.members.has(nickname)) ws.members.set(nickname, false);
  }

  /** The Bitbucket user logged in to the browser that goes through /site/oauth2/authorize. */
  setCurrentUser(nickname: string): void {
    this.mustUser(nickname);
    this.currentUser = nickname;
  }

  setCallbackUrl(url: string): void {
    new URL(url); // throws on garbage
    this.callbackUrl = url;
  }

  getCallbackUrl(): string | null {
    return this.callbackUrl;
  }

  setAuthorizeMode(mode: AuthorizeMode): void {
    this.authorizeMode = mode;
  }

  /**
   * Changes the consumer's settings, as its owner would on Bitbucket: the permissions (scopes,
   * space separated) and whether it is private. Grants made before keep their scopes.
   */
  setConsumer(settings: { scopes?: string; privateConsumer?: boolean }): void {
    if (settings.scopes !== undefined) this.consumerScopes = settings.scopes;
    if (settings.privateConsumer !== undefined) this.privateConsumer = settings.privateConsumer;
  }

  consumer(): { scopes: string; privateConsumer: boolean } {
    return { scopes: this.consumerScopes, privateConsumer: this.privateConsumer };
  }

  user(nickname: string): FakeUser | undefined {
    return this.users.get(nickname);
  }

  repo(workspace: string, slug: string): FakeRepo | undefined {
    return this.repos.get(`${workspace}/${slug}`);
  }

  listRepos(): FakeRepo[] {
    return [...this.repos.values()];
  }

  /** The URL the service would send a browser to. */
  authorizeUrl(state?: string): string {
    const u = new URL(`${this.siteUrl}/site/oauth2/authorize`);
    u.searchParams.set('client_id', this.clientId);
    u.searchParams.set('response_type', 'code');
    if (state !== undefined) u.searchParams.set('state', state);
    return u.toString();
  }

  // ---------------------------------------------------------------- git content

  /** Commits to the bare repo (path → content, null deletes) and returns the new sha. */
  async commit(workspace: string, slug: string, files: Record<string, string | null>, opts: CommitOpts = {}): Promise<string> {
    const repo = this.mustRepo(workspace, slug);
    const branch = opts.branch ?? repo.mainbranch;
    await this.gitStore.ensure(repo.workspace, repo.slug, repo.mainbranch);
    const dir = this.gitStore.dirOf(repo.workspace, repo.slug);
    const key = `${workspace}/${slug}#${branch}`;
    if (!this.deliveredHeads.has(key)) this.deliveredHeads.set(key, await this.gitStore.head(dir, branch));
    const authorNick = opts.author ?? this.currentUser ?? repo.owner;
    const author = authorNick ? this.users.get(authorNick) : undefined;
    const sha = await this.gitStore.commit(dir, repo.mainbranch, files, {
      message: opts.message,
      branch,
      force: opts.force,
      author: author ? { name: author.display_name, email: author.email } : undefined,
    });
    repo.updated_on = bbTimestamp();
    return sha;
  }

  /** Creates (or moves) a lightweight tag; default at the main branch's head. Returns the tagged commit. */
  async tag(workspace: string, slug: string, name: string, commit?: string): Promise<string> {
    const repo = this.mustRepo(workspace, slug);
    const dir = this.gitStore.dirOf(repo.workspace, repo.slug);
    const target = commit ?? (await this.headOf(workspace, slug));
    if (!target) throw new Error(`${workspace}/${slug} has no commits to tag`);
    if (!this.deliveredHeads.has(`${workspace}/${slug}#tag:${name}`)) this.deliveredHeads.set(`${workspace}/${slug}#tag:${name}`, await this.gitStore.resolve(dir, `refs/tags/${name}`));
    await this.gitStore.setRef(dir, `refs/tags/${name}`, target);
    return target;
  }

  /** Deletes a branch (Bitbucket refuses to delete the main branch, and so does this). */
  async deleteBranch(workspace: string, slug: string, branch: string): Promise<void> {
    const repo = this.mustRepo(workspace, slug);
    if (branch === repo.mainbranch) throw new Error(`${branch} is the main branch of ${workspace}/${slug}: change the main branch first`);
    const dir = this.gitStore.dirOf(repo.workspace, repo.slug);
    const key = `${workspace}/${slug}#${branch}`;
    if (!this.deliveredHeads.has(key)) this.deliveredHeads.set(key, await this.gitStore.resolve(dir, `refs/heads/${branch}`));
    await this.gitStore.setRef(dir, `refs/heads/${branch}`, null);
  }

  /**
   * Makes `branch` the repo's main branch (Repository settings → Main branch): the REST API's
   * `mainbranch` and the git HEAD that clones and ls-remote see. No webhook event: Lettuce subscribes to repo:push only.
   */
  async setMainBranch(workspace: string, slug: string, branch: string): Promise<void> {
    const repo = this.mustRepo(workspace, slug);
    const dir = this.gitStore.dirOf(repo.workspace, repo.slug);
    if (!(await this.gitStore.resolve(dir, `refs/heads/${branch}`))) throw new Error(`${workspace}/${slug} has no branch ${branch}`);
    await this.gitStore.setHeadBranch(dir, branch);
    repo.mainbranch = branch;
    repo.updated_on = bbTimestamp();
  }

  async headOf(workspace: string, slug: string, branch?: string): Promise<string | null> {
    const repo = this.mustRepo(workspace, slug);
    return this.gitStore.head(this.gitStore.dirOf(repo.workspace, repo.slug), branch ?? repo.mainbranch);
  }

  /** The repository's `size` as Bitbucket reports it: the bytes its bare repository takes on disk. */
  private sizeOf(repo: FakeRepo): number {
    return dirSizeSync(this.gitStore.dirOf(repo.workspace, repo.slug));
  }

  /** Path of the bare repository on disk (it may not exist before the first commit or git request). */
  gitDirOf(workspace: string, slug: string): string {
    const repo = this.mustRepo(workspace, slug);
    return this.gitStore.dirOf(repo.workspace, repo.slug);
  }

  // ---------------------------------------------------------------- tokens

  /** Issues a token pair for `nickname` without the browser flow (not counted in stats). */
  issueTokens(nickname: string): TokenResponse {
    this.mustUser(nickname);
    return this.issue(nickname, 'authorization_code', this.consumerScopes);
  }

  /** Kills every refresh and access token of `nickname` (all users when omitted), as if the user revoked the app. */
  revokeGrants(nickname?: string): void {
    for (const t of this.accessTokens.values()) if (nickname === undefined || t.nickname === nickname) t.revoked = true;
    for (const t of this.refreshTokens.values()) if (nickname === undefined || t.nickname === nickname) t.revoked = true;
  }

  /** Makes every current access token (of `nickname`, or everyone's) expired; refresh tokens stay valid. */
  expireAccessTokens(nickname?: string): void {
    const now = Date.now();
    for (const t of this.accessTokens.values()) {
      if (nickname === undefined || t.nickname === nickname) t.expiresAt = Math.min(t.expiresAt, now - 1);
    }
  }

  /** Every code, access token and refresh token this fake ever issued, plus the client secret: what a secrets scan looks for. */
  issuedSecrets(): string[] {
    return [this.clientSecret, ...this.codes.keys(), ...this.accessTokens.keys(), ...this.refreshTokens.keys()];
  }

  /** A token pair for `nickname` with the grant's `scope`; no refresh token from a public consumer. */
  private issue(nickname: string, grant: string, scope: string): TokenResponse {
    const access: AccessToken = {
      token: randomToken(48), nickname, clientId: this.clientId, scope,
      expiresAt: Date.now() + this.accessTtlMs, revoked: false,
    };
    this.accessTokens.set(access.token, access);
    let refreshToken: string | undefined;
    if (this.privateConsumer) {
      const refresh: RefreshToken = { token: randomToken(24), nickname, clientId: this.clientId, scope, revoked: false };
      this.refreshTokens.set(refresh.token, refresh);
      refreshToken = refresh.token;
    }
    const expires = Math.round(this.accessTtlMs / 1000);
    // Key order as Bitbucket sends it.
    const body: TokenResponse = this.legacyScopesKey
      ? { access_token: access.token, scopes: scope, token_type: 'bearer', expires_in: expires, state: grant }
      : { access_token: access.token, scope, token_type: 'bearer', expires_in: expires, state: grant };
    if (refreshToken) body.refresh_token = refreshToken;
    return body;
  }

  // ---------------------------------------------------------------- faults and stats

  injectFault(spec: FaultSpec): void {
    this.faults.push({ ...spec, remaining: spec.times ?? 1 });
  }

  clearFaults(): void {
    this.faults = [];
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
  }

  stats(): FakeStats {
    return { ...this.counters, restCalls: this.rateLimiter.counts(), requests: { ...this.counters.requests } };
  }

  /**
   * Changes the REST rate limit (e.g. `{calls: 1000, windowMs: 60_000}` to reach it in a minute); the
   * calls already counted stay counted within the new window. null turns it off and forgets them.
   */
  setRestLimit(limit: RestLimit | null): void {
    this.rateLimiter.setLimit(limit);
  }

  /** The REST rate limit in force (null: off). */
  restLimit(): RestLimit | null {
    return this.rateLimiter.limit;
  }

  resetStats(): void {
    this.counters = emptyStats();
  }

  // ---------------------------------------------------------------- webhooks

  /** Stored hooks of a repo (not its workspace's), secrets included (for assertions). */
  hooksOf(workspace: string, slug: string): FakeHook[] {
    const full = `${workspace}/${slug}`;
    return [...this.hooks.values()].filter((h) => h.repo === full).map((h) => ({ ...h, events: [...h.events] }));
  }

  /** Stored hooks of a workspace (`/2.0/workspaces/{workspace}/hooks`), secrets included (for assertions). */
  workspaceHooksOf(workspace: string): FakeHook[] {
    return [...this.hooks.values()].filter((h) => h.repo === null && h.workspace === workspace).map((h) => ({ ...h, events: [...h.events] }));
  }

  /** Every delivery made so far, oldest first. */
  deliveries(): Delivery[] {
    return [...this.deliveryLog];
  }

  /**
   * Sends a realistic repo:push of one ref to every active hook subscribed to repo:push: the repo's
   * and its workspace's.
   */
  async deliverPush(workspace: string, slug: string, opts: DeliverPushOpts = {}): Promise<Delivery[]> {
    return this.deliverChanges(workspace, slug, [opts], opts.actor);
  }

  /**
   * Sends one repo:push with a change per ref, as a `git push` of several refs does (the main
   * branch's change need not come first). A deleted ref (`newHash: null`) has no `commits` and
   * no `links`, as in real payloads. Each ref's old head defaults to the head at its previous delivery.
   */
  async deliverChanges(workspace: string, slug: string, refs: PushedRef[], actorNickname?: string): Promise<Delivery[]> {
    const repo = this.mustRepo(workspace, slug);
    const ws = this.mustWorkspace(repo.workspace);
    const dir = this.gitStore.dirOf(repo.workspace, repo.slug);
    const urls = this.urls();
    const authorOf = (email: string) => [...this.users.values()].find((u) => u.email === email) ?? null;
    const changes: Array<Record<string, unknown>> = [];
    for (const ref of refs) {
      const name = ref.tag ?? ref.branch ?? repo.mainbranch;
      const fullRef = ref.tag ? `refs/tags/${ref.tag}` : `refs/heads/${name}`;
      const key = `${repo.workspace}/${repo.slug}#${ref.tag ? 'tag:' : ''}${name}`;
      const newHash = ref.newHash !== undefined ? ref.newHash : await this.gitStore.resolve(dir, fullRef);
      const oldHash = ref.oldHash !== undefined ? ref.oldHash : (this.deliveredHeads.get(key) ?? null);
      if (!newHash && !oldHash) throw new Error(`nothing to push on ${key}`);
      const oldHead = oldHash ? await this.gitStore.commitInfo(dir, oldHash) : null;
      const newHead = newHash ? await this.gitStore.commitInfo(dir, newHash) : null;
      const commits: CommitInfo[] = newHash && !ref.tag ? await this.gitStore.log(dir, newHash, oldHash, 6) : [];
      const forced = ref.forced ?? (!ref.tag && oldHash !== null && newHash !== null && !(await this.gitStore.isAncestor(dir, oldHash, newHash)));
      changes.push(renderPushChange({ branch: name, refType: ref.tag ? 'tag' : 'branch', oldHead, newHead, commits, forced }, repo, urls, authorOf));
      this.deliveredHeads.set(key, newHash);
    }
    const payload = {
      push: { changes },
      actor: renderUserRef(this.actorFor(repo, actorNickname), urls),
      repository: renderPayloadRepository(repo, ws, urls),
    };
    return this.deliverEvent(workspace, slug, 'repo:push', payload);
  }

  /**
   * Sends any event payload of a repo to the active hooks subscribed to `eventKey`: the repo's own and
   * its workspace's (workspace hooks fire for every repository of the workspace). One delivery per
   * hook, each with its own X-Hook-UUID and X-Request-UUID, the same body.
   */
  async deliverEvent(workspace: string, slug: string, eventKey: string, payload: unknown): Promise<Delivery[]> {
    const repo = this.mustRepo(workspace, slug);
    const full = `${repo.workspace}/${repo.slug}`;
    const body = JSON.stringify(payload);
    const targets = [...this.hooks.values()].filter((h) => (h.repo === full || (h.repo === null && h.workspace === repo.workspace))
      && h.active && h.events.includes(eventKey));
    const results = await Promise.all(targets.map((h) =>
      deliver({ hookUuid: h.uuid, url: h.url, secret: h.secret }, eventKey, body, this.deliveryTimeoutMs)));
    this.record(results);
    return results;
  }

  /** Resends a delivery ("Resend request" in the UI): same body and X-Request-UUID, the hook's current URL and secret. */
  async redeliver(previous: Delivery): Promise<Delivery> {
    const hook = this.hooks.get(previous.hookUuid);
    if (!hook) throw new Error(`hook ${previous.hookUuid} no longer exists`);
    const result = await deliver({ hookUuid: hook.uuid, url: hook.url, secret: hook.secret }, previous.eventKey, previous.body,
      this.deliveryTimeoutMs, previous.requestUuid);
    this.record([result]);
    return result;
  }

  private record(results: Delivery[]): void {
    for (const r of results) {
      this.deliveryLog.push(r);
      this.counters.deliveries++;
      this.counters.deliveryAttempts += r.attempts;
    }
  }

  private actorFor(repo: FakeRepo, nickname?: string): FakeUser {
    const nick = nickname ?? this.currentUser ?? repo.owner ?? [...repo.grants.keys()][0] ?? [...this.users.keys()][0];
    if (!nick) throw new Error('no user to act as the pusher');
    return this.mustUser(nick);
  }

  // ---------------------------------------------------------------- lookups

  private urls(): Urls {
    return { siteUrl: this.siteUrl, apiUrl: this.apiUrl };
  }

  private mustUser(nickname: string): FakeUser {
    const u = this.users.get(nickname);
    if (!u) throw new Error(`no user ${nickname}`);
    return u;
  }

  private mustWorkspace(slug: string): FakeWorkspace {
    const w = this.workspaces.get(slug);
    if (!w) throw new Error(`no workspace ${slug}`);
    return w;
  }

  private mustRepo(workspace: string, slug: string): FakeRepo {
    return this.mustRepoByFullName(`${workspace}/${slug}`);
  }

  private mustRepoByFullName(fullName: string): FakeRepo {
    const r = this.repos.get(fullName);
    if (!r) throw new Error(`no repo ${fullName}`);
    return r;
  }

  /** Workspace by slug or "{uuid}". */
  private findWorkspace(id: string): FakeWorkspace | undefined {
    if (id.startsWith('{')) return [...this.workspaces.values()].find((w) => w.uuid === id);
    return this.workspaces.get(id);
  }

  /** Repo by slug or "{uuid}" within a workspace. */
  private findRepo(ws: FakeWorkspace, id: string): FakeRepo | undefined {
    if (id.startsWith('{')) return [...this.repos.values()].find((r) => r.workspace === ws.slug && r.uuid === id);
    return this.repos.get(`${ws.slug}/${id}`);
  }

  /** Effective permission: explicit grant, or admin for workspace administrators. */
  permissionOf(nickname: string, repo: FakeRepo): Permission | null {
    const ws = this.workspaces.get(repo.workspace);
    const fromWorkspace: Permission | null = ws?.members.get(nickname) === true ? 'admin' : null;
    return maxPermission(repo.grants.get(nickname) ?? null, fromWorkspace);
  }

  private canSee(nickname: string, repo: FakeRepo): boolean {
    return !repo.is_private || this.permissionOf(nickname, repo) !== null;
  }

  // ---------------------------------------------------------------- HTTP

  private buildRoutes(): Route[] {
    const R = (method: string, re: RegExp, key: string, handler: (ctx: Ctx) => Promise<void> | void): Route => ({ method, re, key, handler });
    const gone = (ctx: Ctx) => this.change2770(ctx);
    return [
      R('GET', /^\/site\/oauth2\/authorize$/, '/site/oauth2/authorize', (c) => this.authorizeGet(c)),
      R('POST', /^\/site\/oauth2\/authorize$/, '/site/oauth2/authorize', (c) => this.authorizePost(c)),
      R('POST', /^\/site\/oauth2\/access_token$/, '/site/oauth2/access_token', (c) => this.accessToken(c)),
      R('GET', /^\/2\.0\/user\/?$/, '/2.0/user', (c) => this.getUser(c)),
      R('GET', /^\/2\.0\/user\/workspaces\/?$/, '/2.0/user/workspaces', (c) => this.getUserWorkspaces(c)),
      R('GET', /^\/2\.0\/user\/permissions\/.*$/, '/2.0/user/permissions/*', gone),
      R('GET', /^\/2\.0\/workspaces\/?$/, '/2.0/workspaces', gone),
      R('GET', /^\/2\.0\/repositories\/?$/, '/2.0/repositories', gone),
      R('GET', /^\/2\.0\/workspaces\/([^/]+)\/?$/, '/2.0/workspaces/{workspace}', (c) => this.getWorkspace(c)),
      R('GET', /^\/2\.0\/repositories\/([^/]+)\/?$/, '/2.0/repositories/{workspace}', (c) => this.listRepositories(c)),
      R('GET', /^\/2\.0\/repositories\/([^/]+)\/([^/]+)\/?$/, '/2.0/repositories/{workspace}/{repo_slug}', (c) => this.getRepository(c)),
      R('GET', /^\/2\.0\/repositories\/([^/]+)\/([^/]+)\/hooks\/?$/, '/2.0/repositories/{workspace}/{repo_slug}/hooks', (c) => this.listHooks(c)),
      R('POST', /^\/2\.0\/repositories\/([^/]+)\/([^/]+)\/hooks\/?$/, '/2.0/repositories/{workspace}/{repo_slug}/hooks', (c) => this.createHook(c)),
      R('GET', /^\/2\.0\/repositories\/([^/]+)\/([^/]+)\/hooks\/([^/]+)$/, '/2.0/repositories/{workspace}/{repo_slug}/hooks/{uid}', (c) => this.getHook(c)),
      R('PUT', /^\/2\.0\/repositories\/([^/]+)\/([^/]+)\/hooks\/([^/]+)$/, '/2.0/repositories/{workspace}/{repo_slug}/hooks/{uid}', (c) => this.updateHook(c)),
      R('DELETE', /^\/2\.0\/repositories\/([^/]+)\/([^/]+)\/hooks\/([^/]+)$/, '/2.0/repositories/{workspace}/{repo_slug}/hooks/{uid}', (c) => this.deleteHook(c)),
      R('GET', /^\/2\.0\/workspaces\/([^/]+)\/hooks\/?$/, '/2.0/workspaces/{workspace}/hooks', (c) => this.listWorkspaceHooks(c)),
      R('POST', /^\/2\.0\/workspaces\/([^/]+)\/hooks\/?$/, '/2.0/workspaces/{workspace}/hooks', (c) => this.createWorkspaceHook(c)),
      R('GET', /^\/2\.0\/workspaces\/([^/]+)\/hooks\/([^/]+)$/, '/2.0/workspaces/{workspace}/hooks/{uid}', (c) => this.getWorkspaceHook(c)),
      R('PUT', /^\/2\.0\/workspaces\/([^/]+)\/hooks\/([^/]+)$/, '/2.0/workspaces/{workspace}/hooks/{uid}', (c) => this.updateWorkspaceHook(c)),
      R('DELETE', /^\/2\.0\/workspaces\/([^/]+)\/hooks\/([^/]+)$/, '/2.0/workspaces/{workspace}/hooks/{uid}', (c) => this.deleteWorkspaceHook(c)),
      R('GET', GIT_RE, '/{workspace}/{repo_slug}.git/{service}', (c) => this.git(c)),
      R('POST', GIT_RE, '/{workspace}/{repo_slug}.git/{service}', (c) => this.git(c)),
    ];
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.siteUrl);
    const pathname = url.pathname;
    const method = req.method ?? 'GET';
    if (pathname.startsWith('/_fake/') || pathname === '/_fake') {
      await handleControl(this, req, res, url);
      return;
    }
    const candidates = this.routes.filter((r) => r.re.test(pathname));
    const route = candidates.find((r) => r.method === method);
    let key = route?.key ?? '(unmatched)';
    if (route && route.re === GIT_RE) key = `/{workspace}/{repo_slug}.git/${GIT_RE.exec(pathname)?.[3]}`;
    this.counters.requests[`${method} ${key}`] = (this.counters.requests[`${method} ${key}`] ?? 0) + 1;

    const fault = this.takeFault(method, pathname);
    if (fault) {
      this.serveFault(req, res, pathname, fault);
      return;
    }
    if (!this.admitRestCall(req, url)) {
      req.resume();
      this.counters.rateLimited++;
      sendText(res, 429, RATE_LIMIT_TEXT); // Bitbucket sends no Retry-After and, to OAuth consumers, no X-RateLimit-* headers
      return;
    }
    const isApi = pathname.startsWith('/2.0/');
    try {
      if (!route) {
        if (candidates.length > 0) throw new HttpError(405, `Method ${method} not allowed`);
        throw new HttpError(404, isApi ? 'Resource not found' : 'Not found');
      }
      const m = route.re.exec(pathname) ?? [];
      let params: string[];
      try {
        params = m.slice(1).map((s) => decodeURIComponent(s));
      } catch {
        throw new HttpError(400, 'Malformed URL');
      }
      await route.handler({ req, res, url, params });
    } catch (e) {
      if (!(e instanceof HttpError)) throw e;
      if (res.headersSent) {
        res.destroy();
        return;
      }
      req.resume();
      if (isApi || e.body !== undefined) sendJson(res, e.status, e.body ?? apiError(e.message));
      else sendHtml(res, e.status, e.message, `<p>${escapeHtml(e.message)}</p>`);
    }
  }

  private takeFault(method: string, pathname: string): ActiveFault | null {
    const f = this.faults.find((x) => x.remaining > 0 && (!x.method || x.method.toUpperCase() === method)
      && (typeof x.path === 'string' ? x.path === pathname : x.path.test(pathname)));
    if (!f) return null;
    f.remaining--;
    this.faults = this.faults.filter((x) => x.remaining > 0);
    this.counters.faultsServed++;
    return f;
  }

  private serveFault(req: IncomingMessage, res: ServerResponse, pathname: string, f: ActiveFault): void {
    req.resume();
    if (f.hang) {
      this.hanging.add(res);
      res.on('close', () => this.hanging.delete(res));
      return;
    }
    const status = f.status ?? 500;
    if (status === 429) {
      sendText(res, 429, f.body ?? RATE_LIMIT_TEXT);
      return;
    }
    const reason = http.STATUS_CODES[status] ?? 'Error';
    if (f.body !== undefined) {
      const t = f.body.trimStart();
      const type = t.startsWith('{') || t.startsWith('[') ? 'application/json; charset=utf-8'
        : t.startsWith('<') ? 'text/html; charset=utf-8' : 'text/plain; charset=utf-8';
      sendText(res, status, f.body, type);
    } else if (pathname.startsWith('/2.0/')) {
      sendJson(res, status, apiError(status >= 500 ? 'Something went wrong' : reason));
    } else {
      sendText(res, status, htmlPage(`${status} ${reason}`, '<p>Something went wrong. Please try again later.</p>'), 'text/html; charset=utf-8');
    }
  }

  // ---------------------------------------------------------------- OAuth

  private authorizeTarget(q: URLSearchParams): string {
    if (q.get('client_id') !== this.clientId) throw new HttpError(400, 'Invalid client_id');
    if (q.get('response_type') !== 'code') throw new HttpError(400, 'Invalid response_type: only "code" is supported');
    const misconfigured = 'Invalid redirect_uri — This integration is misconfigured. Contact the vendor for assistance.';
    if (!this.callbackUrl) throw new HttpError(400, misconfigured);
    const redirectUri = q.get('redirect_uri');
    if (redirectUri !== null && redirectUri !== '' && !redirectUri.startsWith(this.callbackUrl)) throw new HttpError(400, misconfigured);
    return redirectUri || this.callbackUrl;
  }

  private decide(res: ServerResponse, target: string, state: string | null, approve: boolean, nickname: string | null): void {
    const u = new URL(target);
    if (approve) {
      const nick = nickname ?? this.currentUser ?? [...this.users.keys()][0];
      if (!nick || !this.users.has(nick)) throw new HttpError(400, 'No Bitbucket user is logged in to the fake (setCurrentUser)');
      const code = randomToken(18);
      this.codes.set(code, { code, nickname: nick, clientId: this.clientId, scope: this.consumerScopes, expiresAt: Date.now() + CODE_TTL_MS, used: false });
      u.searchParams.set('code', code);
    } else {
      u.searchParams.set('error', 'access_denied');
      u.searchParams.set('error_description', 'The user denied access to the application.');
    }
    if (state !== null) u.searchParams.set('state', state);
    redirect(res, u.toString());
  }

  private authorizeGet({ res, url }: Ctx): void {
    const q = url.searchParams;
    const target = this.authorizeTarget(q);
    if (this.authorizeMode !== 'consent-page') {
      this.decide(res, target, q.get('state'), this.authorizeMode === 'auto-approve', null);
      return;
    }
    const hidden = ['client_id', 'response_type', 'state', 'redirect_uri']
      .filter((k) => q.has(k))
      .map((k) => `<input type="hidden" name="${k}" value="${escapeHtml(q.get(k) ?? '')}">`).join('');
    const options = [...this.users.values()].map((u) =>
      `<option value="${escapeHtml(u.nickname)}"${u.nickname === this.currentUser ? ' selected' : ''}>${escapeHtml(u.display_name)} (${escapeHtml(u.nickname)})</option>`).join('');
    const scopes = this.consumerScopes.split(' ').map((s) => `<li>${escapeHtml(s)}</li>`).join('');
    sendHtml(res, 200, 'Authorize application', `
<p>The OAuth consumer <code>${escapeHtml(this.clientId)}</code> would like access to your Bitbucket account.</p>
<p>It is asking for: </p><ul>${scopes}</ul>
<form method="post" action="/site/oauth2/authorize">${hidden}
<p><label>Logged in as <select name="user">${options}</select></label></p>
<button type="submit" name="decision" value="approve">Grant access</button>
<button type="submit" name="decision" value="deny">Cancel</button>
</form>`);
  }

  private async authorizePost({ req, res }: Ctx): Promise<void> {
    const form = await readForm(req);
    const target = this.authorizeTarget(form);
    this.decide(res, target, form.get('state'), form.get('decision') === 'approve', form.get('user'));
  }

  private async accessToken({ req, res }: Ctx): Promise<void> {
    const auth = req.headers.authorization;
    if (auth && /^Bearer\s/i.test(auth)) {
      req.resume();
      sendHtml(res, 400, 'Bad request', '<p>Client credentials must use HTTP Basic authentication.</p>');
      return;
    }
    const basic = parseBasic(auth);
    const form = await readForm(req);
    if (!basic) {
      tokenError(res, 'unauthorized_client', 'Requests must be authenticated using OAuth client credentials');
      return;
    }
    if (basic[0] !== this.clientId || basic[1] !== this.clientSecret) {
      tokenError(res, 'unauthorized_client', 'Invalid OAuth client credentials');
      return;
    }
    const grant = form.get('grant_type');
    if (grant === 'authorization_code') {
      const rec = this.codes.get(form.get('code') ?? '');
      if (!rec || rec.used || rec.expiresAt < Date.now() || rec.clientId !== basic[0]) {
        this.counters.tokenExchangeFailures++;
        tokenError(res, 'invalid_grant', 'The authorization code is invalid or has expired.');
        return;
      }
      rec.used = true;
      this.counters.tokenExchanges++;
      sendJson(res, 200, this.issue(rec.nickname, 'authorization_code', rec.scope), { 'Cache-Control': 'no-store' });
      return;
    }
    if (grant === 'refresh_token') {
      const rec = this.refreshTokens.get(form.get('refresh_token') ?? '');
      if (!rec || rec.revoked || rec.clientId !== basic[0]) {
        this.counters.refreshFailures++;
        tokenError(res, 'invalid_request', 'Invalid refresh_token');
        return;
      }
      rec.revoked = true; // rotation: the old refresh token dies at once
      this.counters.refreshes++;
      sendJson(res, 200, this.issue(rec.nickname, 'refresh_token', rec.scope), { 'Cache-Control': 'no-store' });
      return;
    }
    tokenError(res, 'invalid_grant', `Unsupported grant type: ${grant ?? 'None'}`);
  }

  // ---------------------------------------------------------------- REST

  /** Resolves a REST call's Bearer token (Bearer only): its record and user, or the 401 the call gets. */
  private resolveBearer(req: IncomingMessage, url: URL): { rec: AccessToken; user: FakeUser } | HttpError {
    if (url.searchParams.has('access_token')) {
      return new HttpError(401, 'OAuth access tokens must be sent in the Authorization header as a Bearer token.');
    }
    const token = parseBearer(req.headers.authorization);
    if (!token) return new HttpError(401, 'Authentication required: send an OAuth access token as "Authorization: Bearer <token>".');
    const rec = this.accessTokens.get(token);
    const user = rec ? this.users.get(rec.nickname) : undefined;
    if (!rec || rec.revoked || !user) return new HttpError(401, 'Token is invalid, expired, or not supported for this endpoint.');
    if (rec.expiresAt <= Date.now()) return new HttpError(401, 'Access token expired.');
    return { rec, user };
  }

  /** Bearer-only authentication; returns the user and the token's scopes. */
  private authenticate({ req, url }: Ctx): { user: FakeUser; scopes: Set<string> } {
    const auth = this.resolveBearer(req, url);
    if (auth instanceof HttpError) throw auth;
    return { user: auth.user, scopes: impliedScopes(auth.rec.scope) };
  }

  /**
   * The rate limit, checked before any route handler runs (a 429 has no side effects): a call to a
   * repository or webhook resource with a valid token counts against the token's OAuth consumer
   * (its client id, whichever user it belongs to); false when that consumer's window is full. Calls
   * without a valid token are not counted (they get their 401 from the handler).
   */
  private admitRestCall(req: IncomingMessage, url: URL): boolean {
    if (!isLimitedRestPath(url.pathname)) return true;
    const auth = this.resolveBearer(req, url);
    if (auth instanceof HttpError) return true;
    if (!this.rateLimiter.admit(auth.rec.clientId)) return false;
    this.counters.restCallsTotal++;
    return true;
  }

  /** The 403 Bitbucket sends for a missing scope, as real captures show it: the scope lists in `error.detail`. */
  private requireScope(scopes: Set<string>, needed: string): void {
    if (!scopes.has(needed)) {
      const message = 'Your credentials lack one or more required privilege scopes.';
      throw new HttpError(403, message, { type: 'error', error: { message, detail: { granted: [...scopes], required: [needed] } } });
    }
  }

  private change2770({ res }: Ctx): void {
    sendJson(res, 410, {
      type: 'error',
      error: {
        message: 'CHANGE-2770 - Functionality has been deprecated',
        detail: 'Please read the changelog entry for more details.',
        data: { announcement_url: CHANGE_2770_URL },
      },
      data: { announcement_url: CHANGE_2770_URL },
    });
  }

  private pagination(url: URL, defaultPagelen = DEFAULT_PAGELEN): { pageNo: number; pagelen: number; next: (n: number) => string } {
    const rawLen = url.searchParams.get('pagelen');
    const pagelen = rawLen === null ? defaultPagelen : Number(rawLen);
    if (!Number.isInteger(pagelen) || pagelen < 1 || pagelen > MAX_PAGELEN) {
      throw new HttpError(400, 'Invalid pagelen', apiError('Invalid pagelen', `pagelen must be an integer between 1 and ${MAX_PAGELEN}.`));
    }
    const rawPage = url.searchParams.get('page');
    let pageNo = 1;
    if (rawPage !== null) {
      if (/^\d+$/.test(rawPage)) {
        pageNo = Number(rawPage);
      } else {
        try {
          pageNo = Number((JSON.parse(Buffer.from(rawPage, 'base64url').toString('utf8')) as { p?: unknown }).p);
        } catch {
          pageNo = NaN;
        }
      }
      if (!Number.isInteger(pageNo) || pageNo < 1) throw new HttpError(400, 'Invalid page');
    }
    const next = (n: number) => {
      const u = new URL(this.siteUrl + url.pathname);
      for (const [k, v] of url.searchParams) if (k !== 'page') u.searchParams.append(k, v);
      // An opaque cursor, not a page number: clients must follow `next` as given.
      u.searchParams.set('page', Buffer.from(JSON.stringify({ p: n, n: randomToken(4) })).toString('base64url'));
      return u.toString();
    };
    return { pageNo, pagelen, next };
  }

  /** A tiny BBQL subset: `field = "v"`, `!=`, `~` (contains), `!~`, or `field = true|false`. */
  private filter<T>(items: T[], q: string | null, fields: Record<string, (t: T) => string | boolean>): T[] {
    if (q === null || q.trim() === '') return items;
    const m = /^\s*([a-z_.]+)\s*(=|!=|~|!~)\s*(?:"((?:[^"\\]|\\.)*)"|(true|false))\s*$/.exec(q);
    const get = m ? fields[m[1]] : undefined;
    if (!m || !get) throw new HttpError(400, `Invalid query: ${q}`);
    const [, , op, s, b] = m;
    const want: string | boolean = b !== undefined ? b === 'true' : s.replace(/\\(.)/g, '$1');
    return items.filter((t) => {
      const v = get(t);
      const hit = op.includes('~')
        ? String(v).toLowerCase().includes(String(want).toLowerCase())
        : v === want;
      return op.startsWith('!') ? !hit : hit;
    });
  }

  private sortBy<T>(items: T[], sort: string | null, fields: Record<string, (t: T) => string>): T[] {
    if (!sort) return items;
    const desc = sort.startsWith('-');
    const get = fields[desc ? sort.slice(1) : sort];
    if (!get) throw new HttpError(400, `Invalid sort field: ${sort}`);
    return [...items].sort((a, b) => (desc ? -1 : 1) * get(a).localeCompare(get(b)));
  }

  private getUser(ctx: Ctx): void {
    const { user, scopes } = this.authenticate(ctx);
    this.requireScope(scopes, 'account');
    sendJson(ctx.res, 200, renderUser(user, this.urls()));
  }

  private getUserWorkspaces(ctx: Ctx): void {
    const { user, scopes } = this.authenticate(ctx);
    this.requireScope(scopes, 'account');
    const q = ctx.url.searchParams;
    let list = [...this.workspaces.values()].filter((w) => w.members.has(user.nickname));
    const admin = q.get('administrator');
    if (admin !== null) list = list.filter((w) => w.members.get(user.nickname) === (admin === 'true'));
    list = this.filter(list, q.get('q'), { slug: (w) => w.slug });
    list = this.sortBy(list, q.get('sort'), { slug: (w) => w.slug });
    const p = this.pagination(ctx.url);
    const urls = this.urls();
    const values = list.map((w) => ({
      type: 'workspace_access',
      administrator: w.members.get(user.nickname) === true,
      workspace: renderWorkspaceBase(w, urls),
    }));
    sendJson(ctx.res, 200, page(values, p.pageNo, p.pagelen, p.next));
  }

  private getWorkspace(ctx: Ctx): void {
    const { user, scopes } = this.authenticate(ctx);
    this.requireScope(scopes, 'account');
    const ws = this.findWorkspace(ctx.params[0]);
    if (!ws || !ws.members.has(user.nickname)) throw new HttpError(404, `No workspace with identifier '${ctx.params[0]}'.`);
    const base = renderWorkspaceRef(ws, this.urls());
    const api = `${this.apiUrl}/workspaces/${ws.slug}`;
    sendJson(ctx.res, 200, {
      ...base,
      links: {
        ...(base.links as Record<string, unknown>),
        members: { href: `${api}/members` }, owners: { href: `${api}/members?q=permission%3D%22owner%22` },
        projects: { href: `${api}/projects` }, repositories: { href: `${this.apiUrl}/repositories/${ws.slug}` },
        snippets: { href: `${this.apiUrl}/snippets/${ws.slug}` },
      },
      is_private: true,
      forking_mode: 'allow_forks',
      created_on: ws.created_on,
    });
  }

  private listRepositories(ctx: Ctx): void {
    const { user, scopes } = this.authenticate(ctx);
    this.requireScope(scopes, 'repository');
    const ws = this.findWorkspace(ctx.params[0]);
    if (!ws) throw new HttpError(404, `No workspace with identifier '${ctx.params[0]}'.`);
    const q = ctx.url.searchParams;
    const role = q.get('role');
    const need: Record<Role, Permission> = { member: 'read', contributor: 'write', admin: 'admin', owner: 'admin' };
    if (role !== null && !(role in need)) throw new HttpError(400, `Invalid role: ${role}`);
    let list = [...this.repos.values()].filter((r) => r.workspace === ws.slug && (role === null
      ? this.canSee(user.nickname, r)
      : permissionAtLeast(this.permissionOf(user.nickname, r), need[role as Role])));
    const fields = { name: (r: FakeRepo) => r.name, slug: (r: FakeRepo) => r.slug, full_name: (r: FakeRepo) => `${r.workspace}/${r.slug}` };
    list = this.filter<FakeRepo>(list, q.get('q'), { ...fields, is_private: (r) => r.is_private });
    list = this.sortBy<FakeRepo>(list, q.get('sort'), { ...fields, created_on: (r) => r.created_on, updated_on: (r) => r.updated_on });
    const p = this.pagination(ctx.url);
    const urls = this.urls();
    // Sizes are measured on disk for the page answered only.
    const onPage = (i: number) => i >= (p.pageNo - 1) * p.pagelen && i < p.pageNo * p.pagelen;
    sendJson(ctx.res, 200, page(list.map((r, i) => renderRepository(r, ws, user, urls, onPage(i) ? this.sizeOf(r) : 0)), p.pageNo, p.pagelen, p.next));
  }

  /** The repo of /2.0/repositories/{workspace}/{repo_slug}…, 404 when the user cannot see it. */
  private visibleRepo(ctx: Ctx, user: FakeUser): { ws: FakeWorkspace; repo: FakeRepo } {
    const [wsId, repoId] = ctx.params;
    const ws = this.findWorkspace(wsId);
    const repo = ws ? this.findRepo(ws, repoId) : undefined;
    if (!ws || !repo || !this.canSee(user.nickname, repo)) throw new HttpError(404, `Repository ${wsId}/${repoId} not found`);
    return { ws, repo };
  }

  private getRepository(ctx: Ctx): void {
    const { user, scopes } = this.authenticate(ctx);
    this.requireScope(scopes, 'repository');
    const { ws, repo } = this.visibleRepo(ctx, user);
    sendJson(ctx.res, 200, renderRepository(repo, ws, user, this.urls(), this.sizeOf(repo)));
  }

  /** Hooks need the webhook scope and repo admin. */
  private hookAccess(ctx: Ctx, verb: string): { repo: FakeRepo; user: FakeUser } {
    const { user, scopes } = this.authenticate(ctx);
    this.requireScope(scopes, 'webhook');
    const { repo } = this.visibleRepo(ctx, user);
    if (this.permissionOf(user.nickname, repo) !== 'admin') {
      throw new HttpError(403, `You do not have permission to ${verb} webhooks on this repository: repository admin access is required.`);
    }
    return { repo, user };
  }

  private findHook(ctx: Ctx, repo: FakeRepo): FakeHook {
    const raw = ctx.params[2];
    const uid = raw.startsWith('{') ? raw : `{${raw}}`;
    const hook = this.hooks.get(uid);
    if (!hook || hook.repo !== `${repo.workspace}/${repo.slug}`) throw new HttpError(404, `Webhook ${raw} not found`);
    return hook;
  }

  private listHooks(ctx: Ctx): void {
    const { repo } = this.hookAccess(ctx, 'view');
    const p = this.pagination(ctx.url);
    const full = `${repo.workspace}/${repo.slug}`;
    const values = [...this.hooks.values()].filter((h) => h.repo === full).map((h) => renderHook(h, repo, this.urls()));
    sendJson(ctx.res, 200, page(values, p.pageNo, p.pagelen, p.next));
  }

  private getHook(ctx: Ctx): void {
    const { repo } = this.hookAccess(ctx, 'view');
    sendJson(ctx.res, 200, renderHook(this.findHook(ctx, repo), repo, this.urls()));
  }

  /** Validates hook fields; `partial` for PUT (absent fields unchanged). */
  private hookFields(body: Record<string, unknown>, partial: boolean): Partial<Pick<FakeHook, 'url' | 'description' | 'active' | 'events' | 'secret'>> {
    const fields: Record<string, string[]> = {};
    const out: Partial<Pick<FakeHook, 'url' | 'description' | 'active' | 'events' | 'secret'>> = {};
    if (body.url !== undefined || !partial) {
      const u = str(body.url);
      let ok = false;
      try {
        ok = u !== undefined && ['http:', 'https:'].includes(new URL(u).protocol);
      } catch { /* invalid */ }
      if (ok) out.url = u;
      else fields.url = ['Enter a valid URL.'];
    }
    if (body.description !== undefined) {
      if (typeof body.description === 'string') out.description = body.description;
      else fields.description = ['Must be a string.'];
    } else if (!partial) {
      out.description = '';
    }
    if (body.active !== undefined) {
      if (typeof body.active === 'boolean') out.active = body.active;
      else fields.active = ['Must be a boolean.'];
    } else if (!partial) {
      out.active = true;
    }
    if (body.events !== undefined || !partial) {
      const ev = body.events;
      if (!Array.isArray(ev) || ev.length === 0) fields.events = ['At least one event is required.'];
      else if (!ev.every((e) => typeof e === 'string' && REPO_HOOK_EVENTS.includes(e))) fields.events = ['Unknown event key.'];
      else out.events = [...new Set(ev as string[])];
    }
    if ('secret' in body) {
      const s = body.secret;
      if (s === null || s === '') out.secret = null;
      else if (typeof s === 'string' && s.length <= 128) out.secret = s;
      else fields.secret = ['Must be a string of at most 128 characters.'];
    } else if (!partial) {
      out.secret = null;
    }
    if (Object.keys(fields).length > 0) {
      const detail = Object.entries(fields).map(([k, v]) => `${k}: ${v.join(' ')}`).join('; ');
      throw new HttpError(400, 'Bad request', apiError('Bad request', detail, { fields }));
    }
    return out;
  }

  /** A new hook of a repo (`repo` its full name) or of a workspace (`repo` null), from validated fields. */
  private storeHook(f: ReturnType<FakeBitbucket['hookFields']>, owner: Pick<FakeHook, 'repo' | 'workspace'>, creator: FakeUser): FakeHook {
    const hook: FakeHook = {
      uuid: braceUuid(),
      ...owner,
      url: f.url ?? '',
      description: f.description ?? '',
      active: f.active ?? true,
      events: f.events ?? [],
      secret: f.secret ?? null,
      created_at: new Date().toISOString(),
      creator: creator.nickname,
    };
    this.hooks.set(hook.uuid, hook);
    return hook;
  }

  private async createHook(ctx: Ctx): Promise<void> {
    const { repo, user } = this.hookAccess(ctx, 'install');
    const body = await readJson(ctx.req);
    const f = this.hookFields(body, false);
    const hook = this.storeHook(f, { repo: `${repo.workspace}/${repo.slug}`, workspace: repo.workspace }, user);
    const rendered = renderHook(hook, repo, this.urls());
    sendJson(ctx.res, 201, rendered, { Location: `${this.apiUrl}/repositories/${repo.workspace}/${repo.slug}/hooks/${encodeURIComponent(hook.uuid)}` });
  }

  private async updateHook(ctx: Ctx): Promise<void> {
    const { repo } = this.hookAccess(ctx, 'update');
    const hook = this.findHook(ctx, repo);
    const f = this.hookFields(await readJson(ctx.req), true);
    Object.assign(hook, f);
    sendJson(ctx.res, 200, renderHook(hook, repo, this.urls()));
  }

  private deleteHook(ctx: Ctx): void {
    const { repo } = this.hookAccess(ctx, 'delete');
    const hook = this.findHook(ctx, repo);
    this.hooks.delete(hook.uuid);
    ctx.res.writeHead(204);
    ctx.res.end();
  }

  /**
   * Workspace hooks need the webhook scope and a workspace owner (a member with the administrator
   * flag): a non-member gets 404 as for an unknown workspace, another member 403 (spec: "Only
   * workspace owners can install webhooks on workspaces").
   */
  private workspaceHookAccess(ctx: Ctx, verb: string): { ws: FakeWorkspace; user: FakeUser } {
    const { user, scopes } = this.authenticate(ctx);
    this.requireScope(scopes, 'webhook');
    const ws = this.findWorkspace(ctx.params[0]);
    if (!ws || !ws.members.has(user.nickname)) throw new HttpError(404, `No workspace with identifier '${ctx.params[0]}'.`);
    if (ws.members.get(user.nickname) !== true) {
      throw new HttpError(403, `You do not have permission to ${verb} webhooks on this workspace: workspace owner access is required.`);
    }
    return { ws, user };
  }

  private findWorkspaceHook(ctx: Ctx, ws: FakeWorkspace): FakeHook {
    const raw = ctx.params[1];
    const uid = raw.startsWith('{') ? raw : `{${raw}}`;
    const hook = this.hooks.get(uid);
    if (!hook || hook.repo !== null || hook.workspace !== ws.slug) throw new HttpError(404, `Webhook ${raw} not found`);
    return hook;
  }

  private listWorkspaceHooks(ctx: Ctx): void {
    const { ws } = this.workspaceHookAccess(ctx, 'view');
    const p = this.pagination(ctx.url);
    const values = [...this.hooks.values()].filter((h) => h.repo === null && h.workspace === ws.slug)
      .map((h) => renderWorkspaceHook(h, ws, this.urls()));
    sendJson(ctx.res, 200, page(values, p.pageNo, p.pagelen, p.next));
  }

  private getWorkspaceHook(ctx: Ctx): void {
    const { ws } = this.workspaceHookAccess(ctx, 'view');
    sendJson(ctx.res, 200, renderWorkspaceHook(this.findWorkspaceHook(ctx, ws), ws, this.urls()));
  }

  private async createWorkspaceHook(ctx: Ctx): Promise<void> {
    const { ws, user } = this.workspaceHookAccess(ctx, 'install');
    const f = this.hookFields(await readJson(ctx.req), false);
    const hook = this.storeHook(f, { repo: null, workspace: ws.slug }, user);
    sendJson(ctx.res, 201, renderWorkspaceHook(hook, ws, this.urls()),
      { Location: `${this.apiUrl}/workspaces/${ws.slug}/hooks/${encodeURIComponent(hook.uuid)}` });
  }

  private async updateWorkspaceHook(ctx: Ctx): Promise<void> {
    const { ws } = this.workspaceHookAccess(ctx, 'update');
    const hook = this.findWorkspaceHook(ctx, ws);
    Object.assign(hook, this.hookFields(await readJson(ctx.req), true));
    sendJson(ctx.res, 200, renderWorkspaceHook(hook, ws, this.urls()));
  }

  private deleteWorkspaceHook(ctx: Ctx): void {
    const { ws } = this.workspaceHookAccess(ctx, 'delete');
    this.hooks.delete(this.findWorkspaceHook(ctx, ws).uuid);
    ctx.res.writeHead(204);
    ctx.res.end();
  }

  // ---------------------------------------------------------------- git over HTTP

  /** Counts upload-pack requests that transfer objects (clones, fetches), as opposed to ref listings. */
  private countPackFetch(req: IncomingMessage): void {
    const head: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      if (size < 64 * 1024) head.push(chunk);
      size += chunk.length;
    });
    req.on('end', () => {
      if (asksForObjects(Buffer.concat(head), req.headers['content-encoding'] === 'gzip')) this.counters.gitPackFetches++;
    });
    req.pause(); // a 'data' listener starts the flow: hold the body until http-backend is piped in
  }

  private async git(ctx: Ctx): Promise<void> {
    const { req, res, url } = ctx;
    const [wsSlug, repoSlug, service] = ctx.params;
    const challenge = () => {
      req.resume();
      sendText(res, 401, 'Unauthorized', 'text/plain; charset=utf-8', { 'WWW-Authenticate': 'Basic realm="Bitbucket.org HTTP"' });
    };
    let user: FakeUser | null = null;
    if (req.headers.authorization) {
      const basic = parseBasic(req.headers.authorization);
      const rec = basic && basic[0] === 'x-token-auth' ? this.accessTokens.get(basic[1]) : undefined;
      if (!rec || rec.revoked || rec.expiresAt <= Date.now() || !this.users.has(rec.nickname)) {
        challenge();
        return;
      }
      user = this.mustUser(rec.nickname);
    }
    const ws = this.workspaces.get(wsSlug);
    const repo = ws ? this.repos.get(`${ws.slug}/${repoSlug}`) : undefined;
    if (!user) {
      if (!repo || repo.is_private) {
        challenge();
        return;
      }
    } else if (!repo) {
      req.resume();
      sendText(res, 404, 'Repository not found\n');
      return;
    } else if (!this.canSee(user.nickname, repo)) {
      req.resume();
      sendText(res, 403, 'You may not have access to this repository or it no longer exists in this workspace. '
        + 'If you think this repository exists and you have access, make sure you are authenticated.\n');
      return;
    }
    const wantsPush = service === 'git-receive-pack' || url.searchParams.get('service') === 'git-receive-pack';
    if (wantsPush || !repo) {
      req.resume();
      sendText(res, 403, 'The fake Bitbucket is read-only: pushes are not accepted. Use the commit() control instead.\n');
      return;
    }
    if (service === 'info/refs') {
      if (url.searchParams.get('service') !== 'git-upload-pack') {
        req.resume();
        sendText(res, 403, 'Only the smart HTTP protocol is supported.\n');
        return;
      }
      this.counters.gitFetches++;
    } else {
      this.counters.gitUploadPacks++;
      this.countPackFetch(req);
    }
    await this.gitStore.ensure(repo.workspace, repo.slug, repo.mainbranch);
    await runHttpBackend(req, res, {
      projectRoot: this.gitStore.root,
      pathInfo: `/${repo.workspace}/${repo.slug}.git/${service}`,
      query: url.search.replace(/^\?/, ''),
      remoteUser: user?.nickname,
    }, (child) => {
      this.children.add(child);
      child.on('exit', () => this.children.delete(child));
    });
  }
}

/** Whether an upload-pack request body asks for objects: protocol v2 `command=fetch`, or v0 `want` lines. */
function asksForObjects(body: Buffer, gzip: boolean): boolean {
  let text: string;
  try {
    text = (gzip ? zlib.gunzipSync(body, { finishFlush: zlib.constants.Z_SYNC_FLUSH }) : body).toString('latin1');
  } catch {
    return true; // unreadable: count it, erring on the side of a test that asserts nothing was fetched
  }
  return /command=fetch|^[0-9a-f]{4}want /m.test(text);
}

export async function startFakeBitbucket(options: FakeBitbucketOptions = {}): Promise<FakeBitbucket> {
  const fake = new FakeBitbucket(options);
  await fake.listen(options.port ?? 0);
  return fake;
}
