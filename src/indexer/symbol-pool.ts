// Symbol extraction off the main thread: a small pool of worker threads, each with its own
// tree-sitter runtime. Small jobs (an incremental push) run in-process instead, so they pay no
// worker start-up (~0.1 s for the runtime plus each grammar).
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { GrammarId } from './languages';
import { extractSymbols, type ExtractedSymbol } from './symbols';

export interface SymbolExtractor {
  extract(grammar: GrammarId, content: string): Promise<ExtractedSymbol[]>;
  close(): Promise<void>;
}

export const inProcessExtractor: SymbolExtractor = {
  extract: (grammar, content) => extractSymbols(grammar, content),
  close: async () => undefined,
};

// Under ts-jest the module is TypeScript: the worker registers a transpile-only hook first.
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
if (workerData.typescript) {
  const ts = require(workerData.typescript);
  const fs = require('node:fs');
  require.extensions['.ts'] = (m, file) => m._compile(ts.transpileModule(fs.readFileSync(file, 'utf8'), {
    fileName: file,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  }).outputText, file);
}
require(workerData.file);
`;

interface Pending {
  worker: number;
  weight: number;
  resolve: (s: ExtractedSymbol[]) => void;
  reject: (e: Error) => void;
}

export function defaultThreads(): number {
  return Math.max(1, Math.min(4, os.availableParallelism()));
}

export class SymbolPool implements SymbolExtractor {
  private readonly workers: Worker[] = [];
  private readonly load: number[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failure: Error | null = null;

  constructor(threads: number) {
    const isTs = __filename.endsWith('.ts');
    const file = path.join(__dirname, `symbols-worker${isTs ? '.ts' : '.js'}`);
    const typescript = isTs ? require.resolve('typescript') : null;
    for (let i = 0; i < threads; i++) {
      const w = new Worker(BOOTSTRAP, { eval: true, workerData: { file, typescript } });
      w.on('message', (msg: { id: number; symbols?: ExtractedSymbol[]; error?: string }) => {
        const p = this.pending.get(msg.id);
        if (!p) return;
        this.pending.delete(msg.id);
        this.load[p.worker] -= p.weight;
        if (msg.error !== undefined) p.reject(new Error(msg.error));
        else p.resolve(msg.symbols ?? []);
      });
      w.on('error', (err) => this.fail(err));
      w.unref();
      this.workers.push(w);
      this.load.push(0);
    }
  }

  extract(grammar: GrammarId, content: string): Promise<ExtractedSymbol[]> {
    if (this.failure) return Promise.reject(this.failure);
    let best = 0;
    for (let i = 1; i < this.workers.length; i++) if (this.load[i] < this.load[best]) best = i;
    const id = this.nextId++;
    const weight = content.length + 1_000;
    this.load[best] += weight;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { worker: best, weight, resolve, reject });
      this.workers[best].postMessage({ id, grammar, content });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.fail(new Error('symbol pool closed'));
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const p of this.pending.values()) p.reject(this.failure);
    this.pending.clear();
  }
}
