// Parsing off the main thread: worker threads cut each new blob into search blocks with their
// trigram keys and extract its symbols, while the main thread reads git and writes PostgreSQL, so
// both cores work. One pool per process and size, started at first use and kept (a push then
// pays no start-up; its workers do not keep the process alive). oxc-parser, an ES module, loads
// in the workers only (plain Node.js require, which jest's module system would not give it).
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { TextBlock } from './blocks';
import type { GrammarId } from './languages';
import type { ExtractedSymbol } from './symbols';

export interface ParseItem {
  /** Byte range of the blob in the job's data. */
  start: number;
  end: number;
  /** Cut into search blocks (false: the blob's blocks are already indexed). */
  blocks: boolean;
  grammar: GrammarId | null;
  path: string;
}

export interface ParseJob {
  id: number;
  data: Uint8Array;
  items: ParseItem[];
}

export interface ParseResult {
  blocks: TextBlock[] | null;
  /** null: the grammar failed on this file (it is indexed without symbols). */
  symbols: ExtractedSymbol[] | null;
}

/**
 * A job's answer as it crosses to the main thread: every block's keys in one buffer, transferred
 * rather than copied (a typed array per block was one allocation and one copy per block, and
 * thousands of small buffers the main thread's collector had to free).
 */
export interface ParseAnswer {
  id: number;
  results?: ParseResult[];
  /** The blocks' keys, in the order of the results' blocks, and where each block's end. */
  keys?: Int32Array;
  keyEnds?: Uint32Array;
  error?: string;
}

/** Moves the keys of every block into one buffer (the worker's side). */
export function packKeys(results: ParseResult[]): { keys: Int32Array; keyEnds: Uint32Array } {
  let total = 0;
  let count = 0;
  for (const r of results) {
    for (const b of r.blocks ?? []) {
      total += b.keys.length;
      count++;
    }
  }
  const keys = new Int32Array(total);
  const keyEnds = new Uint32Array(count);
  let at = 0;
  let n = 0;
  for (const r of results) {
    for (const b of r.blocks ?? []) {
      keys.set(b.keys, at);
      keyEnds[n++] = at += b.keys.length;
      (b as Partial<TextBlock>).keys = undefined; // else the message would clone them as well
    }
  }
  return { keys, keyEnds };
}

/** Gives each block its keys back, as a view of the one buffer (the main thread's side). */
export function unpackKeys(results: ParseResult[], keys: Int32Array, keyEnds: Uint32Array): void {
  let start = 0;
  let n = 0;
  for (const r of results) {
    for (const b of r.blocks ?? []) {
      b.keys = keys.subarray(start, keyEnds[n]);
      start = keyEnds[n++];
    }
  }
}

export interface ParseRequest {
  bytes: Buffer;
  blocks: boolean;
  grammar: GrammarId | null;
  path: string;
}

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

/** A job is this many bytes at most (several per worker per batch, so the load evens out). */
const JOB_BYTES = 1024 * 1024;
/**
 * Old-generation heap of a worker: oxc's AST of a 1 MiB file fits in 48 MB; the limit makes V8
 * collect garbage before a worker's RSS grows (the ~500 MB scale line of the benchmark).
 */
const WORKER_HEAP_MB = 64;
/** Its young generation: an AST's objects die young, and a smaller nursery is a smaller RSS. */
const WORKER_YOUNG_MB = 16;

interface Pending {
  worker: number;
  weight: number;
  resolve: (r: ParseResult[]) => void;
  reject: (e: Error) => void;
}

/**
 * A worker per core but one (at least one, at most four): the main thread has work of its own (git
 * reads, the COPY encoding) and PostgreSQL needs a share. On 2 cores a second worker bought ~10 %
 * of wall time for ~60–80 MB more RSS (the ~500 MB line) and more CPU per MB, both cores being busy
 * already.
 */
export function defaultThreads(): number {
  return Math.max(1, Math.min(4, os.availableParallelism() - 1));
}

const pools = new Map<number, ParsePool>();

/** The process's pool of `threads` workers (a new one if the last one failed). */
export function parsePool(threads = defaultThreads()): ParsePool {
  let pool = pools.get(threads);
  if (!pool || pool.failed) {
    pool = new ParsePool(threads);
    pools.set(threads, pool);
  }
  return pool;
}

/** Stops every pool (benchmarks and tests that measure or end the process). */
export async function closeParsePools(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((p) => p.close()));
}

export class ParsePool {
  private readonly workers: Worker[] = [];
  private readonly load: number[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private failure: Error | null = null;

  constructor(readonly threads: number) {
    const isTs = __filename.endsWith('.ts');
    const file = path.join(__dirname, `parse-worker${isTs ? '.ts' : '.js'}`);
    const typescript = isTs ? require.resolve('typescript') : null;
    for (let i = 0; i < threads; i++) {
      const w = new Worker(BOOTSTRAP, { eval: true, workerData: { file, typescript }, resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB, maxYoungGenerationSizeMb: WORKER_YOUNG_MB } });
      w.on('message', (msg: ParseAnswer) => {
        const p = this.pending.get(msg.id);
        if (!p) return;
        this.pending.delete(msg.id);
        this.load[p.worker] -= p.weight;
        if (msg.error !== undefined) p.reject(new Error(msg.error));
        else {
          const results = msg.results ?? [];
          unpackKeys(results, msg.keys ?? new Int32Array(0), msg.keyEnds ?? new Uint32Array(0));
          p.resolve(results);
        }
      });
      w.on('error', (err) => this.fail(err));
      w.on('exit', (code) => this.fail(new Error(`a parse worker exited (${code})`)));
      w.unref();
      this.workers.push(w);
      this.load.push(0);
    }
  }

  get failed(): boolean {
    return this.failure !== null;
  }

  /** Blocks and symbols of each request, in order. */
  async parse(requests: readonly ParseRequest[]): Promise<ParseResult[]> {
    const jobs: Array<Promise<ParseResult[]>> = [];
    for (let i = 0; i < requests.length; ) {
      let bytes = 0;
      let end = i;
      while (end < requests.length && (end === i || bytes + requests[end].bytes.length <= JOB_BYTES)) bytes += requests[end++].bytes.length;
      jobs.push(this.send(requests.slice(i, end), bytes));
      i = end;
    }
    return (await Promise.all(jobs)).flat();
  }

  async close(): Promise<void> {
    this.fail(new Error('parse pool closed'));
    await Promise.all(this.workers.map((w) => w.terminate().catch(() => undefined)));
  }

  private send(requests: readonly ParseRequest[], bytes: number): Promise<ParseResult[]> {
    if (this.failure) return Promise.reject(this.failure);
    const data = new Uint8Array(bytes);
    const items: ParseItem[] = [];
    let at = 0;
    for (const r of requests) {
      data.set(r.bytes, at);
      items.push({ start: at, end: at + r.bytes.length, blocks: r.blocks, grammar: r.grammar, path: r.path });
      at += r.bytes.length;
    }
    let best = 0;
    for (let i = 1; i < this.workers.length; i++) if (this.load[i] < this.load[best]) best = i;
    const id = this.nextId++;
    const weight = bytes + 1_000 * requests.length;
    this.load[best] += weight;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { worker: best, weight, resolve, reject });
      this.workers[best].postMessage({ id, data, items } satisfies ParseJob, [data.buffer]);
    });
  }

  /** Fails what is pending and every later job; a pool with a dead worker stops the others (the next build starts a new pool). */
  private fail(err: Error): void {
    const first = this.failure === null;
    this.failure ??= err;
    for (const p of this.pending.values()) p.reject(this.failure);
    this.pending.clear();
    if (first) for (const w of this.workers) void w.terminate().catch(() => undefined);
  }
}
