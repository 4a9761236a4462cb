// Rows into PostgreSQL by `COPY … FROM STDIN (FORMAT binary)`: each value goes as its bytes, so
// blob contents (bytea) are neither escaped by node nor parsed by PostgreSQL, which an INSERT of
// unnest() arrays costs on both sides. Columns are written in the order the COPY names them.
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { QueryRunner } from 'typeorm';
import { from as copyFrom } from 'pg-copy-streams';

/** A Buffer goes as its bytes: bytea, or a uuid from uuidBytes. A bare number is a bigint. */
export type CopyValue = null | string | number | bigint | boolean | Buffer | Int32Array | { int4: number };

/** A uuid column's value: its 16 bytes. */
export function uuidBytes(id: string): Buffer {
  return Buffer.from(id.replace(/-/g, ''), 'hex');
}

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const HEADER = Buffer.concat([SIGNATURE, Buffer.alloc(8)]); // flags 0, no header extension
const TRAILER = Buffer.from([0xff, 0xff]);
const CHUNK = 256 * 1024;

/** `values` as PostgreSQL's binary int4[] (array_recv). */
export function int4ArrayBinary(values: ArrayLike<number>): Buffer {
  if (values.length === 0) return Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 23]);
  const buf = Buffer.allocUnsafe(20 + values.length * 8);
  buf.writeInt32BE(1, 0); // dimensions
  buf.writeInt32BE(0, 4); // no nulls
  buf.writeInt32BE(23, 8); // int4
  buf.writeInt32BE(values.length, 12);
  buf.writeInt32BE(1, 16); // lower bound
  for (let i = 0, o = 20; i < values.length; i++, o += 8) {
    buf.writeInt32BE(4, o);
    buf.writeInt32BE(values[i], o + 4);
  }
  return buf;
}

/** Encodes tuples into the binary COPY stream, in chunks of about CHUNK bytes. */
class TupleEncoder {
  private parts: Buffer[] = [];
  private size = 0;

  constructor() {
    this.push(HEADER);
  }

  /** Adds a row; returns a chunk once CHUNK bytes are pending. */
  row(values: readonly CopyValue[]): Buffer | null {
    const head = Buffer.allocUnsafe(2);
    head.writeInt16BE(values.length, 0);
    this.push(head);
    for (const v of values) this.value(v);
    return this.size >= CHUNK ? this.flush() : null;
  }

  finish(): Buffer | null {
    this.push(TRAILER);
    return this.flush();
  }

  private value(v: CopyValue): void {
    if (v === null) return this.push(Buffer.from([0xff, 0xff, 0xff, 0xff]));
    let data: Buffer;
    if (Buffer.isBuffer(v)) data = v;
    else if (typeof v === 'string') data = Buffer.from(v, 'utf8');
    else if (typeof v === 'boolean') data = Buffer.from([v ? 1 : 0]);
    else if (typeof v === 'number') {
      data = Buffer.allocUnsafe(8);
      data.writeBigInt64BE(BigInt(v), 0);
    } else if (typeof v === 'bigint') {
      data = Buffer.allocUnsafe(8);
      data.writeBigInt64BE(v, 0);
    } else if (v instanceof Int32Array) data = int4ArrayBinary(v);
    else {
      data = Buffer.allocUnsafe(4);
      data.writeInt32BE(v.int4, 0);
    }
    const len = Buffer.allocUnsafe(4);
    len.writeInt32BE(data.length, 0);
    this.push(len);
    this.push(data);
  }

  private push(b: Buffer): void {
    this.parts.push(b);
    this.size += b.length;
  }

  private flush(): Buffer | null {
    const chunk = this.parts.length ? Buffer.concat(this.parts, this.size) : null;
    this.parts = [];
    this.size = 0;
    return chunk;
  }
}

/** The COPY stream of `rows`, encoded as the connection takes it (a batch's bytes are not copied whole). */
function* encode(rows: readonly (readonly CopyValue[])[]): Generator<Buffer> {
  const encoder = new TupleEncoder();
  for (const r of rows) {
    const chunk = encoder.row(r);
    if (chunk) yield chunk;
  }
  const last = encoder.finish();
  if (last) yield last;
}

/** Runs `COPY table (columns) FROM STDIN (FORMAT binary)` with `rows` on the runner's connection (inside its transaction). */
export async function copyRows(db: QueryRunner, table: string, columns: readonly string[], rows: readonly (readonly CopyValue[])[]): Promise<number> {
  if (rows.length === 0) return 0;
  // TypeORM's PostgresQueryRunner keeps the pg client it holds as `databaseConnection`.
  const client = (db as unknown as { databaseConnection?: { query: (s: unknown) => NodeJS.WritableStream } }).databaseConnection;
  if (!client) throw new Error('copyRows needs a connected query runner');
  const sink = client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN (FORMAT binary)`));
  await pipeline(Readable.from(encode(rows)), sink);
  return rows.length;
}
