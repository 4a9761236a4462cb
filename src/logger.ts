// JSON logs (pino). Anything that could carry a credential is redacted by key wherever it nests,
// so a careless `log.info({ req })` cannot leak a token.
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

const SECRET_QUERY_PARAMS = /([?&](?:code|state|access_token|refresh_token|token|secret)=)[^&#]*/gi;

/** A URL fit for a log line: values of credential-bearing query parameters are replaced. */
export function redactUrl(url: string): string {
  return url.replace(SECRET_QUERY_PARAMS, '$1[redacted]');
}

export function createLogger(level = process.env.LOG_LEVEL ?? 'info', destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'lettuce' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: redactPaths, censor: '[redacted]' },
    },
    destination,
  );
}
