// Adding a repo: resolve what the user named (a Bitbucket repo through the API with the account's
// token, or a pasted URL through the URL policy and a git probe), insert its row and answer; its
// workflow is started right after by the RepoStarter, which also makes any start that did not
// happen. Adding the same repo twice returns the first.
import type { DataSource } from 'typeorm';
import { BitbucketApiError } from '../bitbucket/errors';
import type { BitbucketRepository } from '../bitbucket/client';
import type { BitbucketIntegration } from '../bitbucket/integration';
import type { Config } from '../config';
import { Repo } from '../db/entities';
import { GitSyncError, probeRemote } from '../git/repo-sync';
import { parseRepoUrl, resolveAllowedHost, type ParsedRepoUrl } from '../git/url-policy';
import type { SecretBox } from '../security/secret-box';
import { encodeUrlCredentials } from './git-access';
import { findBySourceKey, insertRepo } from './repo-store';
import type { RepoStarter } from './repo-starter';

export class AddRepoError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface AddRepoDeps {
  ds: DataSource;
  box: SecretBox;
  config: Config;
  bitbucket: BitbucketIntegration;
  starter: Pick<RepoStarter, 'startSoon' | 'whileAdding'>;
}

type NewRepo = Pick<Repo, 'accountId' | 'source' | 'sourceKey' | 'name' | 'cloneUrl' | 'isPrivate' | 'defaultBranch'> &
  Partial<Pick<Repo, 'urlCredentials' | 'bitbucketWorkspace' | 'bitbucketSlug' | 'bitbucketUuid' | 'reportedSize'>>;

export function bitbucketSourceKey(workspace: string, slug: string): string {
  return `bitbucket:${workspace}/${slug}`.toLowerCase();
}

/**
 * The row, then the workflow: the row commits on its own (no transaction, and no pooled
 * connection, held open across a call to Temporal, which under a burst of adds queued every
 * request behind it) and the answer goes out; the starter starts the workflow and retries until
 * it has, so a committed repo always gets its workflow.
 */
async function insertAndStart(deps: AddRepoDeps, values: NewRepo): Promise<{ repo: Repo; created: boolean }> {
  const repo = await insertRepo(deps.ds, { ...values, workflowStartedAt: null, taskQueuePrefix: deps.config.taskQueuePrefix });
  if (!repo) {
    const existing = await findBySourceKey(deps.ds, values.accountId, values.sourceKey);
    if (!existing) throw new Error(`${values.name} was added and deleted by other requests meanwhile`);
    return { repo: existing, created: false };
  }
  deps.starter.startSoon(repo);
  return { repo, created: true };
}

/**
 * Adds the repo the user named (a Bitbucket `ws/slug` or a git URL). The starter holds the
 * workflow starts while adds are being answered, so a burst of adds is answered first.
 */
export function addRepo(deps: AddRepoDeps, accountId: string, what: { bitbucket?: string; url?: string }): Promise<{ repo: Repo; created: boolean }> {
  return deps.starter.whileAdding(() => (what.bitbucket ? addBitbucketRepo(deps, accountId, what.bitbucket) : addUrlRepo(deps, accountId, what.url!)));
}

async function addBitbucketRepo(deps: AddRepoDeps, accountId: string, fullName: string): Promise<{ repo: Repo; created: boolean }> {
  const [workspace, slug] = fullName.split('/');
  const existing = await findBySourceKey(deps.ds, accountId, bitbucketSourceKey(workspace, slug));
  if (existing) return { repo: existing, created: false };
  let meta;
  try {
    // NotConnectedError / NeedsReauthError from the token read when the account has no usable installation.
    meta = await deps.bitbucket.clientForAccount(accountId).repository(workspace, slug);
  } catch (err) {
    if (err instanceof BitbucketApiError && [403, 404, 410].includes(err.status)) {
      throw new AddRepoError(404, 'bitbucket_repo_not_found', `No Bitbucket repo ${fullName} is visible to the connected user.`);
    }
    throw err;
  }
  const cloneUrl = bitbucketCloneUrl(deps.config, meta);
  const [ws, repoSlug] = meta.full_name.split('/');
  return insertAndStart(deps, {
    accountId,
    source: 'bitbucket',
    sourceKey: bitbucketSourceKey(ws, repoSlug),
    name: meta.full_name,
    cloneUrl,
    isPrivate: meta.is_private,
    defaultBranch: meta.mainbranch?.name ?? null,
    bitbucketWorkspace: ws,
    bitbucketSlug: meta.slug ?? repoSlug,
    bitbucketUuid: meta.uuid,
    reportedSize: typeof meta.size === 'number' && Number.isFinite(meta.size) && meta.size > 0 ? meta.size : null,
  });
}

/** A Bitbucket repository's HTTPS clone URL, without the user name Bitbucket puts in it. */
export function bitbucketCloneUrl(config: Pick<Config, 'bitbucketUrl'>, repo: Pick<BitbucketRepository, 'full_name' | 'links'>): string {
  const https = repo.links?.clone?.find((c) => c.name === 'https')?.href;
  if (!https) return `${config.bitbucketUrl}/${repo.full_name}.git`;
  const u = new URL(https);
  u.username = '';
  u.password = '';
  return u.toString();
}

/** Checks a pasted URL: policy, resolved addresses, then a `git ls-remote` probe. */
export async function checkPastedUrl(deps: Pick<AddRepoDeps, 'config'>, url: string): Promise<{ parsed: ParsedRepoUrl; defaultBranch: string | null }> {
  const parsed = parseRepoUrl(url);
  const addresses = await resolveAllowedHost(parsed, { allowPrivateHosts: deps.config.gitAllowPrivateHosts });
  try {
    const info = await probeRemote({ url: parsed.cloneUrl, credentials: parsed.credentials, timeoutMs: 20_000, pinAddresses: addresses });
    return { parsed, defaultBranch: info.defaultBranch };
  } catch (err) {
    if (!(err instanceof GitSyncError)) throw err;
    const why =
      err.code === 'auth_failed' || err.code === 'forbidden' ? 'the git server refused access (for a private repo, paste the URL with credentials: https://user:token@host/path.git)'
      : err.code === 'repo_gone' ? 'there is no repository at that URL'
      : err.code === 'timeout' ? 'the git server did not answer in time'
      : err.code === 'rate_limited' ? 'the git server is rate limiting requests right now (try again in a minute)'
      : 'it could not be read as a git repository';
    throw new AddRepoError(400, 'invalid_url', `The URL was not accepted: ${why}.`);
  }
}

async function addUrlRepo(deps: AddRepoDeps, accountId: string, url: string): Promise<{ repo: Repo; created: boolean }> {
  const parsedOnly = parseRepoUrl(url);
  const existing = await findBySourceKey(deps.ds, accountId, parsedOnly.sourceKey);
  if (existing) return { repo: existing, created: false };
  const { parsed, defaultBranch } = await checkPastedUrl(deps, url);
  return insertAndStart(deps, {
    accountId,
    source: 'url',
    sourceKey: parsed.sourceKey,
    name: parsed.name,
    cloneUrl: parsed.cloneUrl,
    isPrivate: parsed.credentials !== null,
    defaultBranch,
    urlCredentials: parsed.credentials ? deps.box.seal(encodeUrlCredentials(parsed.credentials)) : null,
  });
}

/** PATCH: switch a repo to a pasted URL (the way back for a private Bitbucket repo after a disconnect). */
export async function switchToUrl(deps: AddRepoDeps, repo: Repo, url: string): Promise<Repo> {
  const { parsed, defaultBranch } = await checkPastedUrl(deps, url);
  const clash = await findBySourceKey(deps.ds, repo.accountId, parsed.sourceKey);
  if (clash && clash.id !== repo.id) throw new AddRepoError(409, 'already_added', `That URL is already added as repo ${clash.id}.`);
  await deps.ds.getRepository(Repo).update(
    { id: repo.id },
    {
      source: 'url',
      sourceKey: parsed.sourceKey,
      name: parsed.name,
      cloneUrl: parsed.cloneUrl,
      urlCredentials: parsed.credentials ? deps.box.seal(encodeUrlCredentials(parsed.credentials)) : null,
      isPrivate: parsed.credentials !== null || repo.isPrivate,
      defaultBranch: defaultBranch ?? repo.defaultBranch,
      webhookStatus: 'none',
      webhookError: null,
    },
  );
  return deps.ds.getRepository(Repo).findOneByOrFail({ id: repo.id });
}
