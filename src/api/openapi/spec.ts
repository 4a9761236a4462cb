// The API described as OpenAPI 3.1, written by hand beside the routes and served at
// GET /v1/openapi.json. test/e2e/openapi.test.ts keeps it true: every route of the routers is
// documented here, every path here is called, and every answer is checked against its schema.
// Objects are closed (additionalProperties: false) so a field added to an answer must be added here.

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });
const nullable = (schema: Schema): Schema => ({ anyOf: [schema, { type: 'null' }] });
const obj = (properties: Record<string, Schema>, required = Object.keys(properties)): Schema => ({
  type: 'object',
  properties,
  required,
  additionalProperties: false,
});
const str: Schema = { type: 'string' };
const time: Schema = { type: 'string', format: 'date-time' };
const bool: Schema = { type: 'boolean' };
const int: Schema = { type: 'integer' };

const json = (schema: Schema, description: string) => ({ description, content: { 'application/json': { schema } } });
const body = (schema: Schema) => ({ required: true, content: { 'application/json': { schema } } });

/** Error answers, each `{"error":{"code","message"}}`; `codes` lists the codes a route gives for that status. */
function errorsOf(entries: Record<number, string[]>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(entries).map(([status, codes]) => [
      status,
      json({ allOf: [ref('Error'), { properties: { error: { properties: { code: { enum: codes } } } } }] }, codes.join(', ')),
    ]),
  );
}

const withBody = { 400: ['invalid_json', 'invalid_request'], 413: ['payload_too_large'] };
const userAuth = [{ userToken: [] }];
const adminAuth = [{ adminToken: [] }];
const noAuth: never[] = [];

const idParam = (name: string, description: string) => ({ name, in: 'path', required: true, description, schema: str });
const repoId = idParam('id', 'The repo id.');
const query = (name: string, schema: Schema, description: string, required = false) => ({ name, in: 'query', required, description, schema });
const limit = query('limit', { type: 'integer', minimum: 1, maximum: 200, default: 50 }, 'At most this many results.');

const repoProperties: Record<string, Schema> = {
  id: str,
  source: { enum: ['bitbucket', 'url'] },
  name: str,
  cloneUrl: { type: 'string', description: 'Never carries credentials.' },
  isPrivate: bool,
  defaultBranch: nullable(str),
  status: { enum: ['pending', 'indexing', 'ready', 'failed'] },
  webhook: obj({ status: { enum: ['none', 'active', 'failed'] }, error: nullable(str) }),
  lastIndexedCommit: nullable(str),
  lastIndexedAt: nullable(time),
  error: nullable(obj({ code: str, message: str })),
  progress: { ...obj({ filesDone: int, filesTotal: int }), description: 'Only while indexing.' },
  syncedFrom: { ...nullable(str), description: 'The synced workspace the repo belongs to; null for repos added by hand.' },
  createdAt: time,
};
const repoRequired = Object.keys(repoProperties).filter((k) => k !== 'progress');

const searchQ = query(
  'q',
  { type: 'string', minLength: 1, maxLength: 1000 },
  'Text (a literal, case-insensitive) or /regex/ (RE2), with filters: case:yes, file:<regex>, -file:<regex>, lang:<name>, repo:<regex>, sym:<text>.',
  true,
);
const searchLimit = query('limit', { type: 'integer', minimum: 1, maximum: 500, default: 50 }, 'At most this many results.');

const navigatorErrors = errorsOf({ 400: ['invalid_request', 'invalid_path'], 401: ['unauthorized'], 404: ['not_found'], 409: ['not_indexed'] });

export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'Lettuce backend',
    version: '1',
    description:
      'Repository connection and navigation: Bitbucket Cloud OAuth, repos, webhooks, indexing, and the code navigator. ' +
      'Every error is {"error":{"code","message"}}. Bodies over 1 MiB answer 413 payload_too_large, malformed JSON 400 invalid_json, ' +
      'schema violations 400 invalid_request naming the field, unknown routes 404 not_found.',
  },
  servers: [{ url: '/' }],
  components: {
    securitySchemes: {
      adminToken: { type: 'http', scheme: 'bearer', description: 'CODEWAZE_ADMIN_TOKEN.' },
      userToken: { type: 'http', scheme: 'bearer', description: "A user's API token (shown once when the user is created)." },
    },
    schemas: {
      Error: obj({ error: obj({ code: { type: 'string', pattern: '^[a-z][a-z0-9_]*$' }, message: str }) }),
      Account: obj({ id: str, name: str }),
      User: obj({ id: str, email: str, role: { enum: ['owner', 'member'] } }),
      Repo: obj(repoProperties, repoRequired),
      AdminRepo: obj(
        { ...repoProperties, accountId: str, workflowId: str, runId: nullable(str), temporalUiUrl: { type: 'string', format: 'uri' } },
        [...repoRequired, 'accountId', 'workflowId', 'runId', 'temporalUiUrl'],
      ),
      RepoEnvelope: obj({ repo: ref('Repo') }),
      QueueReport: {
        oneOf: [
          obj({ taskQueue: str, ok: { const: true }, worker: obj({ taskQueue: str, identity: str, databaseTime: time, git: str }) }),
          obj({ taskQueue: str, ok: { const: false }, error: str }),
        ],
      },
      Workspace: obj({
        workspace: str,
        name: str,
        exclude: { type: 'array', items: str },
        status: { enum: ['syncing', 'synced', 'failed'] },
        repos: obj({ total: int, pending: int, indexing: int, ready: int, failed: int }),
        webhook: obj({ scope: { enum: ['workspace', 'repo'] }, status: { enum: ['active', 'failed', 'none'] }, error: nullable(str) }),
        lastSyncedAt: nullable(time),
        error: nullable(obj({ code: str, message: str })),
        createdAt: time,
      }),
      WorkspaceEnvelope: obj({ workspace: ref('Workspace') }),
      SearchResult: obj({
        repo: obj({ id: str, name: str }),
        path: str,
        line: { type: 'integer', minimum: 0, description: '1-based; 0 for a match in the path.' },
        column: { type: 'integer', minimum: 0 },
        preview: str,
        matches: { type: 'array', items: { type: 'array', items: int, minItems: 2, maxItems: 2 }, description: 'Each match as [start, end): 1-based offsets in code points within preview, end exclusive.' },
      }),
      SearchStats: obj({ repos: int, files: int, truncated: bool }),
      PickableRepo: obj({ fullName: str, workspace: str, slug: str, name: str, isPrivate: bool, uuid: str, added: bool }),
      CodecPayloads: obj({
        payloads: {
          type: 'array',
          items: obj({ metadata: { type: 'object', additionalProperties: { type: 'string', contentEncoding: 'base64' } }, data: { type: 'string', contentEncoding: 'base64' } }, ['metadata']),
        },
      }),
    },
  },
  paths: {
    '/healthz': {
      get: { summary: 'Liveness', security: noAuth, responses: { 200: json(obj({ status: { const: 'ok' } }), 'The process is up.') } },
    },
    '/readyz': {
      get: {
        summary: 'Readiness: PostgreSQL and Temporal answer',
        security: noAuth,
        responses: Object.fromEntries(
          [200, 503].map((status) => [
            status,
            json(obj({ status: { enum: ['ready', 'not_ready'] }, checks: obj({ database: { enum: ['ok', 'down'] }, temporal: { enum: ['ok', 'down'] } }) }), status === 200 ? 'Ready.' : 'A dependency is down.'),
          ]),
        ),
      },
    },
    '/metrics': {
      get: {
        summary: 'Prometheus metrics of the API process',
        security: noAuth,
        responses: { 200: { description: 'Prometheus text exposition format.', content: { 'text/plain': { schema: str } } } },
      },
    },
    '/v1/openapi.json': {
      get: { summary: 'This document', security: noAuth, responses: { 200: json({ type: 'object', required: ['openapi', 'paths'] }, 'The OpenAPI 3.1 document.') } },
    },
    '/v1/admin/accounts': {
      post: {
        summary: 'Create an account with its owner',
        security: adminAuth,
        requestBody: body(obj({ name: { type: 'string', minLength: 1, maxLength: 200 }, ownerEmail: { type: 'string', format: 'email' } })),
        responses: {
          201: json(obj({ account: ref('Account'), user: ref('User'), token: { type: 'string', description: 'The API token, shown once.' } }), 'Created.'),
          ...errorsOf({ ...withBody, 401: ['unauthorized'], 409: ['email_taken'] }),
        },
      },
    },
    '/v1/admin/accounts/{accountId}/users': {
      post: {
        summary: 'Add a user to an account',
        security: adminAuth,
        parameters: [idParam('accountId', 'The account id.')],
        requestBody: body(obj({ email: { type: 'string', format: 'email' }, role: { enum: ['owner', 'member'] } })),
        responses: {
          201: json(obj({ user: ref('User'), token: str }), 'Created.'),
          ...errorsOf({ ...withBody, 401: ['unauthorized'], 404: ['not_found'], 409: ['email_taken'] }),
        },
      },
    },
    '/v1/admin/diagnostics': {
      post: {
        summary: 'Run the diagnostics workflow: one live worker per task queue',
        security: adminAuth,
        responses: Object.fromEntries([
          ...[200, 503].map((status) => [
            status,
            json(obj({ workflowId: str, queues: { type: 'array', items: ref('QueueReport') } }), status === 200 ? 'Every queue answered.' : 'A queue has no live worker.'),
          ]),
          ...Object.entries(errorsOf({ 401: ['unauthorized'] })),
        ]),
      },
    },
    '/v1/admin/repos/{id}': {
      get: {
        summary: "A repo and its workflow's coordinates",
        security: adminAuth,
        parameters: [repoId],
        responses: {
          200: json(
            obj({ repo: ref('AdminRepo'), accountId: str, workflowId: str, runId: nullable(str), temporalUiUrl: { type: 'string', format: 'uri' } }),
            'The repo plus workflowId, runId and temporalUiUrl.',
          ),
          ...errorsOf({ 401: ['unauthorized'], 404: ['not_found'], 503: ['temporal_unavailable'] }),
        },
      },
    },
    '/v1/me': {
      get: {
        summary: 'The caller',
        security: userAuth,
        responses: { 200: json(obj({ user: ref('User'), account: ref('Account') }), 'The user and its account.'), ...errorsOf({ 401: ['unauthorized'] }) },
      },
    },
    '/v1/integrations/bitbucket': {
      get: {
        summary: 'Bitbucket integration status',
        security: userAuth,
        responses: {
          200: json(
            obj({
              configured: bool,
              connected: bool,
              needsReauth: bool,
              bitbucketUser: nullable(obj({ uuid: str, displayName: str })),
              connectedAt: nullable(time),
              missingScopes: {
                type: 'array',
                items: { enum: ['account', 'team', 'project', 'repository', 'repository:write', 'webhook'] },
                description: "Scopes the OAuth consumer must have that the connection's grant lacks; [] when complete or not connected.",
              },
            }),
            'Status.',
          ),
          ...errorsOf({ 401: ['unauthorized'] }),
        },
      },
      delete: {
        summary: 'Disconnect Bitbucket (owners only)',
        security: userAuth,
        responses: { 204: { description: 'Disconnected; repos stay.' }, ...errorsOf({ 401: ['unauthorized'], 403: ['forbidden'], 404: ['not_connected'] }) },
      },
    },
    '/v1/integrations/bitbucket/install': {
      post: {
        summary: 'Start connecting Bitbucket',
        security: userAuth,
        responses: {
          200: json(obj({ authorizeUrl: { type: 'string', format: 'uri' } }), "Send the browser to Bitbucket's authorize page."),
          ...errorsOf({ 401: ['unauthorized'], 503: ['bitbucket_not_configured'] }),
        },
      },
    },
    '/v1/integrations/bitbucket/callback': {
      get: {
        summary: 'OAuth callback (Bitbucket redirects the browser here)',
        security: noAuth,
        parameters: [query('code', str, 'The authorization code.'), query('state', str, 'The signed install state.'), query('error', str, 'Set by Bitbucket when the user cancels.')],
        responses: {
          302: {
            description: 'To ${CODEWAZE_PUBLIC_URL}/repos?bitbucket=connected, or ?bitbucket_error=invalid_state|access_denied|exchange_failed|consumer_not_private.',
            headers: { Location: { schema: { type: 'string', format: 'uri' } } },
            content: { 'text/html': { schema: { type: 'string', description: "Koa's redirect page (a link to Location)." } } },
          },
        },
      },
    },
    '/v1/integrations/bitbucket/repos': {
      get: {
        summary: 'Repos the connected Bitbucket user can add (contributor or higher), across workspaces',
        security: userAuth,
        parameters: [query('q', { type: 'string', maxLength: 200 }, 'Case-insensitive substring of workspace/slug.')],
        responses: {
          200: json(obj({ repos: { type: 'array', items: ref('PickableRepo') }, message: nullable(str) }), 'Sorted by fullName.'),
          ...errorsOf({ 400: ['invalid_request'], 401: ['unauthorized'], 409: ['not_connected', 'needs_reauth'], 502: ['bitbucket_unavailable', 'bitbucket_error'] }),
        },
      },
    },
    '/v1/integrations/bitbucket/workspaces': {
      get: {
        summary: "The account's synced workspaces, with their repo counts",
        security: userAuth,
        responses: { 200: json(obj({ workspaces: { type: 'array', items: ref('Workspace') } }), 'Synced workspaces.'), ...errorsOf({ 401: ['unauthorized'] }) },
      },
      post: {
        summary: 'Sync every repo of a workspace (owners only)',
        security: userAuth,
        requestBody: body(obj({ workspace: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,100}$' }, exclude: { type: 'array', maxItems: 100, items: { type: 'string', maxLength: 200 }, description: 'Globs (*, ?) on repo slugs, case-insensitive.' } }, ['workspace'])),
        responses: {
          200: json(ref('WorkspaceEnvelope'), 'Already synced; exclude replaced.'),
          202: json(ref('WorkspaceEnvelope'), 'Syncing.'),
          ...errorsOf({
            ...withBody,
            401: ['unauthorized'],
            403: ['forbidden'],
            404: ['bitbucket_workspace_not_found'],
            409: ['not_connected', 'needs_reauth'],
            502: ['bitbucket_unavailable', 'bitbucket_error'],
          }),
        },
      },
    },
    '/v1/integrations/bitbucket/workspaces/{workspace}': {
      parameters: [idParam('workspace', 'The workspace slug.')],
      get: {
        summary: 'One synced workspace',
        security: userAuth,
        responses: { 200: json(ref('WorkspaceEnvelope'), 'The workspace and its counts.'), ...errorsOf({ 401: ['unauthorized'], 404: ['not_found'] }) },
      },
      delete: {
        summary: 'Stop syncing a workspace (owners only): its repos stay as ordinary repos',
        security: userAuth,
        responses: { 204: { description: 'Stopped.' }, ...errorsOf({ 401: ['unauthorized'], 403: ['forbidden'], 404: ['not_found'] }) },
      },
    },
    '/v1/repos': {
      get: {
        summary: "The account's repos",
        security: userAuth,
        responses: { 200: json(obj({ repos: { type: 'array', items: ref('Repo') } }), 'Repos.'), ...errorsOf({ 401: ['unauthorized'] }) },
      },
      post: {
        summary: 'Add a Bitbucket repo or a git URL',
        security: userAuth,
        requestBody: body({
          oneOf: [
            obj({ bitbucket: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}$' } }),
            obj({ url: { type: 'string', maxLength: 4096, description: 'https, http or git; credentials (user:token@) are split off and sealed.' } }),
          ],
        }),
        responses: {
          200: json(ref('RepoEnvelope'), 'Already added: the same repo.'),
          202: json(ref('RepoEnvelope'), 'Added; status pending.'),
          ...errorsOf({
            400: ['invalid_json', 'invalid_request', 'invalid_url', 'url_not_allowed'],
            401: ['unauthorized'],
            404: ['bitbucket_repo_not_found'],
            409: ['not_connected', 'needs_reauth', 'already_added'],
            413: ['payload_too_large'],
            502: ['bitbucket_unavailable', 'bitbucket_error'],
          }),
        },
      },
    },
    '/v1/repos/{id}': {
      parameters: [repoId],
      get: { summary: 'One repo', security: userAuth, responses: { 200: json(ref('RepoEnvelope'), 'The repo (with progress while indexing).'), ...errorsOf({ 401: ['unauthorized'], 404: ['not_found'] }) } },
      patch: {
        summary: 'Switch the repo to a git URL (with credentials) and re-index',
        security: userAuth,
        requestBody: body(obj({ url: { type: 'string', maxLength: 4096 } })),
        responses: {
          200: json(ref('RepoEnvelope'), 'Switched.'),
          ...errorsOf({ 400: ['invalid_json', 'invalid_request', 'invalid_url', 'url_not_allowed'], 401: ['unauthorized'], 404: ['not_found'], 409: ['already_added'], 413: ['payload_too_large'] }),
        },
      },
      delete: {
        summary: 'Remove the repo (its workflow removes webhook, clone and index)',
        security: userAuth,
        responses: { 204: { description: 'Removed.' }, ...errorsOf({ 401: ['unauthorized'], 404: ['not_found'] }) },
      },
    },
    '/v1/repos/{id}/reindex': {
      post: {
        summary: 'Re-index at the newest head (and re-check the webhook)',
        security: userAuth,
        parameters: [repoId],
        responses: { 202: json(ref('RepoEnvelope'), 'Queued.'), ...errorsOf({ 401: ['unauthorized'], 404: ['not_found'] }) },
      },
    },
    '/v1/repos/{id}/tree': {
      get: {
        summary: 'A directory of the last indexed commit',
        security: userAuth,
        parameters: [repoId, query('path', str, 'Directory; empty = the root.')],
        responses: {
          200: json(
            obj({
              commit: str,
              path: str,
              entries: { type: 'array', items: obj({ name: str, path: str, type: { enum: ['file', 'dir'] }, size: nullable(int), language: nullable(str) }) },
            }),
            'Entries of the directory.',
          ),
          ...navigatorErrors,
        },
      },
    },
    '/v1/repos/{id}/file': {
      get: {
        summary: 'A text file of the last indexed commit',
        security: userAuth,
        parameters: [repoId, query('path', str, 'The file.', true)],
        responses: { 200: json(obj({ commit: str, path: str, language: nullable(str), size: int, content: str }), 'The file.'), ...navigatorErrors },
      },
    },
    '/v1/repos/{id}/search': {
      get: {
        summary: 'Code search in one repo (the query language of CONTRACT §14)',
        security: userAuth,
        parameters: [repoId, searchQ, searchLimit],
        responses: {
          200: json(obj({ commit: str, results: { type: 'array', items: ref('SearchResult') }, stats: ref('SearchStats') }), 'Definitions, then file names, then lines.'),
          ...errorsOf({ 400: ['invalid_request', 'invalid_query'], 401: ['unauthorized'], 404: ['not_found'], 409: ['not_indexed'] }),
        },
      },
    },
    '/v1/search': {
      get: {
        summary: 'Code search over every repo of the account that has an index (CONTRACT §14)',
        security: userAuth,
        parameters: [searchQ, searchLimit],
        responses: {
          200: json(obj({ results: { type: 'array', items: ref('SearchResult') }, stats: ref('SearchStats') }), 'Definitions, then file names, then lines; ties by repo, path, line.'),
          ...errorsOf({ 400: ['invalid_request', 'invalid_query'], 401: ['unauthorized'] }),
        },
      },
    },
    '/v1/repos/{id}/symbols': {
      get: {
        summary: 'Symbols by name prefix',
        security: userAuth,
        parameters: [repoId, query('q', { type: 'string', maxLength: 200 }, 'Name prefix.'), limit],
        responses: {
          200: json(obj({ commit: str, symbols: { type: 'array', items: obj({ name: str, kind: str, path: str, line: int }) } }), 'Symbols.'),
          ...navigatorErrors,
        },
      },
    },
    '/v1/webhooks/bitbucket/{accountId}': {
      post: {
        summary: 'Bitbucket webhook receiver (signed with the account secret)',
        security: noAuth,
        parameters: [
          idParam('accountId', 'The account the webhook belongs to.'),
          { name: 'X-Hub-Signature', in: 'header', required: true, description: 'sha256=<hex HMAC-SHA256 of the raw body>', schema: str },
          { name: 'X-Event-Key', in: 'header', required: true, schema: str },
          { name: 'X-Request-UUID', in: 'header', required: false, description: 'Redeliveries with the same value are acknowledged once.', schema: str },
        ],
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', description: "Bitbucket's repo:push payload." } } } },
        responses: {
          200: json(obj({ outcome: { const: 'duplicate' } }), 'A redelivery, acknowledged.'),
          202: json(obj({ outcome: { enum: ['accepted', 'ignored'] }, reason: str }, ['outcome']), 'Accepted (a re-index is signalled) or ignored.'),
          ...errorsOf({ 400: ['invalid_payload'], 401: ['invalid_signature'], 413: ['payload_too_large'] }),
        },
      },
    },
    '/codec/decode': {
      options: { summary: 'CORS preflight (Temporal UI origin)', security: noAuth, responses: { 204: { description: 'CORS headers for the Temporal UI origin.' } } },
      post: {
        summary: 'Temporal codec server: decrypt payloads (for the Temporal UI)',
        security: adminAuth,
        requestBody: body(ref('CodecPayloads')),
        responses: {
          200: json(ref('CodecPayloads'), 'The payloads, decoded; unencrypted payloads pass through.'),
          ...errorsOf({ 400: ['invalid_json', 'invalid_request', 'decode_failed'], 401: ['unauthorized'], 404: ['codec_disabled'], 413: ['payload_too_large'] }),
        },
      },
    },
    '/codec/encode': {
      options: { summary: 'CORS preflight (Temporal UI origin)', security: noAuth, responses: { 204: { description: 'CORS headers for the Temporal UI origin.' } } },
      post: {
        summary: 'Temporal codec server: encrypt payloads',
        security: adminAuth,
        requestBody: body(ref('CodecPayloads')),
        responses: {
          200: json(ref('CodecPayloads'), 'The payloads, encrypted with the current key.'),
          ...errorsOf({ 400: ['invalid_json', 'invalid_request', 'decode_failed'], 401: ['unauthorized'], 404: ['codec_disabled'], 413: ['payload_too_large'] }),
        },
      },
    },
  },
} as const;
