// Index build: walks a commit's tree with git plumbing, stores files, text and symbols into a new
// `building` generation, and switches it in with one transaction. Incremental when the active
// generation's commit is still in the local repository (copy the unchanged rows, process the
// diff); full otherwise. Resumable: every batch commits with the generation's progress, and a
// retry continues the same building generation.
import type { DataSource, QueryRunner } from 'typeorm';
import { IndexAbortedError, IndexTooLargeError } from './errors';
import { BlobReader, blobSizes, diffRaw, IndexGitError, lsTree, resolveCommit } from './git';
import { grammarOf, languageOf, type GrammarId } from './languages';
import { ancestorsOf, baseName, isSkippedPath, parentOf } from './paths';
import { defaultThreads, inProcessExtractor, SymbolPool, type SymbolExtractor } from './symbol-pool';
import type { ExtractedSymbol } from './symbols';
import { insertBlocks, textBlocks, type TextBlock } from './blocks';
import { isBinary } from './text';

export interface IndexLimits {
  maxFiles: number;
  maxTotalBytes: number;
  maxFileBytes: number;
}

export const DEFAULT_LIMITS: IndexLimits = { maxFiles: 100_000, maxTotalBytes: 1024 * 1024 * 1024, maxFileBytes: 1024 * 1024 };

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
  /**
   * Symbol-extraction worker threads. Default: the cores (at most 4) when there are many files to
   * parse, in-process otherwise; an explicit number > 0 always uses workers; 0 = in-process.
   */
  threads?: number;
  /** Files per batch (one transaction and one progress report each); default 400. */
  batchFiles?: number;
}

export interface IndexCommitResult {
  commit: string;
  kind: 'full' | 'incremental';
  filesIndexed: number;
  filesChanged: number;
  bytes: number;
}

/** Namespace of the per-repo advisory lock (the key's second half is hashtext(repoId)). */
const LOCK_NAMESPACE = 0x1e77;
/** A batch closes at this many files or bytes of blobs read. */
const BATCH_FILES = 400;
const BATCH_BYTES = 8 * 1024 * 1024;
/** Fewer files to parse than this: parse in-process rather than start workers. */
const POOL_THRESHOLD = 200;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface WorkItem {
  path: string;
  sha: string;
  size: number;
}

interface GenerationRow {
  id: string;
  commit: string;
  kind: 'full' | 'incremental';
  base_commit: string | null;
  base_generation_id: string | null;
  file_count: number | null;
  text_bytes: string | null;
}

interface Plan {
  kind: 'full' | 'incremental';
  items: WorkItem[];
  /** Paths whose rows the copy from the base generation leaves out (incremental). */
  removed: string[];
  /** Blob shas that the new generation may no longer reference (incremental GC candidates). */
  oldShas: string[];
  filesChanged: number;
}

interface FileRow {
  path: string;
  size: number;
  language: string | null;
  sha: string;
  isText: boolean;
}

interface NewBlob {
  sha: string;
  content: string;
  /** Empty when the blob is already in the index (read again for its symbols). */
  blocks: TextBlock[];
  grammar: GrammarId | null;
  symbols: ExtractedSymbol[];
}

interface Prepared {
  files: FileRow[];
  blobs: NewBlob[];
  done: number;
}

function isRegularFile(mode: string): boolean {
  return mode === '100644' || mode === '100755' || mode === '100664';
}

function checkAbort(signal?: AbortSignal): void {
  if (signal?.aborted) throw new IndexAbortedError('The index build was cancelled; it can be resumed.');
}

function tooManyFiles(count: number, limits: IndexLimits): IndexTooLargeError {
  return new IndexTooLargeError(
    `The repository has ${count} indexable files, over the limit of ${limits.maxFiles} files (maxFiles).`,
    'maxFiles',
    count,
  );
}

function tooManyBytes(bytes: number, limits: IndexLimits): IndexTooLargeError {
  return new IndexTooLargeError(
    `The repository has more than ${limits.maxTotalBytes} bytes of text (maxTotalBytes), at least ${bytes}.`,
    'maxTotalBytes',
    bytes,
  );
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
    await runner.query('SELECT pg_advisory_lock($1, hashtext($2))', [LOCK_NAMESPACE, input.repoId]);
    try {
      return await new Build(ds, runner, input, limits, commit).run();
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1, hashtext($2))', [LOCK_NAMESPACE, input.repoId]).catch(() => undefined);
    }
  } finally {
    await runner.release();
  }
}

class Build {
  private readonly repoId: string;
  private readonly gitDir: string;
  private readonly signal?: AbortSignal;
  private gen!: GenerationRow;
  private filesDone = 0;
  private filesTotal = 0;
  private textBytes = 0;
  private fileCount = 0;
  private readonly knownDirs = new Set<string>();

  constructor(
    private readonly ds: DataSource,
    private readonly db: QueryRunner,
    private readonly input: IndexCommitInput,
    private readonly limits: IndexLimits,
    private readonly commit: string,
  ) {
    this.repoId = input.repoId;
    this.gitDir = input.gitDir;
    this.signal = input.signal;
  }

  async run(): Promise<IndexCommitResult> {
    const [active] = (await this.db.query(
      `SELECT id, commit, kind, base_commit, base_generation_id, file_count, text_bytes
         FROM index_generations WHERE repo_id = $1 AND state = 'active'`,
      [this.repoId],
    )) as GenerationRow[];

    if (active && active.commit === this.commit) {
      await this.cleanup(active.id, null);
      return { commit: this.commit, kind: 'incremental', filesIndexed: active.file_count ?? 0, filesChanged: 0, bytes: Number(active.text_bytes ?? 0) };
    }

    let plan: Plan | null = null;
    const adopted = await this.findBuilding();
    if (adopted) {
      this.gen = adopted;
      plan = await this.planFor(adopted).catch(async (err: unknown) => {
        if ((err as Error).name === 'AbortError' || err instanceof IndexAbortedError) throw err;
        // The base is gone or the diff failed: drop the half-built generation and start over.
        await this.db.query('DELETE FROM index_generations WHERE id = $1', [adopted.id]);
        return null;
      });
    }
    if (!plan) plan = await this.startGeneration(active ?? null);

    try {
      await this.fill(plan);
      checkAbort(this.signal);
      return await this.finish(plan, active ?? null);
    } catch (err) {
      if (err instanceof IndexTooLargeError) await this.abandon();
      throw err;
    }
  }

  /** A building generation of this commit to continue: the one `resume` names, else the latest. */
  private async findBuilding(): Promise<GenerationRow | null> {
    const cols = 'id, commit, kind, base_commit, base_generation_id, file_count, text_bytes';
    const wanted = this.input.resume?.generationId;
    if (wanted && /^\d+$/.test(wanted)) {
      const [row] = (await this.db.query(
        `SELECT ${cols} FROM index_generations WHERE id = $1 AND repo_id = $2 AND state = 'building' AND commit = $3`,
        [wanted, this.repoId, this.commit],
      )) as GenerationRow[];
      if (row) return row;
    }
    const [row] = (await this.db.query(
      `SELECT ${cols} FROM index_generations WHERE repo_id = $1 AND state = 'building' AND commit = $2 ORDER BY id DESC LIMIT 1`,
      [this.repoId, this.commit],
    )) as GenerationRow[];
    return row ?? null;
  }

  private async listFull(): Promise<WorkItem[]> {
    const items: WorkItem[] = [];
    for (const e of await lsTree(this.gitDir, this.commit, this.signal)) {
      if (e.type !== 'blob' || !isRegularFile(e.mode) || isSkippedPath(e.path)) continue;
      items.push({ path: e.path, sha: e.sha, size: e.size ?? 0 });
    }
    if (items.length > this.limits.maxFiles) throw tooManyFiles(items.length, this.limits);
    return items;
  }

  private async listIncremental(baseCommit: string): Promise<Omit<Plan, 'kind'>> {
    const diff = await diffRaw(this.gitDir, baseCommit, this.commit, this.signal);
    const removed: string[] = [];
    const oldShas: string[] = [];
    const added: Array<{ path: string; sha: string }> = [];
    for (const d of diff) {
      if (isSkippedPath(d.path)) continue;
      removed.push(d.path);
      if (!/^0+$/.test(d.oldSha)) oldShas.push(d.oldSha);
      if (d.status !== 'D' && isRegularFile(d.newMode)) added.push({ path: d.path, sha: d.newSha });
    }
    const sizes = await blobSizes(this.gitDir, [...new Set(added.map((a) => a.sha))], this.signal);
    const items = added.map((a) => {
      const size = sizes.get(a.sha);
      if (size === undefined) throw new IndexGitError(`git object ${a.sha} (${a.path}) is missing`);
      return { ...a, size };
    });
    return { items, removed, oldShas, filesChanged: removed.length };
  }

  /** The work of an adopted building generation (its rows so far are kept). */
  private async planFor(gen: GenerationRow): Promise<Plan> {
    if (gen.kind === 'full') {
      const items = await this.listFull();
      return { kind: 'full', items, removed: [], oldShas: [], filesChanged: items.length };
    }
    if (!gen.base_commit || !(await resolveCommit(this.gitDir, gen.base_commit, this.signal))) throw new Error('base commit is gone');
    return { kind: 'incremental', ...(await this.listIncremental(gen.base_commit)) };
  }

  /** Creates the building generation: incremental (copying the unchanged rows) when possible, else full. */
  private async startGeneration(active: GenerationRow | null): Promise<Plan> {
    if (active && (await resolveCommit(this.gitDir, active.commit, this.signal))) {
      let inc: Omit<Plan, 'kind'> | null = null;
      try {
        inc = await this.listIncremental(active.commit);
      } catch (err) {
        if ((err as Error).name === 'AbortError') throw err;
        inc = null; // the diff failed: fall back to a full build
      }
      if (inc) {
        const plan: Plan = { kind: 'incremental', ...inc };
        await this.db.startTransaction();
        try {
          const [row] = (await this.db.query(
            `INSERT INTO index_generations (repo_id, commit, state, kind, base_commit, base_generation_id, files_total)
             VALUES ($1, $2, 'building', 'incremental', $3, $4, $5)
             RETURNING id, commit, kind, base_commit, base_generation_id, file_count, text_bytes`,
            [this.repoId, this.commit, active.commit, active.id, plan.items.length],
          )) as GenerationRow[];
          await this.db.query(
            `INSERT INTO index_entries (generation_id, path, parent, name, type, size, language, sha, is_text)
             SELECT $1, path, parent, name, type, size, language, sha, is_text FROM index_entries
              WHERE generation_id = $2 AND NOT (path = ANY($3::text[]))`,
            [row.id, active.id, plan.removed],
          );
          await this.db.commitTransaction();
          this.gen = row;
        } catch (err) {
          await this.db.rollbackTransaction().catch(() => undefined);
          throw err;
        }
        return plan;
      }
    }
    const items = await this.listFull();
    const [row] = (await this.db.query(
      `INSERT INTO index_generations (repo_id, commit, state, kind, files_total) VALUES ($1, $2, 'building', 'full', $3)
       RETURNING id, commit, kind, base_commit, base_generation_id, file_count, text_bytes`,
      [this.repoId, this.commit, items.length],
    )) as GenerationRow[];
    this.gen = row;
    return { kind: 'full', items, removed: [], oldShas: [], filesChanged: items.length };
  }

  private progress(): IndexProgress {
    return { filesDone: this.filesDone, filesTotal: this.filesTotal, generationId: String(this.gen.id), commit: this.commit };
  }

  /** Processes every work item not yet in the generation, batch by batch. */
  private async fill(plan: Plan): Promise<void> {
    // What the generation already holds (copied rows, or batches of an earlier attempt).
    const existing = new Map<string, string>();
    const rows = (await this.db.query(
      `SELECT path, type, sha, size, is_text FROM index_entries WHERE generation_id = $1`,
      [this.gen.id],
    )) as Array<{ path: string; type: string; sha: string | null; size: string | null; is_text: boolean }>;
    for (const r of rows) {
      if (r.type === 'dir') this.knownDirs.add(r.path);
      else {
        existing.set(r.path, r.sha ?? '');
        this.fileCount++;
        if (r.is_text) this.textBytes += Number(r.size ?? 0);
      }
    }
    const todo = plan.items.filter((i) => existing.get(i.path) !== i.sha);
    this.filesTotal = plan.items.length;
    this.filesDone = plan.items.length - todo.length;
    const newFiles = todo.filter((i) => !existing.has(i.path)).length;
    if (this.fileCount + newFiles > this.limits.maxFiles) throw tooManyFiles(this.fileCount + newFiles, this.limits);
    if (this.textBytes > this.limits.maxTotalBytes) throw tooManyBytes(this.textBytes, this.limits);
    await this.input.onProgress?.(this.progress());
    if (todo.length === 0) return;

    const toParse = todo.filter((i) => i.size <= this.limits.maxFileBytes && grammarOf(i.path, languageOf(i.path))).length;
    const threads = this.input.threads ?? (toParse >= POOL_THRESHOLD ? defaultThreads() : 0);
    const extractor: SymbolExtractor = threads > 0 && toParse > 0 ? new SymbolPool(threads) : inProcessExtractor;
    const batchFiles = Math.max(1, this.input.batchFiles ?? BATCH_FILES);
    const reader = new BlobReader(this.gitDir, this.signal);
    let writing: Promise<void> = Promise.resolve();
    try {
      for (let start = 0; start < todo.length; ) {
        checkAbort(this.signal);
        let end = start;
        let bytes = 0;
        while (end < todo.length && end - start < batchFiles && bytes < BATCH_BYTES) {
          if (todo[end].size <= this.limits.maxFileBytes) bytes += todo[end].size;
          end++;
        }
        const prepared = await this.prepare(todo.slice(start, end), reader, extractor);
        await writing;
        checkAbort(this.signal);
        writing = this.write(prepared);
        writing.catch(() => undefined);
        start = end;
      }
      await writing;
    } finally {
      reader.close();
      await extractor.close();
    }
  }

  /** Reads the new blobs of a batch and extracts their search blocks and symbols. */
  private async prepare(batch: WorkItem[], reader: BlobReader, extractor: SymbolExtractor): Promise<Prepared> {
    const candidates = [...new Set(batch.filter((i) => i.size <= this.limits.maxFileBytes).map((i) => i.sha))];
    const known = new Map<string, string | null>();
    if (candidates.length) {
      const rows = (await this.ds.query(`SELECT sha, symbols_grammar FROM index_blobs WHERE repo_id = $1 AND sha = ANY($2::text[])`, [
        this.repoId,
        candidates,
      ])) as Array<{ sha: string; symbols_grammar: string | null }>;
      for (const r of rows) known.set(r.sha, r.symbols_grammar);
    }

    const files: FileRow[] = [];
    const toRead = new Map<string, GrammarId | null>();
    const meta = batch.map((item) => {
      const language = languageOf(item.path);
      const grammar = grammarOf(item.path, language);
      return { item, language, grammar };
    });
    for (const { item, grammar } of meta) {
      if (item.size > this.limits.maxFileBytes) continue;
      const k = known.get(item.sha);
      // Known text with the symbols this path wants: nothing to read.
      if (k !== undefined && (grammar === null || k === grammar)) continue;
      if (!toRead.has(item.sha) || grammar) toRead.set(item.sha, grammar);
    }
    const shas = [...toRead.keys()];
    const data = await reader.read(shas);
    const blobs = new Map<string, NewBlob | 'binary'>();
    const parses: Array<Promise<void>> = [];
    shas.forEach((sha, i) => {
      const buf = data[i];
      if (isBinary(buf)) return blobs.set(sha, 'binary');
      const content = buf.toString('utf8');
      const blocks = known.has(sha) ? [] : textBlocks(content);
      const blob: NewBlob = { sha, content, blocks, grammar: toRead.get(sha) ?? null, symbols: [] };
      blobs.set(sha, blob);
      if (blob.grammar) {
        parses.push(
          extractor.extract(blob.grammar, content).then(
            (s) => void (blob.symbols = s),
            () => void (blob.grammar = null), // a grammar failure leaves the file without symbols
          ),
        );
      }
    });
    await Promise.all(parses);

    for (const { item, language } of meta) {
      let isText = false;
      if (item.size <= this.limits.maxFileBytes) {
        const b = blobs.get(item.sha);
        isText = b === undefined ? known.has(item.sha) : b !== 'binary';
      }
      files.push({ path: item.path, size: item.size, language, sha: item.sha, isText });
    }
    return { files, blobs: [...blobs.values()].filter((b): b is NewBlob => b !== 'binary'), done: batch.length };
  }

  /** One transaction per batch: blobs, symbols, file rows, new directories, progress. */
  private async write(p: Prepared): Promise<void> {
    // Running totals for the early limit checks; finish() recounts from the rows.
    let bytes = 0;
    for (const f of p.files) if (f.isText) bytes += f.size;
    if (this.textBytes + bytes > this.limits.maxTotalBytes) throw tooManyBytes(this.textBytes + bytes, this.limits);

    const dirs: string[] = [];
    for (const f of p.files) {
      for (const d of ancestorsOf(f.path)) {
        if (this.knownDirs.has(d)) break;
        this.knownDirs.add(d);
        dirs.push(d);
      }
    }

    const db = this.db;
    await db.startTransaction();
    try {
      if (p.blobs.length) {
        await db.query(
          `INSERT INTO index_blobs (repo_id, sha, content, symbols_grammar)
           SELECT $1, b.sha, convert_to(b.content, 'UTF8'), b.grammar FROM unnest($2::text[], $3::text[], $4::text[]) AS b(sha, content, grammar)
           ON CONFLICT (repo_id, sha) DO UPDATE SET symbols_grammar = coalesce(EXCLUDED.symbols_grammar, index_blobs.symbols_grammar)`,
          [this.repoId, p.blobs.map((b) => b.sha), p.blobs.map((b) => b.content), p.blobs.map((b) => b.grammar)],
        );
        await insertBlocks(db, this.repoId, p.blobs);
        const parsed = p.blobs.filter((b) => b.grammar);
        if (parsed.length) {
          await db.query(`DELETE FROM index_symbols WHERE repo_id = $1 AND sha = ANY($2::text[])`, [this.repoId, parsed.map((b) => b.sha)]);
          const sha: string[] = [];
          const name: string[] = [];
          const kind: string[] = [];
          const line: number[] = [];
          for (const b of parsed) {
            for (const s of b.symbols) {
              sha.push(b.sha);
              name.push(s.name);
              kind.push(s.kind);
              line.push(s.line);
            }
          }
          if (sha.length) {
            await db.query(
              `INSERT INTO index_symbols (repo_id, sha, name, kind, line) SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::int[])`,
              [this.repoId, sha, name, kind, line],
            );
          }
        }
      }
      if (dirs.length) {
        await db.query(
          `INSERT INTO index_entries (generation_id, path, parent, name, type)
           SELECT $1, p, pa, n, 'dir' FROM unnest($2::text[], $3::text[], $4::text[]) AS t(p, pa, n)
           ON CONFLICT (generation_id, path) DO NOTHING`,
          [this.gen.id, dirs, dirs.map(parentOf), dirs.map(baseName)],
        );
      }
      await db.query(
        `INSERT INTO index_entries (generation_id, path, parent, name, type, size, language, sha, is_text)
         SELECT $1, p, pa, n, 'file', s, l, h, t FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[], $8::bool[]) AS x(p, pa, n, s, l, h, t)
         ON CONFLICT (generation_id, path) DO UPDATE
           SET parent = EXCLUDED.parent, name = EXCLUDED.name, type = 'file', size = EXCLUDED.size,
               language = EXCLUDED.language, sha = EXCLUDED.sha, is_text = EXCLUDED.is_text`,
        [
          this.gen.id,
          p.files.map((f) => f.path),
          p.files.map((f) => parentOf(f.path)),
          p.files.map((f) => baseName(f.path)),
          p.files.map((f) => f.size),
          p.files.map((f) => f.language),
          p.files.map((f) => f.sha),
          p.files.map((f) => f.isText),
        ],
      );
      await db.query(`UPDATE index_generations SET files_done = $2, files_total = $3 WHERE id = $1`, [
        this.gen.id,
        this.filesDone + p.done,
        this.filesTotal,
      ]);
      await db.commitTransaction();
    } catch (err) {
      await db.rollbackTransaction().catch(() => undefined);
      for (const d of dirs) this.knownDirs.delete(d);
      throw err;
    }
    this.textBytes += bytes;
    this.fileCount += p.files.length;
    this.filesDone += p.done;
    await this.input.onProgress?.(this.progress());
  }

  /** Removes directories left empty, checks the limits, switches the generation in, cleans up. */
  private async finish(plan: Plan, active: GenerationRow | null): Promise<IndexCommitResult> {
    const db = this.db;
    if (plan.kind === 'incremental' && plan.removed.length) {
      const byDepth = new Map<number, Set<string>>();
      for (const p of plan.removed) {
        for (const d of ancestorsOf(p)) {
          const depth = d.split('/').length;
          if (!byDepth.has(depth)) byDepth.set(depth, new Set());
          byDepth.get(depth)!.add(d);
        }
      }
      for (const depth of [...byDepth.keys()].sort((a, b) => b - a)) {
        await db.query(
          `DELETE FROM index_entries d WHERE d.generation_id = $1 AND d.type = 'dir' AND d.path = ANY($2::text[])
             AND NOT EXISTS (SELECT 1 FROM index_entries c WHERE c.generation_id = $1 AND c.parent = d.path)`,
          [this.gen.id, [...byDepth.get(depth)!]],
        );
      }
    }
    const [stats] = (await db.query(
      `SELECT count(*) FILTER (WHERE type = 'file')::int AS files, coalesce(sum(size) FILTER (WHERE is_text), 0)::bigint AS bytes
         FROM index_entries WHERE generation_id = $1`,
      [this.gen.id],
    )) as Array<{ files: number; bytes: string }>;
    const files = stats.files;
    const bytes = Number(stats.bytes);
    if (files > this.limits.maxFiles) throw tooManyFiles(files, this.limits);
    if (bytes > this.limits.maxTotalBytes) throw tooManyBytes(bytes, this.limits);

    await db.startTransaction();
    try {
      await db.query(`UPDATE index_generations SET state = 'retired' WHERE repo_id = $1 AND state = 'active'`, [this.repoId]);
      await db.query(
        `UPDATE index_generations SET state = 'active', activated_at = now(), file_count = $2, text_bytes = $3, files_done = files_total WHERE id = $1`,
        [this.gen.id, files, bytes],
      );
      await db.commitTransaction();
    } catch (err) {
      await db.rollbackTransaction().catch(() => undefined);
      throw err;
    }
    const incrementalFromActive = plan.kind === 'incremental' && active !== null && this.gen.base_generation_id === active.id;
    await this.cleanup(this.gen.id, incrementalFromActive ? plan.oldShas : null);
    // A full build changes the tables' make-up a lot: refresh the planner's statistics now rather
    // than at autovacuum's next turn (a sample of 30,000 rows each; well under a second).
    if (plan.kind === 'full') {
      await db.query('ANALYZE index_blobs (repo_id, sha), index_blocks (repo_id, sha), index_entries, index_symbols');
      // Merge the search index's pending list (up to 4 MB of new keys, which every search scans)
      // into the index now rather than at autovacuum's next turn. Only the index's owner may.
      await db.query(`SELECT gin_clean_pending_list('index_blocks_keys')`).catch(() => undefined);
    }
    return { commit: this.commit, kind: plan.kind, filesIndexed: files, filesChanged: plan.filesChanged, bytes };
  }

  /**
   * Deletes every other generation of the repo (retired, and building ones abandoned), then the
   * blobs no generation references: only `candidates` when given (an incremental build with no
   * stale generations), else all of the repo's.
   */
  private async cleanup(keepId: string, candidates: string[] | null): Promise<void> {
    const gone = await this.db.query(`DELETE FROM index_generations WHERE repo_id = $1 AND id <> $2 RETURNING state`, [this.repoId, keepId], true);
    const staleBuilding = (gone.records as Array<{ state: string }>).some((r) => r.state === 'building');
    if (candidates && !staleBuilding) {
      if (candidates.length === 0) return;
      await this.db.query(
        `DELETE FROM index_blobs b WHERE b.repo_id = $1 AND b.sha = ANY($3::text[])
           AND NOT EXISTS (SELECT 1 FROM index_entries e WHERE e.generation_id = $2 AND e.sha = b.sha AND e.is_text)`,
        [this.repoId, keepId, candidates],
      );
      return;
    }
    await this.db.query(
      `DELETE FROM index_blobs b WHERE b.repo_id = $1
         AND NOT EXISTS (SELECT 1 FROM index_entries e WHERE e.generation_id = $2 AND e.sha = b.sha AND e.is_text)`,
      [this.repoId, keepId],
    );
  }

  /** A build that cannot succeed (too large): remove its generation and the blobs only it used. */
  private async abandon(): Promise<void> {
    if (!this.gen) return;
    await this.db.query('DELETE FROM index_generations WHERE id = $1', [this.gen.id]);
    const [active] = (await this.db.query(`SELECT id FROM index_generations WHERE repo_id = $1 AND state = 'active'`, [this.repoId])) as Array<{
      id: string;
    }>;
    if (active) await this.cleanup(active.id, null);
    else await this.db.query('DELETE FROM index_blobs WHERE repo_id = $1', [this.repoId]);
  }
}
