// Parsing off the main thread, in child processes: each cuts new blobs into search blocks with
// their trigram keys and extracts their symbols, while the main thread reads git and writes
// PostgreSQL, so both cores work. Processes, not worker threads, because the parsers are native
// code (oxc) and WASM that a hostile or merely generated file can crash: a native stack overflow
// is a SIGSEGV no JavaScript can catch, and in a thread it took the whole service down, again at
// every retry. A child that dies (or hangs past JOB_TIMEOUT_MS) fails only its own jobs: those
// are parsed again one file each in a fresh child, and a file that kills a parser alone gets its
// symbols another way (tree-sitter instead of oxc) or none, its search blocks from this thread,
// and is reported with its path (onCrash). One pool per process and size, started at first use
// and kept (a push then pays no start-up; idle children do not keep the process alive).
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { textBlocks, type TextBlock } from './blocks';
import type { GrammarId } from './languages';
import { OXC_GRAMMARS } from './oxc-symbols';
import type { ExtractedSymbol } from './symbols';

/** How a file's symbols are found: every parser, tree-sitter only (oxc crashed on it), or none. */
export type SymbolEngine = 'any' | 'tree-sitter' | 'none';

export interface ParseItem {
  /** Byte range of the blob in the job's data. */
  start: number;
  end: number;
  /** Cut into search blocks (false: the blob's blocks are already indexed). */
  blocks: boolean;
  grammar: GrammarId | null;
  engine: SymbolEngine;
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
 * A job's answer as it crosses to the parent: every block's keys in one buffer (a typed array per
 * block was one allocation and one copy per block, and thousands of small objects to serialize).
 */
export interface ParseAnswer {
  id: number;
  results?: ParseResult[];
  /** The blocks' keys, in the order of the results' blocks, and where each block's end. */
  keys?: Int32Array;
  keyEnds?: Uint32Array;
  error?: string;
}

/** Moves the keys of every block into one buffer (the child's side). */
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
      (b as Partial<TextBlock>).keys = undefined; // else the message would carry them twice
    }
  }
  return { keys, keyEnds };
}

/** Gives each block its keys back, as a view of the one buffer (the parent's side). */
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

/** A file a parser crashed (or hung) on: it was indexed with symbols from `engine`. */
export interface ParserCrash {
  path: string;
  /** How the child ended: a signal (SIGSEGV), an exit code, or a time-out. */
  reason: string;
  engine: SymbolEngine;
}

// Under ts-jest the module is TypeScript: the child registers a transpile-only hook first.
const BOOTSTRAP = `
const [file, typescript] = process.argv.slice(1);
if (typescript) {
  const ts = require(typescript);
  const fs = require('node:fs');
  require.extensions['.ts'] = (m, f) => m._compile(ts.transpileModule(fs.readFileSync(f, 'utf8'), {
    fileName: f,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  }).outputText, f);
}
require(file);
`;

/** A job is this many bytes at most (several per child per batch, so the load evens out). */
const JOB_BYTES = 1024 * 1024;
/**
 * A job that has not answered by then is a parser that hangs: its child is killed and the job
 * treated as a crash. A 1 MiB job takes about a second; the margin is for a loaded machine. (What
 * hangs: tree-sitter's JavaScript query over 100,000 nested functions ran past 60 s.)
 */
const JOB_TIMEOUT_MS = 30_000;
/**
 * V8 flags of a child: oxc's AST of a 1 MiB file fits in 48 MB; the old-generation limit makes V8
 * collect garbage before the RSS grows, and an AST's objects die young (a small nursery). An idle
 * child with oxc loaded holds ~49 MB: what containing a crash costs over a thread.
 */
const CHILD_V8_FLAGS = ['--max-old-space-size=64', '--max-semi-space-size=4'];
/** Jobs a child holds at once: the one it parses and the next, so it never waits for the pipe. */
const IN_FLIGHT = 2;

/** A job not yet given to a child. */
interface Waiting {
  requests: readonly ParseRequest[];
  engine: SymbolEngine;
  resolve: (r: ParseResult[]) => void;
  reject: (e: Error) => void;
}

interface Pending {
  id: number;
  weight: number;
  resolve: (r: ParseResult[]) => void;
  reject: (e: Error) => void;
}

/** A child process and its jobs, in the order it works through them (one at a time). */
interface Child {
  proc: ChildProcess;
  load: number;
  queue: Pending[];
  /** Runs while the head of the queue is being parsed. */
  timer: NodeJS.Timeout | null;
  /** Jobs it has answered. */
  answered: number;
}

/**
 * A child ended (or was ended) with this job unanswered. `suspect`: the child was working on it;
 * otherwise it was only waiting behind the job that killed the child.
 */
class ChildCrash extends Error {
  override name = 'ChildCrash';
  constructor(
    message: string,
    readonly suspect: boolean,
    readonly timedOut: boolean,
  ) {
    super(message);
  }
}

/**
 * A child per core but one (at least one, at most four): the main thread has work of its own (git
 * reads, the COPY encoding) and PostgreSQL needs a share.
 */
export function defaultThreads(): number {
  return Math.max(1, Math.min(4, os.availableParallelism() - 1));
}

const pools = new Map<number, ParsePool>();

/** The process's pool of `threads` children. */
export function parsePool(threads = defaultThreads()): ParsePool {
  let pool = pools.get(threads);
  if (!pool) {
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
  private readonly children: Array<Child | null>;
  private readonly waiting: Waiting[] = [];
  private nextId = 1;
  private closed = false;
  /** Children started so far (the first `threads` and every replacement). */
  started = 0;

  /** `jobTimeoutMs`: how long a job may go unanswered before its child counts as hung (JOB_TIMEOUT_MS). */
  constructor(
    readonly threads: number,
    private readonly jobTimeoutMs = JOB_TIMEOUT_MS,
  ) {
    this.children = Array.from({ length: threads }, () => null);
  }

  /** Process ids of the live children (what their memory is measured by). */
  get pids(): number[] {
    return this.children.flatMap((c) => (c?.proc.pid ? [c.proc.pid] : []));
  }

  /** Blocks and symbols of each request, in order. `onCrash` hears of each file a parser died on. */
  async parse(requests: readonly ParseRequest[], onCrash?: (crash: ParserCrash) => void): Promise<ParseResult[]> {
    const jobs: Array<Promise<ParseResult[]>> = [];
    for (let i = 0; i < requests.length; ) {
      let bytes = 0;
      let end = i;
      while (end < requests.length && (end === i || bytes + requests[end].bytes.length <= JOB_BYTES)) bytes += requests[end++].bytes.length;
      jobs.push(this.parseJob(requests.slice(i, end), 'any', onCrash));
      i = end;
    }
    return (await Promise.all(jobs)).flat();
  }

  async close(): Promise<void> {
    this.closed = true;
    const children = this.children.flatMap((c) => (c ? [c] : []));
    this.children.fill(null);
    for (const w of this.waiting.splice(0)) w.reject(new Error('parse pool closed'));
    for (const c of children) this.crashed(c, 'parse pool closed');
    await Promise.all(children.map((c) => stop(c.proc)));
  }

  /**
   * One job. When its child dies on it: each of its files again alone, and a file that kills a
   * child alone again with a lesser engine. A job that was only waiting in that child is sent again.
   */
  private async parseJob(requests: readonly ParseRequest[], engine: SymbolEngine, onCrash?: (crash: ParserCrash) => void): Promise<ParseResult[]> {
    let crash: ChildCrash;
    try {
      return await this.send(requests, engine);
    } catch (err) {
      if (!(err instanceof ChildCrash) || this.closed) throw err;
      crash = err;
    }
    if (!crash.suspect) return this.parseJob(requests, engine, onCrash);
    if (requests.length > 1) return (await Promise.all(requests.map((r) => this.parseJob([r], engine, onCrash)))).flat();
    const [request] = requests;
    // After a crash oxc's files try tree-sitter; after a hang nothing (tree-sitter is the slower one).
    const next: SymbolEngine = engine === 'any' && !crash.timedOut && request.grammar && OXC_GRAMMARS.has(request.grammar) ? 'tree-sitter' : 'none';
    onCrash?.({ path: request.path, reason: crash.message, engine: next });
    if (next === 'tree-sitter') return this.parseJob(requests, next, onCrash);
    // No parser for it: its blocks (plain JavaScript, which the child ran before the parser) come from here.
    return [{ blocks: request.blocks ? textBlocks(request.bytes.toString('utf8')) : null, symbols: null }];
  }

  private send(requests: readonly ParseRequest[], engine: SymbolEngine): Promise<ParseResult[]> {
    if (this.closed) return Promise.reject(new Error('parse pool closed'));
    return new Promise((resolve, reject) => {
      this.waiting.push({ requests, engine, resolve, reject });
      this.dispatch();
    });
  }

  /**
   * Hands waiting jobs to children with room (IN_FLIGHT each): a job's bytes are copied into its
   * message only then, so a batch waiting for a busy child is not also held serialized in the pipe.
   */
  private dispatch(): void {
    while (this.waiting.length && !this.closed) {
      const child = this.leastLoaded();
      if (child.queue.length >= IN_FLIGHT) return;
      const { requests, engine, resolve, reject } = this.waiting.shift()!;
      let bytes = 0;
      for (const r of requests) bytes += r.bytes.length;
      const data = new Uint8Array(bytes);
      const items: ParseItem[] = [];
      let at = 0;
      for (const r of requests) {
        data.set(r.bytes, at);
        items.push({ start: at, end: at + r.bytes.length, blocks: r.blocks, grammar: r.grammar, engine, path: r.path });
        at += r.bytes.length;
      }
      const job: Pending = { id: this.nextId++, weight: bytes + 1_000 * requests.length, resolve, reject };
      child.load += job.weight;
      child.queue.push(job);
      if (child.queue.length === 1) this.startHead(child);
      child.proc.send({ id: job.id, data, items } satisfies ParseJob, (err) => {
        if (err) this.crashed(child, `could not be sent a job (${err.message})`);
      });
    }
  }

  /** The head of a child's queue is being parsed: the child is kept alive and timed. */
  private startHead(child: Child): void {
    ref(child.proc, true);
    child.timer = setTimeout(() => {
      this.crashed(child, `no answer within ${this.jobTimeoutMs / 1000} s`, true);
    }, this.jobTimeoutMs);
    child.timer.unref();
  }

  /** The child with the least work among those with room (any child when none has). */
  private leastLoaded(): Child {
    let best: Child | null = null;
    const full = (c: Child) => c.queue.length >= IN_FLIGHT;
    for (let i = 0; i < this.children.length; i++) {
      const c = this.children[i] ?? (this.children[i] = this.spawnChild());
      if (!best || (full(best) && !full(c)) || (full(best) === full(c) && c.load < best.load)) best = c;
    }
    return best!;
  }

  private spawnChild(): Child {
    const isTs = __filename.endsWith('.ts');
    const file = path.join(__dirname, `parse-worker${isTs ? '.ts' : '.js'}`);
    const args = [...CHILD_V8_FLAGS, '-e', BOOTSTRAP, file, ...(isTs ? [require.resolve('typescript')] : [])];
    const proc = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], serialization: 'advanced', env: process.env });
    const child: Child = { proc, load: 0, queue: [], timer: null, answered: 0 };
    this.started++;
    ref(proc, false);
    proc.on('message', (msg: ParseAnswer) => this.answered(child, msg));
    proc.on('error', (err) => this.crashed(child, err.message));
    proc.on('exit', (code, signal) => {
      // Exiting on its own before any answer is a child that cannot run (a broken install), not a
      // file that crashed it: the build fails with the reason instead of indexing without symbols.
      if (!signal && child.answered === 0) this.crashed(child, `the parse process could not start (exit ${code})`, false, true);
      else this.crashed(child, signal ? `the parser process was killed by ${signal}` : `the parser process exited (${code})`);
    });
    return child;
  }

  private answered(child: Child, msg: ParseAnswer): void {
    const job = child.queue[0];
    if (!job || job.id !== msg.id) return;
    child.answered++;
    this.next(child);
    if (msg.error !== undefined) return job.reject(new Error(msg.error));
    const results = msg.results ?? [];
    unpackKeys(results, msg.keys ?? new Int32Array(0), msg.keyEnds ?? new Uint32Array(0));
    job.resolve(results);
  }

  /** The head of the queue is done: the next one starts, or the child goes idle. */
  private next(child: Child): void {
    const done = child.queue.shift()!;
    child.load -= done.weight;
    if (child.timer) clearTimeout(child.timer);
    child.timer = null;
    if (child.queue.length) this.startHead(child);
    else ref(child.proc, false);
    this.dispatch();
  }

  /** The child is gone: its slot is freed (the next job starts a new one) and its jobs fail. */
  private crashed(child: Child, reason: string, timedOut = false, cannotRun = false): void {
    const slot = this.children.indexOf(child);
    if (slot >= 0) this.children[slot] = null;
    if (child.timer) clearTimeout(child.timer);
    child.timer = null;
    const jobs = child.queue.splice(0);
    child.load = 0;
    jobs.forEach((job, i) => job.reject(cannotRun ? new Error(reason) : new ChildCrash(reason, i === 0, timedOut)));
    if (child.proc.exitCode === null && child.proc.signalCode === null) child.proc.kill('SIGKILL');
    queueMicrotask(() => this.dispatch());
  }
}

/** A child with work keeps the process alive; an idle one does not. */
function ref(proc: ChildProcess, on: boolean): void {
  if (on) {
    proc.ref();
    proc.channel?.ref();
  } else {
    proc.unref();
    proc.channel?.unref();
  }
}

function stop(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    proc.once('exit', () => resolve());
    proc.kill('SIGKILL');
  });
}
