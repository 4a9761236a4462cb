// Index build: brings the index of a repo to a commit. The plan (plan.ts) says which files to
// process — all of them, or the diff from the active generation's commit when that commit is
// still in the local repository (the unchanged rows are copied); batches are prepared (prepare.ts:
// git reads, and parsing in child processes) while the previous batch is written (generation-
// store.ts: one transaction each, with the progress), then the generation is switched in with one
// transaction. Resumable: a retry continues the same building generation after its last batch.
import type { DataSource } from 'typeorm';
import { IndexAbortedError, IndexTooLargeError } from './errors';
import { BlobReader, IndexGitError, resolveCommit } from './git';
import { GenerationStore, type GenerationRow } from './generation-store';
import { DEFAULT_LIMITS, tooManyBytes, tooManyFiles, type IndexLimits } from './limits';
import { parsePool, type ParserCrash } from './parse-pool';
import { ancestorsOf } from './paths';
import { planFull, planIncremental, type Plan, type WorkItem } from './plan';
import { prepareBatch, type PrepareDeps, type PreparedBatch } from './prepare';

export type { IndexLimits } from './limits';
export { DEFAULT_LIMITS } from './limits';

/** JSON-serializable; pass the last one back as `resume` to continue a build after a crash. */
export interface IndexProgress {
  filesDone: number;
  filesTotal: number;
  /** The building generation (a bigint as a string). */
  generationId?: string;
  commit?: string;
}

export interface IndexCommitInput {
  repoId: string;
  gitDir: string;
  commit: string;
  /** The commit the caller believes is indexed; the active generation's commit is what counts. */
  baseCommit?: string | null;
  limits?: Partial<IndexLimits>;
  resume?: IndexProgress | null;
  onProgress?: (p: IndexProgress) => void | Promise<void>;
  signal?: AbortSignal;
  /** Parse processes (default: the cores but one, at most 4). The process keeps its pool between builds. */
  threads?: number;
  /** Files per batch (one transaction and one progress report each); default 2,000. */
  batchFiles?: number;
  /** Hears of each file a parser crashed or hung on (it is indexed all the same, with fewer symbols). */
  onParserCrash?: (crash: ParserCrash) => void;
}

export interface IndexCommitResult {
  commit: string;
  kind: 'full' | 'incremental';
  filesIndexed: number;
  filesChanged: number;
  bytes: number;
}

/** A batch closes at this many files or bytes of blobs read (each batch is one search segment). */
const BATCH_FILES = 2_000;
const BATCH_BYTES = 8 * 1024 * 1024;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function checkAbort(signal?: AbortSignal): void {
  if (signal?.aborted) throw new IndexAbortedError('The index build was cancelled; it can be resumed.');
}

/** Builds (or brings up to date) the index of `commit` for a repo. See the module comment. */
export async function indexCommit(ds: DataSource, input: IndexCommitInput): Promise<IndexCommitResult> {
  const limits: IndexLimits = { ...DEFAULT_LIMITS, ...input.limits };
  if (!UUID.test(input.repoId)) throw new Error(`repoId must be a uuid: ${input.repoId}`);
  checkAbort(input.signal);
  const commit = await resolveCommit(input.gitDir, input.commit, input.signal);
  if (!commit) throw new IndexGitError(`Commit ${input.commit} is not in the local repository.`);

  const runner = ds.createQueryRunner();
  await runner.connect();
  try {
    const store = new GenerationStore(ds, runner, input.repoId);
    return await store.locked(() => build(store, input, limits, commit));
  } finally {
    await runner.release();
  }
}

async function build(store: GenerationStore, input: IndexCommitInput, limits: IndexLimits, commit: string): Promise<IndexCommitResult> {
  const { gitDir, signal } = input;
  const active = await store.active();
  if (active && active.commit === commit) {
    await store.cleanup(active.id, null);
    return { commit, kind: 'incremental', filesIndexed: active.file_count ?? 0, filesChanged: 0, bytes: Number(active.text_bytes ?? 0) };
  }

  let gen: GenerationRow | null = await store.building(commit, input.resume?.generationId);
  let plan: Plan | null = null;
  if (gen) {
    const adopted = gen;
    plan = await replan(adopted, gitDir, commit, limits, signal).catch(async (err: unknown) => {
      if ((err as Error).name === 'AbortError' || err instanceof IndexAbortedError) throw err;
      // The base is gone or the diff failed: drop the half-built generation and start over.
      await store.deleteGeneration(adopted.id);
      return null;
    });
  }
  if (!plan) {
    const started = await startGeneration(store, active, gitDir, commit, limits, signal);
    gen = started.gen;
    plan = started.plan;
  }

  try {
    await fill(store, gen!, plan, input, limits, commit);
    checkAbort(signal);
    const { files, bytes } = await store.finish(gen!, plan, active, limits);
    return { commit, kind: plan.kind, filesIndexed: files, filesChanged: plan.filesChanged, bytes };
  } catch (err) {
    if (err instanceof IndexTooLargeError) await store.abandon(gen!);
    throw err;
  }
}

/** The work of an adopted building generation (its rows so far are kept). */
async function replan(gen: GenerationRow, gitDir: string, commit: string, limits: IndexLimits, signal?: AbortSignal): Promise<Plan> {
  if (gen.kind === 'full') return planFull(gitDir, commit, limits, signal);
  if (!gen.base_commit || !(await resolveCommit(gitDir, gen.base_commit, signal))) throw new Error('base commit is gone');
  return planIncremental(gitDir, gen.base_commit, commit, signal);
}

/** A new building generation: incremental from the active one when its commit is here, else full. */
async function startGeneration(
  store: GenerationStore,
  active: GenerationRow | null,
  gitDir: string,
  commit: string,
  limits: IndexLimits,
  signal?: AbortSignal,
): Promise<{ gen: GenerationRow; plan: Plan }> {
  if (active && (await resolveCommit(gitDir, active.commit, signal))) {
    const plan = await planIncremental(gitDir, active.commit, commit, signal).catch((err: unknown) => {
      if ((err as Error).name === 'AbortError') throw err;
      return null; // the diff failed: fall back to a full build
    });
    if (plan) return { gen: await store.createIncremental(commit, active, plan), plan };
  }
  const plan = await planFull(gitDir, commit, limits, signal);
  return { gen: await store.createFull(commit, plan.items.length), plan };
}

/** Processes every work item not yet in the generation, batch by batch: one prepared while the previous one is written. */
async function fill(store: GenerationStore, gen: GenerationRow, plan: Plan, input: IndexCommitInput, limits: IndexLimits, commit: string): Promise<void> {
  const { signal } = input;
  const existing = await store.existing(gen, plan.items.map((i) => i.path));
  const todo = plan.items.filter((i) => existing.files.get(i.path) !== i.sha);
  const filesTotal = plan.items.length;
  let filesDone = plan.items.length - todo.length;
  const fileCount = existing.fileCount;
  let textBytes = existing.textBytes;
  const newFiles = todo.filter((i) => !existing.files.has(i.path)).length;
  if (fileCount + newFiles > limits.maxFiles) throw tooManyFiles(fileCount + newFiles, limits);
  if (textBytes > limits.maxTotalBytes) throw tooManyBytes(textBytes, limits);
  const progress = (): IndexProgress => ({ filesDone, filesTotal, generationId: String(gen.id), commit });
  await input.onProgress?.(progress());
  if (todo.length === 0) return;

  const deps: PrepareDeps = {
    reader: new BlobReader(input.gitDir, signal),
    pool: parsePool(input.threads),
    knownBlobs: store.knownBlobs,
    maxFileBytes: limits.maxFileBytes,
    onParserCrash: input.onParserCrash,
  };
  // Blobs this build wrote, with the grammar of their symbols: the next batch was prepared before
  // the previous one committed, so it may hold the same blob again as new.
  const written = new Map<string, string | null>();
  const write = async (prepared: PreparedBatch) => {
    const p: PreparedBatch = { ...prepared, blobs: [] };
    for (const b of prepared.blobs) {
      if (!written.has(b.sha)) p.blobs.push(b);
      else if (b.grammar && written.get(b.sha) !== b.grammar) p.blobs.push({ ...b, isNew: false, blocks: [] });
    }
    // Running totals for the early limit checks; finish() recounts from the rows.
    let bytes = 0;
    for (const f of p.files) if (f.isText) bytes += f.size;
    if (textBytes + bytes > limits.maxTotalBytes) throw tooManyBytes(textBytes + bytes, limits);
    const dirs: string[] = [];
    for (const f of p.files) {
      for (const d of ancestorsOf(f.path)) {
        if (existing.dirs.has(d)) break;
        existing.dirs.add(d);
        dirs.push(d);
      }
    }
    try {
      await store.writeBatch(gen, p, dirs, { filesDone: filesDone + p.done, filesTotal });
    } catch (err) {
      for (const d of dirs) existing.dirs.delete(d);
      throw err;
    }
    for (const b of p.blobs) if (b.isNew || b.grammar) written.set(b.sha, b.grammar);
    textBytes += bytes;
    filesDone += p.done;
    await input.onProgress?.(progress());
  };

  let writing: Promise<void> = Promise.resolve();
  try {
    for (const batch of batches(todo, Math.max(1, input.batchFiles ?? BATCH_FILES), limits.maxFileBytes)) {
      checkAbort(signal);
      const prepared = await prepareBatch(batch, deps);
      await writing;
      checkAbort(signal);
      writing = write(prepared);
      writing.catch(() => undefined);
    }
    await writing;
  } finally {
    deps.reader.close();
  }
}

/** Consecutive work items up to `maxFiles` files or BATCH_BYTES of readable blobs. */
function* batches(todo: WorkItem[], maxFiles: number, maxFileBytes: number): Generator<WorkItem[]> {
  for (let start = 0; start < todo.length; ) {
    let end = start;
    let bytes = 0;
    while (end < todo.length && end - start < maxFiles && bytes < BATCH_BYTES) {
      if (todo[end].size <= maxFileBytes) bytes += todo[end].size;
      end++;
    }
    yield todo.slice(start, end);
    start = end;
  }
}
