// Data model of the fake Bitbucket Cloud: users, workspaces, repositories, permissions,
// webhooks and OAuth grants. Field names follow Bitbucket's JSON (snake_case) where they
// mirror an API field.
import { randomBytes, randomUUID } from 'node:crypto';

export type Permission = 'read' | 'write' | 'admin';
export type Role = 'member' | 'contributor' | 'admin' | 'owner';

export interface FakeUser {
  uuid: string; // "{…}" with braces, like Bitbucket
  account_id: string;
  nickname: string;
  display_name: string;
  email: string;
  created_on: string;
}

export interface FakeWorkspace {
  uuid: string;
  slug: string;
  name: string;
  /** nickname → administrator flag */
  members: Map<string, boolean>;
  project: { uuid: string; key: string; name: string };
  created_on: string;
}

export interface FakeRepo {
  uuid: string;
  workspace: string; // workspace slug
  slug: string;
  name: string;
  description: string;
  is_private: boolean;
  mainbranch: string;
  language: string;
  /** nickname of the user who created it (role=owner) */
  owner: string | null;
  created_on: string;
  updated_on: string;
  /** nickname → explicit permission */
  grants: Map<string, Permission>;
}

/**
 * A webhook: a repository's (`repo` set) or a workspace's (`repo` null). Workspace hooks fire for
 * the events of every repository in `workspace` (reference §5 item 8).
 */
export interface FakeHook {
  uuid: string;
  /** Full name "ws/slug" of a repository hook; null for a workspace hook. */
  repo: string | null;
  /** The workspace slug (of the repository, or the workspace the hook is installed on). */
  workspace: string;
  url: string;
  description: string;
  active: boolean;
  events: string[];
  /** Stored for delivery; never returned by the REST API. */
  secret: string | null;
  created_at: string;
  /** nickname of the creator */
  creator: string;
}

export interface AccessToken {
  token: string;
  nickname: string;
  clientId: string;
  scope: string;
  expiresAt: number; // epoch ms
  revoked: boolean;
}

export interface RefreshToken {
  token: string;
  nickname: string;
  clientId: string;
  scope: string;
  revoked: boolean;
}

export interface AuthCode {
  code: string;
  nickname: string;
  clientId: string;
  /** The consumer's scopes when the user authorized: the grant keeps them. */
  scope: string;
  expiresAt: number;
  used: boolean;
}

const RANK: Record<Permission, number> = { read: 1, write: 2, admin: 3 };

export function permissionAtLeast(have: Permission | null, need: Permission): boolean {
  return have !== null && RANK[have] >= RANK[need];
}

export function maxPermission(a: Permission | null, b: Permission | null): Permission | null {
  if (a === null) return b;
  if (b === null) return a;
  return RANK[a] >= RANK[b] ? a : b;
}

/** A Bitbucket-style uuid: lower-case, wrapped in braces. */
export function braceUuid(): string {
  return `{${randomUUID()}}`;
}

export function stripBraces(uuid: string): string {
  return uuid.replace(/^\{|\}$/g, '');
}

/** An opaque random token (URL-safe). */
export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** 24 hex chars, the shape of an Atlassian account id. */
export function randomAccountId(): string {
  return randomBytes(12).toString('hex');
}

/** ISO-8601 with microseconds and +00:00, like Bitbucket's timestamps. */
export function bbTimestamp(date = new Date()): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000+00:00');
}

export const SLUG_RE = /^[a-z0-9][a-z0-9._-]{0,61}$/;

/** Every event key a repository webhook may subscribe to (spec: webhook_subscription.events). */
export const REPO_HOOK_EVENTS: readonly string[] = [
  'issue:comment_created', 'issue:created', 'issue:updated', 'pipeline:span_created', 'project:updated',
  'pullrequest:approved', 'pullrequest:changes_request_created', 'pullrequest:changes_request_removed',
  'pullrequest:comment_created', 'pullrequest:comment_deleted', 'pullrequest:comment_reopened',
  'pullrequest:comment_resolved', 'pullrequest:comment_updated', 'pullrequest:created', 'pullrequest:fulfilled',
  'pullrequest:push', 'pullrequest:rejected', 'pullrequest:unapproved', 'pullrequest:updated',
  'repo:commit_comment_created', 'repo:commit_status_created', 'repo:commit_status_updated', 'repo:created',
  'repo:deleted', 'repo:fork', 'repo:imported', 'repo:push', 'repo:transfer', 'repo:updated',
];
