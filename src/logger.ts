// JSON logs (pino). Anything that could carry a credential is redacted by key wherever it nests,
// so a careless `log.info({ req })` cannot leak a token. Code running for a Temporal activity adds
// its workflow and run ids to every line through a log context (see withLogContext). The dev stack
// on a terminal shows the same lines for a person (pino-pretty), after redaction.
import { AsyncLocalStorage } from 'node:async_hooks';
import pino, { type Logger } from 'pino';
import pinoPretty from 'pino-pretty';

export const REDACTED_KEYS = [
  'authorization',
  'Authorization',
  'cookie',
  'token',
  'accessToken',
  'access_token',
  'refreshToken',
  'refresh_token',
  'oauthCode',
  'secret',
  'clientSecret',
  'client_secret',
  'password',
  'webhookSecret',
  'credentials',
];

const redactPaths = REDACTED_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`, `*.*.*.${k}`]);

export type { Logger };

/**
 * The query parameters whose values a log line keeps: harmless ones the API and the web UI use
 * (search text, paths in a repo, page sizes, the UI's own navigation, the OAuth callback's
 * outcome). Every other value is redacted, whatever its name — `api_key`, `jwt`, the OAuth
 * callback's `code` and `state` alike. Names match exactly as sent: `%71` is not `q`.
 */
export const LOGGED_QUERY_PARAMS: ReadonlySet<string> = new Set(['q', 'path', 'limit', 'repo', 'line', 'tab', 'bitbucket', 'bitbucket_error']);

const REDACTED = '[redacted]';
/** A parameter name shown as it is; a longer or stranger one could be a credential itself. */
const PLAIN_NAME = /^[A-Za-z0-9_.\-[\]%]{1,32}$/;

/** `name=value` items split on `&` and `;` (some servers take either): each value not allow-listed goes. */
function redactQuery(query: string): string {
  return query
    .split(/([&;])/)
    .map((item, i) => {
      if (i % 2 === 1 || item === '' || LOGGED_QUERY_PARAMS.has(item.split('=', 1)[0])) return item; // separators, empty items, allowed names
      const eq = item.indexOf('=');
      if (eq === -1) return REDACTED; // `?<something>` alone may be the secret itself
      const name = item.slice(0, eq);
      return `${name === '' || PLAIN_NAME.test(name) ? name : REDACTED}=${eq === item.length - 1 ? '' : REDACTED}`;
    })
    .join('');
}

/** `?query#fragment` (either part optional) with the query's values and the whole fragment redacted. */
function redactQueryAndFragment(tail: string): string {
  const hash = tail.indexOf('#');
  const query = hash === -1 ? tail : tail.slice(0, hash);
  const fragment = hash === -1 ? '' : hash === tail.length - 1 ? '#' : `#${REDACTED}`;
  return (query.startsWith('?') ? `?${redactQuery(query.slice(1))}` : query) + fragment;
}

const URL_USERINFO = /(\b[a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi;

/**
 * A request URL fit for a log line: the path and the parameter names stay; every query value
 * except those of LOGGED_QUERY_PARAMS, any fragment and any user:password@ become [redacted].
 * Never decodes anything, so no input makes it throw.
 */
export function redactUrl(url: string): string {
  const withoutUserinfo = url.replace(URL_USERINFO, `$1${REDACTED}@`);
  const start = withoutUserinfo.search(/[?#]/);
  return start === -1 ? withoutUserinfo : withoutUserinfo.slice(0, start) + redactQueryAndFragment(withoutUserinfo.slice(start));
}

/** A URL's fragment in free text (an OAuth implicit grant puts its token there). */
const URL_FRAGMENT = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s#"'<>`]*)#[^\s"'<>`]+/gi;
/** A query string in free text: `?` then a run without spaces or quotes that holds an `=`. */
const TEXT_QUERY = /\?[^\s"'<>`]*=[^\s"'<>`]*/g;

/** Free text (an error message) fit for a log line: URL credentials go, and URLs' query strings and fragments as redactUrl does. */
export function redactText(text: string): string {
  return text
    .replace(URL_USERINFO, `$1${REDACTED}@`)
    .replace(URL_FRAGMENT, `$1#${REDACTED}`)
    .replace(TEXT_QUERY, redactQueryAndFragment);
}

const logContext = new AsyncLocalStorage<Record<string, unknown>>();

/** Runs `fn` so that every line logged inside it (however deep) carries `fields`. */
export function withLogContext<T>(fields: Record<string, unknown>, fn: () => T): T {
  return logContext.run({ ...logContext.getStore(), ...fields }, fn);
}

export function createLogger(level = process.env.LOG_LEVEL ?? 'info', destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'lettuce' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: redactPaths, censor: '[redacted]' },
      mixin: () => logContext.getStore() ?? {},
    },
    destination,
  );
}

/**
 * For the dev stack, whose own sentences share the terminal: on a terminal, one readable line per
 * event (time, level, message, the other fields; an access line reads "GET /v1/me → 200 in 3 ms");
 * elsewhere the same JSON as production. Written synchronously either way, so lines keep their
 * order with those sentences. The formatter reads pino's output: it only ever sees redacted lines.
 */
export function consoleDestination(stream: NodeJS.WriteStream & { fd: number } = process.stdout): pino.DestinationStream {
  if (!stream.isTTY) return pino.destination({ dest: stream.fd, sync: true });
  return pinoPretty({
    destination: stream,
    sync: true,
    colorize: true,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss',
    ignore: 'pid,hostname,service,component,sdkComponent,requestId,method,url,status,ms',
    messageFormat: (line, messageKey) =>
      line[messageKey] === 'request' && line.method ? `${line.method} ${line.url} → ${line.status} in ${line.ms} ms` : String(line[messageKey] ?? ''),
  });
}
