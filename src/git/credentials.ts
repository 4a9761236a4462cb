// The one way credentials reach git: an environment for the git child process that sets
// `http.<remote url>.extraHeader = Authorization: Basic …` through GIT_CONFIG_COUNT /
// GIT_CONFIG_KEY_n / GIT_CONFIG_VALUE_n. So a token is never in argv (visible in `ps`), never in
// the remote URL, never in `.git/config`, and never in an error message (they are scrubbed).
//
// The same environment hardens every network git command: no prompts, no credential helpers
// (a 401 fails at once instead of asking), no redirects, only http/https/git transports, and
// connections only to the addresses the URL policy checked (http.curloptResolve for http(s), a
// pinning proxy command for git://, see git-proxy.ts).
import { gitProxyEnv } from './git-proxy';

export interface GitCredentials {
  username: string;
  password: string;
}

/** Bitbucket Cloud clones with an OAuth access token as the password of this literal user. */
export const BITBUCKET_TOKEN_USERNAME = 'x-token-auth';

export function bitbucketTokenCredentials(accessToken: string): GitCredentials {
  return { username: BITBUCKET_TOKEN_USERNAME, password: accessToken };
}

function validate(c: GitCredentials): void {
  // No secret in these messages.
  if (typeof c.username !== 'string' || typeof c.password !== 'string') throw new Error('Git credentials must be strings.');
  if (c.username.includes(':')) throw new Error('A git user name must not contain ":".');
  if (/[\r\n\0]/.test(c.username) || /[\r\n\0]/.test(c.password)) throw new Error('Git credentials must not contain line breaks or NUL.');
}

/** "Basic <base64(user:password)>". */
export function basicAuthValue(c: GitCredentials): string {
  validate(c);
  return `Basic ${Buffer.from(`${c.username}:${c.password}`, 'utf8').toString('base64')}`;
}

/**
 * The strings that must never appear in output: the password, the header value and, when the
 * user name is the secret (a token as user name, empty password), the user name.
 */
export function credentialSecrets(c: GitCredentials | null | undefined): string[] {
  if (!c) return [];
  const out = [basicAuthValue(c).slice('Basic '.length)];
  if (c.password) out.push(c.password, encodeURIComponent(c.password));
  if (!c.password && c.username) out.push(c.username, encodeURIComponent(c.username));
  return [...new Set(out.filter((s) => s.length > 0))];
}

export interface GitEnvOptions {
  /**
   * Addresses the URL's host was checked against (url-policy resolveAllowedHost): git then
   * connects to exactly these (http.curloptResolve for http(s); for git://, GIT_PROXY_COMMAND
   * with a proxy that connects only to them), closing the DNS-rebinding gap between the check
   * and the connection.
   */
  pinAddresses?: string[];
  /** Follow HTTP redirects? Default false: a redirect could lead to a host that was not checked. */
  followRedirects?: boolean;
}

const DEFAULT_PORTS: Record<string, number> = { 'https:': 443, 'http:': 80 };

/** `http.<url>` is matched as a prefix of the remote URL; without a trailing slash it covers `<url>/info/refs` etc. */
function headerScope(remoteUrl: string): string {
  const u = new URL(remoteUrl);
  u.username = '';
  u.password = '';
  u.search = '';
  u.hash = '';
  return u.toString().replace(/\/+$/, '');
}

/**
 * Environment variables (merge over process.env) for a git command that talks to `remoteUrl`.
 * `remoteUrl` must be the credential-free URL git is given. Without credentials it still
 * disables prompts and credential helpers.
 */
export function gitCredentialEnv(remoteUrl: string, credentials?: GitCredentials | null, opts: GitEnvOptions = {}): Record<string, string> {
  const config: Array<[string, string]> = [
    // An empty helper resets the list: no keychain or store supplies (or saves) anything.
    ['credential.helper', ''],
    ['core.askPass', ''],
    ['http.followRedirects', opts.followRedirects ? 'initial' : 'false'],
    // No hooks from a user's template or config ever run in our clones.
    ['core.hooksPath', '/dev/null'],
    // Belt and braces with GIT_ALLOW_PROTOCOL: never file://, ext::, ssh.
    ['protocol.allow', 'never'],
    ['protocol.https.allow', 'always'],
    ['protocol.http.allow', 'always'],
    ['protocol.git.allow', 'always'],
  ];
  const parsed = new URL(remoteUrl);
  if (parsed.username || parsed.password) throw new Error('The remote URL given to git must not carry credentials.');
  if (credentials) {
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new Error('Credentials can only be sent over http(s).');
    config.push([`http.${headerScope(remoteUrl)}.extraHeader`, `Authorization: ${basicAuthValue(credentials)}`]);
  }
  const pins = (opts.pinAddresses ?? []).filter(Boolean);
  const pinHost = parsed.hostname.replace(/^\[|\]$/g, '');
  // A pin only matters for names; an IP literal is connected to as is.
  const isName = !/^[\d.]+$/.test(pinHost) && !pinHost.includes(':');
  if (pins.length && isName && DEFAULT_PORTS[parsed.protocol]) {
    const port = parsed.port ? Number(parsed.port) : DEFAULT_PORTS[parsed.protocol];
    const addrs = pins.map((a) => (a.includes(':') ? `[${a}]` : a)).join(',');
    config.push(['http.curloptResolve', `${pinHost}:${port}:${addrs}`]);
  }
  const env: Record<string, string> = {
    GIT_TERMINAL_PROMPT: '0',
    GIT_ASKPASS: '',
    SSH_ASKPASS: '',
    GCM_INTERACTIVE: 'never',
    GIT_ALLOW_PROTOCOL: 'https:http:git',
    // run-git removes every inherited GIT_TRACE*/GIT_CURL_VERBOSE; should one come back, redact.
    GIT_TRACE_REDACT: '1',
    GIT_CONFIG_COUNT: String(config.length),
  };
  config.forEach(([key, value], i) => {
    env[`GIT_CONFIG_KEY_${i}`] = key;
    env[`GIT_CONFIG_VALUE_${i}`] = value;
  });
  if (pins.length && isName && parsed.protocol === 'git:') Object.assign(env, gitProxyEnv(pinHost, pins));
  return env;
}
