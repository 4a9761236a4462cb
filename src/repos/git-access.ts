// How a repo is reached by git: its clone URL and, per run, the credentials — an OAuth access
// token from the token service for Bitbucket repos (x-token-auth), or the sealed credentials
// split off a pasted URL. Never stored in the clone, never passed through Temporal.
import type { DataSource } from 'typeorm';
import { NotConnectedError } from '../bitbucket/errors';
import { findInstallation, needsReauth } from '../bitbucket/installations';
import type { BitbucketIntegration } from '../bitbucket/integration';
import { NeedsReauthError } from '../bitbucket/errors';
import type { Repo } from '../db/entities';
import { bitbucketTokenCredentials, type GitCredentials } from '../git/credentials';
import type { SecretBox } from '../security/secret-box';

export async function gitCredentialsFor(repo: Repo, deps: { ds: DataSource; box: SecretBox; bitbucket: BitbucketIntegration }): Promise<GitCredentials | null> {
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

/** "user:password", each percent-encoded, as sealed in repos.url_credentials. */
export function encodeUrlCredentials(c: { username: string; password: string }): string {
  return `${encodeURIComponent(c.username)}:${encodeURIComponent(c.password)}`;
}
