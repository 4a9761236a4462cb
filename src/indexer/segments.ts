// Search-index segments in PostgreSQL: a segment is written with the batch whose new blobs it
// indexes (its blocks and the bucket rows of their posting lists, by binary COPY), small segments
// are merged once there are many of them, and segments whose blocks all went with their blobs
// are dropped. Postings of a block whose blob is gone stay until a merge: the search skips them.
// Each segment row carries a Bloom filter of its trigram keys (trigram-bloom.ts) and one of its
// text's 4-grams (quadgrams.ts), written with the row, so a search rules segments out before it
// reads any of their posting lists.
import type { QueryRunner } from 'typeorm';
import type { TextBlock } from './blocks';
import { copyRows, uuidBytes } from './copy-binary';
import { encodeSegment, listOf } from './postings';
import { buildQuadBloom } from './quadgrams';
import { buildBloom } from './trigram-bloom';

/** A segment with fewer blocks than this is small (a push's, or a merge of pushes'). */
const SMALL_SEGMENT_BLOCKS = 512;
/** More small segments than this are merged into one. */
const MAX_SMALL_SEGMENTS = 8;

interface BlockRow {
  sha: string;
  start: number;
  length: number;
  tail: number;
  line: number;
  lineStart: number | null;
}

/** Writes one segment for the blocks of `blobs` (their text in `bytes`; inside the caller's transaction). */
export async function writeSegment(db: QueryRunner, repoId: string, blobs: ReadonlyArray<{ sha: string; bytes: Buffer; blocks: TextBlock[] }>): Promise<void> {
  const rows: BlockRow[] = [];
  const keys: Int32Array[] = [];
  for (const b of blobs) {
    for (const block of b.blocks) {
      rows.push({ sha: b.sha, start: block.start, length: block.length, tail: block.tail, line: block.line, lineStart: block.lineStart });
      keys.push(block.keys);
    }
  }
  if (rows.length) await insertSegment(db, repoId, rows, keys, blobs.filter((b) => b.blocks.length > 0).map((b) => b.bytes));
}

/** Writes a segment of `rows` (blocks with their trigram `keys`) whose blobs' text is `texts` (UTF-8). */
async function insertSegment(db: QueryRunner, repoId: string, rows: BlockRow[], keys: Int32Array[], texts: Buffer[]): Promise<void> {
  const encoded = encodeSegment(keys);
  const quadBloom = buildQuadBloom(texts, encoded.keys.length);
  const [segment] = (await db.query(`INSERT INTO index_segments (repo_id, bucket_bits, blocks, trigram_bloom, quad_bloom) VALUES ($1, $2, $3, $4, $5) RETURNING id`, [
    repoId,
    encoded.bits,
    rows.length,
    buildBloom(encoded.keys),
    quadBloom,
  ])) as Array<{ id: string }>;
  const id = BigInt(segment.id);
  const repo = uuidBytes(repoId);
  await copyRows(
    db,
    'index_blocks',
    ['repo_id', 'segment_id', 'ordinal', 'sha', 'start', 'length', 'tail', 'line', 'line_start'],
    rows.map((r, i) => [repo, id, { int4: i }, r.sha, { int4: r.start }, { int4: r.length }, { int4: r.tail }, { int4: r.line }, r.lineStart === null ? null : { int4: r.lineStart }]),
  );
  await copyRows(
    db,
    'index_postings',
    ['segment_id', 'bucket', 'keys', 'ends', 'postings'],
    encoded.buckets.map((b) => [id, { int4: b.bucket }, b.keys, b.ends, b.postings]),
  );
}

/** Drops the repo's segments whose blocks are all gone. */
export async function dropEmptySegments(db: QueryRunner, repoId: string): Promise<void> {
  await db.query(
    `DELETE FROM index_segments s WHERE s.repo_id = $1 AND NOT EXISTS (SELECT 1 FROM index_blocks b WHERE b.segment_id = s.id)`,
    [repoId],
  );
}

/**
 * Merges the repo's small segments into one when there are more than MAX_SMALL_SEGMENTS of them,
 * leaving out blocks that are gone; one transaction, so a search sees either side.
 */
export async function mergeSmallSegments(db: QueryRunner, repoId: string): Promise<boolean> {
  const small = (await db.query(`SELECT id FROM index_segments WHERE repo_id = $1 AND blocks < $2 ORDER BY id`, [repoId, SMALL_SEGMENT_BLOCKS])) as Array<{ id: string }>;
  if (small.length <= MAX_SMALL_SEGMENTS) return false;
  const ids = small.map((s) => s.id);
  await db.startTransaction();
  try {
    const blocks = (await db.query(
      `SELECT segment_id, ordinal, sha, start, length, tail, line, line_start FROM index_blocks WHERE segment_id = ANY($1::bigint[]) ORDER BY segment_id, ordinal FOR UPDATE`,
      [ids],
    )) as Array<{ segment_id: string; ordinal: number; sha: string; start: number; length: number; tail: number; line: number; line_start: number | null }>;
    const renumber = new Map<string, number>(); // `${segment}:${ordinal}` → new ordinal
    const rows: BlockRow[] = blocks.map((b, i) => {
      renumber.set(`${b.segment_id}:${b.ordinal}`, i);
      return { sha: b.sha, start: b.start, length: b.length, tail: b.tail, line: b.line, lineStart: b.line_start };
    });
    const perBlock: number[][] = rows.map(() => []);
    const postings = (await db.query(`SELECT segment_id, keys, ends, postings FROM index_postings WHERE segment_id = ANY($1::bigint[])`, [ids])) as Array<{
      segment_id: string;
      keys: number[];
      ends: number[];
      postings: Buffer;
    }>;
    for (const p of postings) {
      for (const key of p.keys) {
        for (const old of listOf(p, key)) {
          const n = renumber.get(`${p.segment_id}:${old}`);
          if (n !== undefined) perBlock[n].push(key);
        }
      }
    }
    // The 4-gram filter from the text of the blobs whose blocks stay.
    const texts = rows.length
      ? ((await db.query(`SELECT content FROM index_blobs WHERE repo_id = $1 AND sha = ANY($2::text[])`, [repoId, [...new Set(rows.map((r) => r.sha))]])) as Array<{ content: Buffer }>)
      : [];
    if (rows.length) await insertSegment(db, repoId, rows, perBlock.map((k) => Int32Array.from(k).sort()), texts.map((t) => t.content));
    await db.query(`DELETE FROM index_segments WHERE id = ANY($1::bigint[])`, [ids]);
    await db.commitTransaction();
    return true;
  } catch (err) {
    await db.rollbackTransaction().catch(() => undefined);
    throw err;
  }
}
