// The API client: the routes of CONTRACT §4–§7, §13 and §14 with the shapes the server builds its answers
// with (src/shapes.ts), the user's token as a bearer, and every failure as an ApiError
// carrying the contract's {code, message}.
import type {
  AddRepoRequest, BitbucketStatusView, CodeSearchView, ErrorBody, FileView, InstallView, MeView, PickerView, RepoCodeSearchView,
  RepoEnvelope, RepoList, SymbolsView, SyncWorkspaceRequest, TreeView, WorkspaceList, WorkspaceView,
} from '../../src/shapes';
import { session } from './session';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Called on any 401: the token is gone or revoked, so the UI returns to sign-in. */
let onUnauthorized: () => void = () => {};
export function whenUnauthorized(handler: () => void): void {
  onUnauthorized = handler;
}

async function call<T>(method: string, path: string, body?: unknown, token = session.token()): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store', credentials: 'omit' });
  } catch {
    throw new ApiError(0, 'unreachable', 'Lettuce is not answering: check that the service is running, then try again.');
  }
  if (res.status === 204) return undefined as T;
  const parsed: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    const error = (parsed as ErrorBody | null)?.error;
    // Only a 401 for the token still kept ends the session: not one for a token replaced since, nor
    // one for a request sent without a token (after a sign-out there is no session to end).
    if (res.status === 401 && token !== null && token === session.token()) onUnauthorized();
    throw new ApiError(res.status, error?.code ?? 'http_error', error?.message ?? `Lettuce answered HTTP ${res.status}.`);
  }
  return parsed as T;
}

const repoPath = (id: string, rest = '') => `/v1/repos/${encodeURIComponent(id)}${rest}`;
const qs = (params: Record<string, string | number>) => new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)])).toString();

export const api = {
  /** Checks a token before it is kept. */
  meWith: (token: string) => call<MeView>('GET', '/v1/me', undefined, token),
  me: () => call<MeView>('GET', '/v1/me'),
  bitbucket: () => call<BitbucketStatusView>('GET', '/v1/integrations/bitbucket'),
  install: () => call<InstallView>('POST', '/v1/integrations/bitbucket/install'),
  picker: () => call<PickerView>('GET', '/v1/integrations/bitbucket/repos'),
  disconnect: () => call<void>('DELETE', '/v1/integrations/bitbucket'),
  workspaces: () => call<WorkspaceList>('GET', '/v1/integrations/bitbucket/workspaces'),
  syncWorkspace: (body: SyncWorkspaceRequest) => call<{ workspace: WorkspaceView }>('POST', '/v1/integrations/bitbucket/workspaces', body),
  stopWorkspace: (workspace: string) => call<void>('DELETE', `/v1/integrations/bitbucket/workspaces/${encodeURIComponent(workspace)}`),
  repos: () => call<RepoList>('GET', '/v1/repos'),
  repo: (id: string) => call<RepoEnvelope>('GET', repoPath(id)),
  addRepo: (body: AddRepoRequest) => call<RepoEnvelope>('POST', '/v1/repos', body),
  switchToUrl: (id: string, url: string) => call<RepoEnvelope>('PATCH', repoPath(id), { url }),
  reindex: (id: string) => call<RepoEnvelope>('POST', repoPath(id, '/reindex')),
  deleteRepo: (id: string) => call<void>('DELETE', repoPath(id)),
  tree: (id: string, path: string) => call<TreeView>('GET', repoPath(id, `/tree?${qs({ path })}`)),
  file: (id: string, path: string) => call<FileView>('GET', repoPath(id, `/file?${qs({ path })}`)),
  /** One repo's code search (CONTRACT §14's query language). */
  search: (id: string, q: string) => call<RepoCodeSearchView>('GET', repoPath(id, `/search?${qs({ q, limit: 50 })}`)),
  /** The code search over every repo of the account. */
  searchAll: (q: string) => call<CodeSearchView>('GET', `/v1/search?${qs({ q, limit: 100 })}`),
  symbols: (id: string, q: string) => call<SymbolsView>('GET', repoPath(id, `/symbols?${qs({ q, limit: 50 })}`)),
};

/** Sends the browser to Bitbucket's consent page (Connect and Reconnect alike). */
export async function startBitbucketInstall(): Promise<void> {
  const { authorizeUrl } = await api.install();
  window.location.assign(authorizeUrl);
}
