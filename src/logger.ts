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

const SECRET_QUERY_PARAMS = /([?&](?:code|state|access_token|refresh_token|token|secret|client_secret|password)=)[^&#]*/gi;

/** A URL fit for a log line: values of credential-bearing query parameters are replaced. */
export function redactUrl(url: string): string {
  return url.replace(SECRET_QUERY_PARAMS, '$1[redacted]');
}

const URL_USERINFO = /(\b[a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi;

/** Free text (an error message) fit for a log line: URL credentials and secret query values go. */
export function redactText(text: string): string {
  return redactUrl(text.replace(URL_USERINFO, '$1[redacted]@'));
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
