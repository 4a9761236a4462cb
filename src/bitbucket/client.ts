// Bitbucket Cloud REST 2.0 client: Bearer tokens only, pagination by following the opaque `next`
// (pagelen 100), errors mapped from the {"type":"error"} body, 429/5xx retried with backoff, and a
// 401 on a token believed valid answered by one refresh and one retry. Calls to the resources
// Bitbucket rate-limits go through the consumer's REST budget (rest-budget.ts). Never the CHANGE-2770
// cross-workspace endpoints.
import { BitbucketApiError, BitbucketUnavailableError, type BitbucketErrorBody } from './errors';
import { DEFAULT_RETRY, fetchWithRetry, TransientHttpError, type Fetch, type RetryPolicy } from './http';
import { currentRestCallKind, isBudgetedPath, RestBudgetSpentError, type RestBudget } from './rest-budget';

export interface TokenSource {
  get(): Promise<string>;
  afterRejection(rejected: string): Promise<string>;
}

interface Page<T> {
  values: T[];
  next?: string;
}

export interface BitbucketUser {
  uuid: string;
  display_name: string;
  nickname?: string;
}

export interface BitbucketRepository {
  uuid: string;
  full_name: string;
  name: string;
  slug?: string;
  is_private: boolean;
  mainbranch?: { name: string } | null;
  /** The repository's size in bytes, as Bitbucket measures it (all of its history). */
  size?: number;
  workspace?: { slug: string };
  links?: { clone?: Array<{ name: string; href: string }> };
}

export interface BitbucketHook {
  uuid: string;
  url: string;
  active: boolean;
  events: string[];
  description?: string;
  secret_set?: boolean;
}

export class BitbucketClient {
  private readonly apiUrl: string;

  constructor(
    apiUrl: string,
    private readonly tokens: TokenSource,
    private readonly doFetch: Fetch = fetch,
    private readonly retry: RetryPolicy = DEFAULT_RETRY,
    private readonly budget: RestBudget | null = null,
    /** Whose calls these are, for the fair share of the budget (an account id; '' when unknown). */
    private readonly budgetAccount = '',
  ) {
    this.apiUrl = apiUrl.replace(/\/+$/, '');
  }

  /** The fetch of a call: through the consumer's REST budget when Bitbucket limits the resource. */
  private fetchFor(pathname: string): Fetch {
    const budget = this.budget;
    if (!budget || !isBudgetedPath(pathname)) return this.doFetch;
    return async (input, init) => {
      await budget.take(this.budgetAccount); // every attempt of a retried call is a call
      const res = await this.doFetch(input, init);
      if (res.status === 429) await budget.rateLimited();
      return res;
    };
  }

  /** Only URLs under the API root get our token: a `next` link elsewhere is refused. */
  private resolve(pathOrUrl: string): string {
    const url = pathOrUrl.startsWith('http') ? pathOrUrl : `${this.apiUrl}${pathOrUrl}`;
    if (!url.startsWith(`${this.apiUrl}/`)) throw new BitbucketApiError(502, 'Bitbucket returned a link outside its API.');
    return url;
  }

  async request<T>(method: string, pathOrUrl: string, body?: unknown): Promise<{ status: number; data: T | null; location: string | null }> {
    const url = this.resolve(pathOrUrl);
    const pathname = new URL(url).pathname;
    const label = `Bitbucket ${method} ${pathname}`;
    const doFetch = this.fetchFor(pathname);
    const send = async (token: string) => {
      try {
        return await fetchWithRetry(
          doFetch,
          url,
          {
            method,
            headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
            body: body !== undefined ? JSON.stringify(body) : undefined,
          },
          label,
          this.retry,
          method !== 'POST', // a POST (creating a hook) that may have been carried out is not resent blindly
        );
      } catch (err) {
        if (err instanceof TransientHttpError) throw new BitbucketUnavailableError(err.message);
        // A request answers at once rather than wait for the window; background work retries later (failure-interceptor.ts).
        if (err instanceof RestBudgetSpentError && currentRestCallKind() === 'user') throw new BitbucketUnavailableError(err.message);
        throw err;
      }
    };
    let token = await this.tokens.get();
    let res = await send(token);
    if (res.status === 401) {
      await res.body?.cancel().catch(() => undefined);
      token = await this.tokens.afterRejection(token);
      res = await send(token);
    }
    const text = await res.text();
    let data: unknown = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = null;
    }
    if (res.status >= 400) {
      const body = errorBody(data);
      throw new BitbucketApiError(res.status, `${label} answered ${res.status}: ${body.message ?? 'no details'}`, body);
    }
    return { status: res.status, data: data as T, location: res.headers.get('location') };
  }

  async get<T>(pathOrUrl: string): Promise<T> {
    return (await this.request<T>('GET', pathOrUrl)).data as T;
  }

  async *paginate<T>(path: string): AsyncGenerator<T> {
    let next: string | undefined = path;
    while (next) {
      const page: Page<T> = await this.get<Page<T>>(next);
      yield* page.values ?? [];
      next = page.next;
    }
  }

  async collect<T>(path: string): Promise<T[]> {
    const all: T[] = [];
    for await (const item of this.paginate<T>(path)) all.push(item);
    return all;
  }

  currentUser(): Promise<BitbucketUser> {
    return this.get<BitbucketUser>('/user');
  }

  async workspaceSlugs(): Promise<string[]> {
    const access = await this.collect<{ workspace: { slug: string } }>('/user/workspaces?pagelen=100');
    return access.map((a) => a.workspace.slug);
  }

  /** Repos of one workspace where the user has at least write access (role=contributor). */
  contributorRepositories(workspace: string): Promise<BitbucketRepository[]> {
    return this.collect<BitbucketRepository>(`/repositories/${encodeURIComponent(workspace)}?role=contributor&pagelen=100`);
  }

  /**
   * The caller's membership of one workspace, from `/user/workspaces` (CHANGE-3022: the
   * cross-workspace permission endpoints are gone): null when the user is not a member.
   * `administrator` = a workspace owner, who may manage workspace webhooks.
   */
  async workspaceAccess(workspace: string): Promise<{ slug: string; uuid: string; administrator: boolean } | null> {
    const q = encodeURIComponent(`slug = "${workspace.replace(/["\\]/g, '')}"`);
    const access = await this.collect<{ administrator?: boolean; workspace: { slug: string; uuid: string } }>(`/user/workspaces?q=${q}&pagelen=100`);
    const found = access.find((a) => a.workspace.slug.toLowerCase() === workspace.toLowerCase());
    return found ? { slug: found.workspace.slug, uuid: found.workspace.uuid, administrator: found.administrator === true } : null;
  }

  /** A workspace's display name (`workspace_base` in `/user/workspaces` carries none). */
  async workspaceName(workspace: string): Promise<string> {
    const ws = await this.get<{ name?: string; slug: string }>(`/workspaces/${encodeURIComponent(workspace)}`);
    return ws.name ?? ws.slug;
  }

  repository(workspace: string, slug: string): Promise<BitbucketRepository> {
    return this.get<BitbucketRepository>(`/repositories/${encodeURIComponent(workspace)}/${encodeURIComponent(slug)}`);
  }
}

/** Bitbucket's error body: `{"type":"error","error":{"message","detail":{"required","granted"}|string}}`. */
function errorBody(data: unknown): BitbucketErrorBody {
  const error = (data as { error?: { message?: unknown; detail?: unknown } } | null)?.error;
  const message = typeof error?.message === 'string' ? error.message.slice(0, 300) : null;
  const required = (error?.detail as { required?: unknown } | null | undefined)?.required;
  const requiredScopes = Array.isArray(required) ? required.filter((s): s is string => typeof s === 'string').slice(0, 20) : [];
  return { message, requiredScopes };
}
