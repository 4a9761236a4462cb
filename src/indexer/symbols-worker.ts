// Worker thread of the symbol pool: extracts symbols for the messages it receives.
import { parentPort } from 'node:worker_threads';
import { extractSymbols } from './symbols';
import type { GrammarId } from './languages';

interface Job {
  id: number;
  grammar: GrammarId;
  content: string;
}

parentPort?.on('message', (job: Job) => {
  extractSymbols(job.grammar, job.content).then(
    (symbols) => parentPort!.postMessage({ id: job.id, symbols }),
    (err: unknown) => parentPort!.postMessage({ id: job.id, error: String((err as Error)?.message ?? err) }),
  );
});
