// How the dev commands (`npm start`, `npm run sandbox`) run: they print sentences for a person,
// register each server they start on a Shutdown, and stop all of it in reverse order on Ctrl-C
// (SIGINT; also SIGTERM and SIGHUP) or when starting fails — which is reported in one sentence saying what to do.
import { ConfigError } from '../config';
import { redactText } from '../logger';
import { DevStackError } from './processes';

export type Say = (line: string) => void;

export const say: Say = (line) => void process.stdout.write(`${line}\n`);

export class Shutdown {
  private readonly steps: Array<() => Promise<void>> = [];

  add(step: () => Promise<void>): void {
    this.steps.push(step);
  }

  get pending(): boolean {
    return this.steps.length > 0;
  }

  async run(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) await step().catch((err: Error) => say(`  (a shutdown step failed: ${err.message})`));
  }
}

/** One sentence for a failed start: what went wrong and what to change. */
export function failureSentence(name: string, err: unknown): string {
  if (err instanceof DevStackError || err instanceof ConfigError) return err.message;
  const e = err as NodeJS.ErrnoException & { port?: number };
  if (e?.code === 'EADDRINUSE') return `Port ${e.port ?? '?'} is already in use, so ${name} cannot listen on it: free it, or set PORT.`;
  return `${name} failed to start: ${redactText(e?.message ?? String(err))}. Run it again with LOG_LEVEL=debug to see more.`;
}

export function runDevCommand(name: string, start: (shutdown: Shutdown) => Promise<void>): void {
  const shutdown = new Shutdown();
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    if (shutdown.pending) {
      say(`Stopping ${name}...`);
      await shutdown.run();
      say('Stopped.');
    }
    process.exit(code);
  };
  // SIGHUP: the terminal was closed, which should not leave the servers running either (nor
  // should writing to that closed terminal stop the shutdown).
  process.stdout.on('error', () => undefined);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stop(0));
  start(shutdown).catch(async (err: unknown) => {
    process.stderr.write(`${failureSentence(name, err)}\n`);
    await stop(err instanceof DevStackError || err instanceof ConfigError ? 2 : 1);
  });
}
