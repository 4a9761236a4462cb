// JSON logs (pino). Anything that could carry a credential is redacted by key wherever it nests,
// so a careless `log.info({ req })` cannot leak a token. Code running for a Temporal activity adds
// its workflow and run ids to every line through a log context (see withLogContext).
import { AsyncLocalStorage } from 'node:async_hooks';
import pino, { type Logger } from 'pino';

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
