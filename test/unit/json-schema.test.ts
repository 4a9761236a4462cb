// The small JSON Schema validator the OpenAPI test relies on: it must actually refuse.
import { openApiDocument } from '../../src/api/openapi/spec';
import { validate } from '../support/json-schema';

const root = openApiDocument as unknown as Record<string, any>;
const repoSchema = { $ref: '#/components/schemas/Repo' };
const repo = {
  id: 'r1',
  source: 'url',
  name: 'host/x',
  cloneUrl: 'https://host/x.git',
  isPrivate: false,
  defaultBranch: null,
  status: 'ready',
  webhook: { status: 'none', error: null },
  lastIndexedCommit: null,
  lastIndexedAt: '2026-01-01T00:00:00.000Z',
  error: null,
  syncedFrom: null,
  createdAt: '2026-01-01T00:00:00.000Z',
};

describe('json-schema validate', () => {
  it('accepts a valid repo, with or without progress', () => {
    expect(validate(repoSchema, repo, root)).toEqual([]);
    expect(validate(repoSchema, { ...repo, status: 'indexing', progress: { filesDone: 1, filesTotal: 2 } }, root)).toEqual([]);
  });

  it('refuses extra, missing, mistyped and out-of-enum fields, naming where', () => {
    expect(validate(repoSchema, { ...repo, token: 'x' }, root)).toEqual(['$: unexpected property token']);
    const { createdAt: _c, ...missing } = repo;
    expect(validate(repoSchema, missing, root)).toEqual(['$: missing createdAt']);
    expect(validate(repoSchema, { ...repo, isPrivate: 'no' }, root)).toEqual(['$.isPrivate: expected boolean, got string']);
    expect(validate(repoSchema, { ...repo, status: 'gone' }, root)[0]).toMatch(/^\$\.status: "gone" not in/);
    expect(validate(repoSchema, { ...repo, lastIndexedAt: 'yesterday' }, root)[0]).toMatch(/^\$\.lastIndexedAt: matches none of anyOf/);
    expect(validate(repoSchema, { ...repo, webhook: { status: 'none' } }, root)).toEqual(['$.webhook: missing error']);
  });

  it("checks an error answer's code against the codes documented for that status", () => {
    const notFound = root.paths['/v1/repos/{id}'].get.responses['404'].content['application/json'].schema;
    expect(validate(notFound, { error: { code: 'not_found', message: 'No such repo.' } }, root)).toEqual([]);
    expect(validate(notFound, { error: { code: 'forbidden', message: 'x' } }, root)).toHaveLength(1);
    expect(validate(notFound, { message: 'x' }, root)).toEqual(['$: missing error', '$: unexpected property message']);
  });

  it('handles oneOf (exactly one)', () => {
    const report = { $ref: '#/components/schemas/QueueReport' };
    expect(validate(report, { taskQueue: 'q', ok: false, error: 'none' }, root)).toEqual([]);
    expect(validate(report, { taskQueue: 'q', ok: true, error: 'none' }, root)).toEqual(['$: matches 0 of oneOf, not exactly 1']);
  });
});
