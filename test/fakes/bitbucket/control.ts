// The /_fake/* control API: the object API over JSON, for the sandbox and for tests in another process.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, readJson, sendJson, str } from './http-util';
import type { FakeRepo, Permission } from './model';
import type { AuthorizeMode, FakeBitbucket, FaultSpec } from './server';

function need(body: Record<string, unknown>, key: string): string {
  const v = str(body[key]);
  if (v === undefined || v === '') throw new HttpError(400, `"${key}" (string) is required`);
  return v;
}

function opt(body: Record<string, unknown>, key: string): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new HttpError(400, `"${key}" must be a string`);
  return v;
}

function optHash(body: Record<string, unknown>, key: string): string | null | undefined {
  return body[key] === null ? null : opt(body, key);
}

function files(body: Record<string, unknown>): Record<string, string | null> {
  const f = body.files;
  if (f === null || typeof f !== 'object' || Array.isArray(f)) throw new HttpError(400, '"files" must be an object of path → content|null');
  for (const v of Object.values(f)) {
    if (v !== null && typeof v !== 'string') throw new HttpError(400, '"files" values must be strings or null');
  }
  return f as Record<string, string | null>;
}

function repoJson(r: FakeRepo): Record<string, unknown> {
  return { ...r, full_name: `${r.workspace}/${r.slug}`, grants: Object.fromEntries(r.grants) };
}

export async function handleControl(fake: FakeBitbucket, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const route = `${req.method} ${url.pathname.replace(/\/+$/, '')}`;
  const body = req.method === 'GET' || req.method === 'DELETE' ? {} : await readJson(req).catch((e: unknown) => {
    if (e instanceof HttpError) return e;
    throw e;
  });
  const ok = (data: unknown, status = 200) => sendJson(res, status, data);
  try {
    if (body instanceof HttpError) throw body;
    switch (route) {
      case 'GET /_fake/state':
        return ok({
          siteUrl: fake.siteUrl, apiUrl: fake.apiUrl, clientId: fake.clientId, callbackUrl: fake.getCallbackUrl(),
          repos: fake.listRepos().map(repoJson),
        });
      case 'POST /_fake/users':
        return ok(fake.addUser({
          nickname: need(body, 'nickname'), display_name: opt(body, 'display_name'), email: opt(body, 'email'),
        }), 201);
      case 'POST /_fake/workspaces': {
        const ws = fake.addWorkspace({ slug: need(body, 'slug'), name: opt(body, 'name') });
        const members = Array.isArray(body.members) ? body.members : [];
        for (const m of members) {
          if (typeof m === 'string') fake.addMember(ws.slug, m);
          else if (m && typeof m === 'object') fake.addMember(ws.slug, need(m as Record<string, unknown>, 'nickname'), (m as Record<string, unknown>).administrator === true);
        }
        return ok({ ...ws, members: Object.fromEntries(ws.members) }, 201);
      }
      case 'POST /_fake/repos': {
        const r = await fake.addRepo({
          workspace: need(body, 'workspace'), slug: need(body, 'slug'), name: opt(body, 'name'),
          is_private: body.is_private === undefined ? undefined : body.is_private === true,
          mainbranch: opt(body, 'mainbranch'), description: opt(body, 'description'), language: opt(body, 'language'),
          owner: opt(body, 'owner'), files: body.files === undefined ? undefined : files(body) as Record<string, string>,
        });
        return ok(repoJson(r), 201);
      }
      case 'POST /_fake/grants': {
        const p = body.permission === null ? null : need(body, 'permission');
        if (p !== null && !['read', 'write', 'admin'].includes(p)) throw new HttpError(400, '"permission" must be read, write, admin or null');
        fake.grant(need(body, 'nickname'), need(body, 'repo'), p as Permission | null);
        return ok({});
      }
      case 'PUT /_fake/current-user':
        fake.setCurrentUser(need(body, 'nickname'));
        return ok({});
      case 'PUT /_fake/callback-url':
        fake.setCallbackUrl(need(body, 'url'));
        return ok({ callbackUrl: fake.getCallbackUrl() });
      case 'PUT /_fake/authorize-mode': {
        const mode = need(body, 'mode');
        if (!['consent-page', 'auto-approve', 'auto-deny'].includes(mode)) throw new HttpError(400, 'mode must be consent-page, auto-approve or auto-deny');
        fake.setAuthorizeMode(mode as AuthorizeMode);
        return ok({});
      }
      case 'POST /_fake/commit': {
        const workspace = need(body, 'workspace');
        const slug = need(body, 'slug');
        const sha = await fake.commit(workspace, slug, files(body), {
          message: opt(body, 'message'), branch: opt(body, 'branch'), force: body.force === true, author: opt(body, 'author'),
        });
        const deliveries = body.deliver === true ? await fake.deliverPush(workspace, slug, { branch: opt(body, 'branch') }) : undefined;
        return ok({ sha, deliveries });
      }
      case 'POST /_fake/deliver-push': {
        const ref = (b: Record<string, unknown>) => ({
          branch: opt(b, 'branch'), tag: opt(b, 'tag'), oldHash: optHash(b, 'oldHash'), newHash: optHash(b, 'newHash'),
          forced: typeof b.forced === 'boolean' ? b.forced : undefined,
        });
        // `changes: [{branch|tag, oldHash, newHash}, …]` sends one push of several refs.
        const refs = Array.isArray(body.changes) ? (body.changes as Array<Record<string, unknown>>).map(ref) : [ref(body)];
        return ok({ deliveries: await fake.deliverChanges(need(body, 'workspace'), need(body, 'slug'), refs, opt(body, 'actor')) });
      }
      case 'PUT /_fake/consumer':
        fake.setConsumer({ scopes: opt(body, 'scopes'), privateConsumer: typeof body.privateConsumer === 'boolean' ? body.privateConsumer : undefined });
        return ok(fake.consumer());
      case 'PUT /_fake/main-branch':
        await fake.setMainBranch(need(body, 'workspace'), need(body, 'slug'), need(body, 'branch'));
        return ok({});
      case 'POST /_fake/tags':
        return ok({ sha: await fake.tag(need(body, 'workspace'), need(body, 'slug'), need(body, 'name'), opt(body, 'commit')) }, 201);
      case 'POST /_fake/delete-branch':
        await fake.deleteBranch(need(body, 'workspace'), need(body, 'slug'), need(body, 'branch'));
        return ok({});
      case 'POST /_fake/delete-repo':
        await fake.removeRepo(need(body, 'repo'));
        return ok({});
      case 'GET /_fake/hooks': {
        const ws = url.searchParams.get('workspace');
        const slug = url.searchParams.get('slug');
        if (!ws || !slug) throw new HttpError(400, 'workspace and slug query parameters are required');
        return ok({ hooks: fake.hooksOf(ws, slug) });
      }
      case 'GET /_fake/workspace-hooks': {
        const ws = url.searchParams.get('workspace');
        if (!ws) throw new HttpError(400, 'the workspace query parameter is required');
        return ok({ hooks: fake.workspaceHooksOf(ws) });
      }
      case 'GET /_fake/deliveries':
        return ok({ deliveries: fake.deliveries() });
      case 'POST /_fake/tokens':
        return ok(fake.issueTokens(need(body, 'nickname')));
      case 'POST /_fake/revoke':
        fake.revokeGrants(opt(body, 'nickname'));
        return ok({});
      case 'POST /_fake/expire-tokens':
        fake.expireAccessTokens(opt(body, 'nickname'));
        return ok({});
      case 'POST /_fake/faults': {
        const pathRegex = opt(body, 'pathRegex');
        const spec: FaultSpec = {
          method: opt(body, 'method'),
          path: pathRegex !== undefined ? new RegExp(pathRegex) : need(body, 'path'),
          status: typeof body.status === 'number' ? body.status : undefined,
          hang: body.hang === true,
          times: typeof body.times === 'number' ? (body.times < 0 ? Infinity : body.times) : undefined,
          body: opt(body, 'body'),
        };
        fake.injectFault(spec);
        return ok({}, 201);
      }
      case 'DELETE /_fake/faults':
        fake.clearFaults();
        return ok({});
      case 'GET /_fake/rest-limit':
        return ok({ limit: fake.restLimit(), restCalls: fake.stats().restCalls });
      case 'PUT /_fake/rest-limit': {
        // {limit: {calls, windowMs}} sets it, {limit: null} turns it off.
        const limit = body.limit;
        if (limit !== null && (typeof limit !== 'object' || Array.isArray(limit)
          || typeof (limit as Record<string, unknown>).calls !== 'number' || typeof (limit as Record<string, unknown>).windowMs !== 'number')) {
          throw new HttpError(400, '"limit" must be {calls: number, windowMs: number} or null');
        }
        fake.setRestLimit(limit as { calls: number; windowMs: number } | null);
        return ok({ limit: fake.restLimit() });
      }
      case 'GET /_fake/stats':
        return ok(fake.stats());
      case 'DELETE /_fake/stats':
        fake.resetStats();
        return ok({});
      default:
        throw new HttpError(404, `Unknown control route ${route}`);
    }
  } catch (e) {
    if (e instanceof HttpError) return sendJson(res, e.status, { error: e.message });
    // Errors thrown by the object API are caller mistakes (unknown repo, bad path, …).
    return sendJson(res, 400, { error: e instanceof Error ? e.message : String(e) });
  }
}
