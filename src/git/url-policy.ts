// What a pasted git URL may be (CONTRACT §6): https, http or git only; never an option, an
// scp-like or local path, or a transport helper (ext::, file:); credentials split off and never
// echoed; and, unless GIT_ALLOW_PRIVATE_HOSTS, a host that resolves only to public addresses.
import { promises as dns } from 'node:dns';
import { parseIp, specialAddressKind } from './ip-address';

export type UrlPolicyCode = 'invalid_url' | 'url_not_allowed';

export class UrlPolicyError extends Error {
  override name = 'UrlPolicyError';
  constructor(readonly code: UrlPolicyCode, message: string) {
    super(message);
  }
}

export type RepoUrlScheme = 'https' | 'http' | 'git';

export interface RepoCredentials {
  username: string;
  password: string;
}

export interface ParsedRepoUrl {
  /** Normalised URL without credentials, query or fragment, e.g. "https://github.com/org/repo.git". */
  cloneUrl: string;
  /** The userinfo of the pasted URL (percent-decoded), or null. */
  credentials: RepoCredentials | null;
  scheme: RepoUrlScheme;
  /** Canonical host: lower case, IPv4 in dotted decimal, IPv6 in brackets, IDN in punycode. */
  host: string;
  /** Null for the scheme's default port. */
  port: number | null;
  /** Path, starting with "/", without trailing "/". */
  path: string;
  /** "host[:port]/path" without ".git", e.g. "github.com/org/repo". */
  name: string;
  /** Identity of the repo: the same for two pastes of one URL, credentials aside. */
  sourceKey: string;
}

export const MAX_URL_LENGTH = 2048;
const ALLOWED_SCHEMES: readonly string[] = ['https', 'http', 'git'];
const DEFAULT_PORT: Record<RepoUrlScheme, number> = { https: 443, http: 80, git: 9418 };
// Options git (or ssh) would obey if a URL ever reached them as an argument.
const OPTION_LIKE = /--(upload-pack|receive-pack|exec|config|template)\b|(^|[^a-z0-9])-o\s*proxycommand/i;
const CONTROL_OR_SPACE = /[\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200f\u2028\u2029\u202f\u205f\u3000\ufeff]/;

const invalid = (message: string) => new UrlPolicyError('invalid_url', message);
const notAllowed = (message: string) => new UrlPolicyError('url_not_allowed', message);

function safeDecode(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}

/**
 * Parses and normalises a pasted repository URL. Throws UrlPolicyError (`invalid_url` or
 * `url_not_allowed`); no error message ever contains the URL's credentials.
 */
export function parseRepoUrl(input: string): ParsedRepoUrl {
  if (typeof input !== 'string') throw invalid('The repository URL must be a string.');
  const text = input.replace(/^[\s\u0000-\u001f]+|[\s\u0000-\u001f]+$/g, '');
  if (text === '') throw invalid('The repository URL is empty.');
  if (text.length > MAX_URL_LENGTH) throw invalid(`The repository URL is longer than ${MAX_URL_LENGTH} characters.`);
  if (text.startsWith('-')) throw notAllowed('The repository URL must not start with "-".');
  const decoded = safeDecode(text) ?? text;
  if (OPTION_LIKE.test(text) || OPTION_LIKE.test(decoded)) {
    throw notAllowed('The repository URL looks like a command-line option, which is not allowed.');
  }

  const schemeMatch = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(text);
  if (!schemeMatch) {
    if (/^[^/]*:/.test(text)) {
      throw notAllowed('SSH and scp-style URLs (user@host:path) are not supported; use the https URL of the repository.');
    }
    throw invalid('The repository URL is not a URL; paste the https URL of the repository, e.g. https://host/org/repo.git.');
  }
  const scheme = schemeMatch[1].toLowerCase();
  if (!ALLOWED_SCHEMES.includes(scheme)) {
    if (scheme === 'ssh' || scheme.includes('ssh')) throw notAllowed('SSH URLs are not supported; use the https URL of the repository.');
    throw notAllowed(`URLs with the "${scheme.length <= 20 ? scheme : 'given'}" scheme are not allowed; use an https, http or git URL.`);
  }
  if (CONTROL_OR_SPACE.test(text) || text.includes('\\')) {
    throw invalid('The repository URL contains spaces, control characters or backslashes.');
  }
  if (!text.slice(scheme.length + 1).startsWith('//')) throw invalid('The repository URL must look like scheme://host/path.');

  // git: is not a WHATWG "special" scheme (its host would stay opaque, e.g. "0x7f.1"), so the
  // authority and path are parsed as http to get the same canonical host as for http(s).
  const asHttp = scheme === 'git' ? `http${text.slice(scheme.length)}` : text;
  let url: URL;
  let raw: URL;
  try {
    url = new URL(asHttp);
    raw = new URL(text);
  } catch {
    throw invalid('The repository URL could not be parsed.');
  }

  const host = url.hostname.toLowerCase();
  if (!host) throw invalid('The repository URL has no host.');
  if (host.startsWith('-')) throw notAllowed('The repository URL\'s host must not start with "-".');
  if (host.startsWith('.') || host.includes('..')) throw invalid('The repository URL has an invalid host.');

  // The port as written: for git: the http re-parse would drop ":80" as a default port.
  const portText = scheme === 'git' ? raw.port : url.port;
  let port: number | null = portText === '' ? null : Number(portText);
  if (port !== null && (!Number.isInteger(port) || port < 1 || port > 65535)) throw invalid('The repository URL has an invalid port.');
  if (port === DEFAULT_PORT[scheme as RepoUrlScheme]) port = null;

  let credentials: RepoCredentials | null = null;
  if (url.username !== '' || url.password !== '') {
    if (scheme === 'git') throw notAllowed('A git:// URL cannot carry credentials; use the https URL with credentials instead.');
    const username = safeDecode(url.username);
    const password = safeDecode(url.password);
    if (username === null || password === null) throw invalid('The credentials in the repository URL are not correctly percent-encoded.');
    if (username.includes(':')) throw invalid('The user name in the repository URL must not contain ":".');
    if (username === '' && password === '') credentials = null;
    else credentials = { username, password };
  }

  if (url.search !== '' || text.includes('?')) throw invalid('The repository URL must not have a query string.');
  const path = url.pathname.replace(/\/+$/, '');
  if (path === '' || path === '/') throw invalid('The repository URL has no path to a repository.');

  const authority = port === null ? host : `${host}:${port}`;
  const cloneUrl = `${scheme}://${authority}${path}`;
  const bare = path.replace(/\.git$/i, '').replace(/\/+$/, '');
  if (bare === '') throw invalid('The repository URL has no path to a repository.');
  return {
    cloneUrl,
    credentials,
    scheme: scheme as RepoUrlScheme,
    host,
    port,
    path,
    name: `${authority}${bare}`,
    sourceKey: `${scheme}://${authority}${bare}`,
  };
}

export type HostLookup = (host: string) => Promise<string[]>;

export interface HostPolicyOptions {
  /** GIT_ALLOW_PRIVATE_HOSTS: let the host resolve to loopback/private/link-local addresses. */
  allowPrivateHosts: boolean;
  /** Resolves a host name to addresses (default: dns.promises.lookup, all families). */
  lookup?: HostLookup;
}

export const defaultLookup: HostLookup = async (host) =>
  (await dns.lookup(host, { all: true, verbatim: true })).map((a) => a.address);

/**
 * Resolves the URL's host and checks every address it resolves to. Returns the addresses
 * (so a caller can pin them, see `gitResolvePin`). Throws UrlPolicyError: `invalid_url` when
 * the host does not resolve, `url_not_allowed` when any address is not public (unless
 * `allowPrivateHosts`).
 */
export async function resolveAllowedHost(parsed: Pick<ParsedRepoUrl, 'host'>, opts: HostPolicyOptions): Promise<string[]> {
  const literal = parseIp(parsed.host);
  let addresses: string[];
  if (literal) {
    addresses = [parsed.host.replace(/^\[|\]$/g, '')];
  } else {
    const lookup = opts.lookup ?? defaultLookup;
    const name = parsed.host.replace(/\.$/, '');
    try {
      addresses = await lookup(name);
    } catch {
      addresses = [];
    }
    if (!addresses.length) throw invalid(`The host ${parsed.host} could not be resolved.`);
  }
  if (opts.allowPrivateHosts) return addresses;
  for (const address of addresses) {
    const kind = specialAddressKind(address);
    if (kind !== null) {
      const what = literal ? `The address ${parsed.host}` : `The host ${parsed.host} resolves to ${address}, which`;
      throw notAllowed(`${what} is not a public address (${kind}); repositories on private or local networks are not allowed.`);
    }
  }
  return addresses;
}

/** resolveAllowedHost, for callers that only need the verdict. */
export async function assertHostAllowed(parsed: Pick<ParsedRepoUrl, 'host'>, opts: HostPolicyOptions): Promise<void> {
  await resolveAllowedHost(parsed, opts);
}

/** Parses and checks a pasted URL in one go (the POST /v1/repos path). */
export async function checkRepoUrl(input: string, opts: HostPolicyOptions): Promise<ParsedRepoUrl & { addresses: string[] }> {
  const parsed = parseRepoUrl(input);
  const addresses = await resolveAllowedHost(parsed, opts);
  return { ...parsed, addresses };
}
