// The Temporal SDK's logger (worker, workflow `log`, activity `Context.log`, and the native core
// once forwarded) written through the service's pino logger, so every line of a worker process
// is the same JSON, with the same redaction.
import type { LogLevel, LogMetadata, Logger as SdkLogger } from '@temporalio/common';
import { redactText, type Logger } from '../logger';

const LEVELS: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** SDK lines describing this service's intended set-up (the indexing worker runs no workflows, no worker serves Nexus): not a warning for anyone to chase. */
const EXPECTED_SETUP = new Set(['No workflows registered, not polling for workflow tasks', 'No Nexus services registered, not polling for Nexus tasks']);

export class PinoSdkLogger implements SdkLogger {
  private readonly pino: Logger;

  constructor(log: Logger) {
    this.pino = log.child({ component: 'temporal-sdk' });
  }

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    const fields: Record<string, unknown> = {};
    // String keys only (the SDK's timestamp is a symbol); errors as name and (redacted) message.
    for (const [k, v] of Object.entries(meta ?? {})) fields[k] = v instanceof Error ? { name: v.name, message: redactText(v.message) } : v;
    this.pino[EXPECTED_SETUP.has(message) ? 'debug' : (LEVELS[level] ?? 'info')](fields, message);
  }

  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}
