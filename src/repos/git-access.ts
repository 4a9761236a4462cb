// How a repo is reached by git: its clone URL and, per run, the credentials — an OAuth access
// token from the token service for Bitbucket repos (x-token-auth), or the sealed credentials
// split off a pasted URL. Never stored in the clone, never passed through Temporal. Also what a
// git failure means for the repo, which depends on who asked (a 403 to Lettuce's Bitbucket token
// means the connected user can no longer read the repo).
import type { DataSource } from 'typeorm';
import { NeedsReauthError, NotConnectedError } from '../bitbucket/errors';
import { findInstallation, needsReauth } from '../bitbucket/installations';
import type { BitbucketIntegration } from '../bitbucket/integration';
import type { Config } from '../config';
import type { Repo } from '../db/entities';
import { bitbucketTokenCredentials, type GitCredentials } from '../git/credentials';
import { GitSyncError, type RemoteOptions } from '../git/repo-sync';
import { resolveAllowedHost } from '../git/url-policy';
import type { SecretBox } from '../security/secret-box';

export interface GitAccessDeps {
  ds: DataSource;
  box: SecretBox;
  config: Config;
  bitbucket: BitbucketIntegration;
}

export async function gitCredentialsFor(repo: Repo, deps: Omit<GitAccessDeps, 'config'>): Promise<GitCredentials | null> {
  if (repo.source === 'url') {
    if (!repo.urlCredentials) return null;
    const [username, ...rest] = deps.box.open(repo.urlCredentials).split(':');
    return { username: decodeURIComponent(username), password: decodeURIComponent(rest.join(':')) };
  }
  const installation = await findInstallation(deps.ds, repo.accountId);
  if (!installation) {
    // Public repos keep working after a disconnect; private ones need a connection (or a PATCH to a URL).
    if (!repo.isPrivate) return null;
    throw new NotConnectedError('Bitbucket is not connected any more: reconnect it, or switch this repo to a git URL with credentials.');
  }
  if (needsReauth(installation)) throw new NeedsReauthError();
  return bitbucketTokenCredentials(await deps.bitbucket.tokens.getAccessToken(installation.id));
}

/** Where and how git reaches the repo this time: URL, credentials, and for pasted URLs the addresses the policy allowed. */
export async function remoteOf(repo: Repo, deps: GitAccessDeps): Promise<Pick<RemoteOptions, 'url' | 'credentials' | 'pinAddresses'>> {
  const credentials = await gitCredentialsFor(repo, deps);
  // Pasted URLs are checked again at every use: DNS may have changed since the repo was added.
  const pinAddresses = repo.source === 'url' ? await resolveAllowedHost({ host: new URL(repo.cloneUrl).hostname }, { allowPrivateHosts: deps.config.gitAllowPrivateHosts }) : undefined;
  return { url: repo.cloneUrl, credentials, pinAddresses };
}

/**
 * A git failure in the repo's terms. For a Bitbucket repo read with the connected user's token, a
 * 403 or 404 means the repo was deleted or the user can no longer read it (repo_gone); read
 * anonymously after a disconnect, a refusal means it is no longer public (reconnect to read it).
 */
export function repoGitFailure(repo: Pick<Repo, 'source'>, credentials: GitCredentials | null | undefined, err: GitSyncError): Error {
  if (repo.source !== 'bitbucket') return err;
  if (credentials && (err.code === 'forbidden' || err.code === 'repo_gone')) {
    return new GitSyncError('repo_gone', 'The repository was deleted on Bitbucket, or the connected Bitbucket user can no longer read it.');
  }
  if (!credentials && (err.code === 'auth_failed' || err.code === 'forbidden')) {
    return new NotConnectedError('Bitbucket is not connected, and the repository is no longer public (or was deleted): reconnect Bitbucket to read it.');
  }
  return err;
}

/** "user:password", each percent-encoded, as sealed in repos.url_credentials. */
export function encodeUrlCredentials(c: { username: string; password: string }): string {
  return `${encodeURIComponent(c.username)}:${encodeURIComponent(c.password)}`;
}
