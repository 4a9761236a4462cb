import { BitbucketClient } from '../../src/bitbucket/client';
import { BitbucketApiError, BitbucketUnavailableError } from '../../src/bitbucket/errors';

const API = 'https://api.bitbucket.example/2.0';
const fastRetry = { attempts: 3, baseDelayMs: 1, maxDelayMs: 2, timeoutMs: 1000 };

function client(responses: Array<(url: string, init: RequestInit) => Response>, tokens = { get: async () => 't1', afterRejection: async () => 't2' }) {
  const calls: Array<{ url: string; auth: string | null }> = [];
  const doFetch = (async (url: string, init: RequestInit) => {
    calls.push({ url, auth: new Headers(init.headers).get('authorization') });
    const next = responses.shift();
    if (!next) throw new Error('unexpected call');
    return next(url, init);
  }) as typeof fetch;
  return { c: new BitbucketClient(API, tokens, doFetch, fastRetry), calls };
}

const json = (status: number, body: unknown) => () => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('BitbucketClient', () => {
  it('follows opaque next links to the end with a Bearer token', async () => {
    const { c, calls } = client([json(200, { values: [1, 2], next: `${API}/x?page=abc` }), json(200, { values: [3] })]);
    expect(await c.collect<number>('/x')).toEqual([1, 2, 3]);
    expect(calls.map((x) => x.url)).toEqual([`${API}/x`, `${API}/x?page=abc`]);
    expect(calls.every((x) => x.auth === 'Bearer t1')).toBe(true);
  });

  it('never sends the token to a next link outside the API', async () => {
    const { c, calls } = client([json(200, { values: [1], next: 'https://evil.example/2.0/x' })]);
    await expect(c.collect('/x')).rejects.toThrow(BitbucketApiError);
    expect(calls).toHaveLength(1);
  });

  it('retries 429 (text/plain, no Retry-After) and 5xx, then gives up as unavailable', async () => {
    const rateLimited = () => new Response('Rate limit for this resource has been exceeded', { status: 429, headers: { 'content-type': 'text/plain' } });
    const ok = client([rateLimited, json(503, {}), json(200, { uuid: 'u', display_name: 'D' })]);
    expect((await ok.c.currentUser()).display_name).toBe('D');
    const down = client([rateLimited, rateLimited, rateLimited]);
    await expect(down.c.currentUser()).rejects.toThrow(BitbucketUnavailableError);
  });

  it('answers a 401 with one refresh and one retry', async () => {
    const { c, calls } = client([json(401, { type: 'error', error: { message: 'Access token expired.' } }), json(200, { uuid: 'u', display_name: 'D' })]);
    await c.currentUser();
    expect(calls.map((x) => x.auth)).toEqual(['Bearer t1', 'Bearer t2']);
    const twice = client([json(401, {}), json(401, { type: 'error', error: { message: 'nope' } })]);
    await expect(twice.c.currentUser()).rejects.toMatchObject({ status: 401 });
  });

  it('maps {"type":"error"} bodies into the error message', async () => {
    const { c } = client([json(404, { type: 'error', error: { message: 'Repository acme/nope not found' } })]);
    await expect(c.repository('acme', 'nope')).rejects.toThrow(/404: Repository acme\/nope not found/);
  });
});
