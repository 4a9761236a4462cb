// Prepares one batch of work items for the generation store: reads the blobs the index lacks
// (or lacks the symbols of) from git, and has the parse pool cut them into search blocks and
// extract their symbols.
import type { TextBlock } from './blocks';
import type { BlobReader } from './git';
import { grammarOf, languageOf, type GrammarId } from './languages';
import type { ParsePool, ParserCrash } from './parse-pool';
import type { WorkItem } from './plan';
import type { ExtractedSymbol } from './symbols';
import { decodeContent } from './encoding';

export interface FileRow {
  path: string;
  size: number;
  language: string | null;
  sha: string;
  isText: boolean;
}

export interface PreparedBlob {
  sha: string;
  /** The blob's text as UTF-8 bytes (encoding.ts decodeContent: what the file route shows and the search reads). */
  bytes: Buffer;
  /** New to the repo's index: stored with its blocks. Otherwise it was read again for its symbols. */
  isNew: boolean;
  blocks: TextBlock[];
  /** The grammar its symbols are from; null when it has none (or the grammar failed). */
  grammar: GrammarId | null;
  symbols: ExtractedSymbol[];
}

export interface PreparedBatch {
  files: FileRow[];
  blobs: PreparedBlob[];
  /** Work items the batch covers. */
  done: number;
}

/** The index's text blobs among `shas`, with the grammar their symbols came from. */
export type KnownBlobs = (shas: string[]) => Promise<Map<string, string | null>>;

export interface PrepareDeps {
  reader: BlobReader;
  pool: ParsePool;
  knownBlobs: KnownBlobs;
  maxFileBytes: number;
  onParserCrash?: (crash: ParserCrash) => void;
}

export async function prepareBatch(batch: WorkItem[], deps: PrepareDeps): Promise<PreparedBatch> {
  const readable = (i: WorkItem) => i.size <= deps.maxFileBytes;
  const known = await deps.knownBlobs([...new Set(batch.filter(readable).map((i) => i.sha))]);

  const meta = batch.map((item) => {
    const language = languageOf(item.path);
    return { item, language, grammar: grammarOf(item.path, language) };
  });
  // Blob → the grammar (and a path) to parse it with; a blob under several paths is read once.
  const toRead = new Map<string, { grammar: GrammarId | null; path: string }>();
  for (const { item, grammar } of meta) {
    if (!readable(item)) continue;
    const k = known.get(item.sha);
    // Known text with the symbols this path wants: nothing to read.
    if (k !== undefined && (grammar === null || k === grammar)) continue;
    if (!toRead.has(item.sha) || grammar) toRead.set(item.sha, { grammar, path: item.path });
  }
  const shas = [...toRead.keys()];
  const data = await deps.reader.read(shas);
  const text: Array<{ sha: string; bytes: Buffer; isNew: boolean; grammar: GrammarId | null; path: string }> = [];
  const binary = new Set<string>();
  shas.forEach((sha, i) => {
    const utf8 = decodeContent(data[i]);
    if (!utf8) binary.add(sha);
    else text.push({ sha, bytes: utf8, isNew: !known.has(sha), ...toRead.get(sha)! });
  });
  const parsed = await deps.pool.parse(text.map((t) => ({ bytes: t.bytes, blocks: t.isNew, grammar: t.grammar, path: t.path })), deps.onParserCrash);
  const blobs: PreparedBlob[] = text.map((t, i) => {
    const r = parsed[i];
    const failed = r.symbols === null;
    return { sha: t.sha, bytes: t.bytes, isNew: t.isNew, blocks: r.blocks ?? [], grammar: failed ? null : t.grammar, symbols: r.symbols ?? [] };
  });

  const files: FileRow[] = meta.map(({ item, language }) => {
    const isText = readable(item) && (toRead.has(item.sha) ? !binary.has(item.sha) : known.has(item.sha));
    return { path: item.path, size: item.size, language, sha: item.sha, isText };
  });
  return { files, blobs, done: batch.length };
}
