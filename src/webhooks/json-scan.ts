// A JSON reader that checks a whole document and builds only the parts asked for. The webhook
// receiver must refuse a malformed body (CONTRACT §8), so every byte is checked, but it reads a
// handful of fields of a push body of several KB (commits, authors, links): JSON.parse built all
// of it, the largest cost of a delivery after the socket writes (bench/webhook-bench.ts).
//
// It accepts exactly what JSON.parse accepts of the body decoded as UTF-8 (RFC 8259: no trailing
// commas, comments, BOM or control characters in strings; any nesting depth), and what it builds
// is what JSON.parse would have built, cut down to the shape asked for: objects keep only the
// named keys (the last of a repeated key wins, as in JSON.parse), arrays keep their items only
// when an item shape is given (else they come back empty), strings, numbers, booleans and null
// are as JSON.parse makes them. test/unit/json-scan.test.ts holds it to JSON.parse.
//
// Written for speed: what is not wanted (most of a body) is checked by skipValue, one loop with
// no more state than a byte per open container; the string and number grammar are helpers that
// take and return a position.

/** What to build of a value: the keys of an object worth keeping, or the shape of an array's items. */
export interface Shape {
  keys?: Readonly<Record<string, Shape>>;
  items?: Shape;
}

/** The document is not JSON. */
export const NOT_JSON: unique symbol = Symbol('not JSON');

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

/** A wanted container being read: what it builds and its shape. */
interface Frame {
  array: boolean;
  value: Record<string, unknown> | unknown[];
  shape: Shape;
  /** In an object: the key whose value comes next (null when that value is not wanted). */
  key: string | null;
}

const isHex = (c: number) => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);

// Set by stringEnd: whether the string it read had an escape (then JSON.parse decodes it).
let hadEscape = false;

/** The position after the string whose opening quote is at i, or -1 if it is malformed. */
function stringEnd(b: Buffer, i: number, end: number): number {
  hadEscape = false;
  for (i++; i < end; i++) {
    const c = b[i];
    if (c === QUOTE) return i + 1;
    if (c < 0x20) return -1;
    if (c === BACKSLASH) {
      hadEscape = true;
      const e = b[i + 1];
      if (e === 0x75) {
        if (!(isHex(b[i + 2]) && isHex(b[i + 3]) && isHex(b[i + 4]) && isHex(b[i + 5]))) return -1;
        i += 5;
      } else if (e === QUOTE || e === BACKSLASH || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) i++;
      else return -1;
    }
  }
  return -1;
}

/** The text of the string from its opening quote at `start` to `after` (just past its closing quote). */
function stringText(b: Buffer, start: number, after: number): string {
  return hadEscape ? (JSON.parse(b.toString('utf8', start, after)) as string) : b.toString('utf8', start + 1, after - 1);
}

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;

/** The position after the number starting at i (RFC 8259's grammar), or -1 if it is malformed. */
function numberEnd(b: Buffer, i: number): number {
  if (b[i] === 0x2d) i++;
  if (b[i] === 0x30) i++;
  else if (isDigit(b[i])) while (isDigit(b[i])) i++;
  else return -1;
  if (b[i] === 0x2e) {
    if (!isDigit(b[++i])) return -1;
    while (isDigit(b[i])) i++;
  }
  if (b[i] === 0x65 || b[i] === 0x45) {
    i++;
    if (b[i] === 0x2b || b[i] === 0x2d) i++;
    if (!isDigit(b[i])) return -1;
    while (isDigit(b[i])) i++;
  }
  return i;
}

function skipSpace(b: Buffer, i: number, end: number): number {
  while (i < end) {
    const c = b[i];
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
    else break;
  }
  return i;
}

function literalEnd(b: Buffer, i: number, text: string): number {
  for (let k = 0; k < text.length; k++) if (b[i + k] !== text.charCodeAt(k)) return -1;
  return i + text.length;
}

// The containers skipValue is inside (1 = object, 2 = array), grown as deep documents need.
let kinds = new Uint8Array(64);

/**
 * Checks the value at i without building anything: the position after it, or -1 if it is
 * malformed. Most of a push body goes through here, so it keeps no more state than the kinds
 * of the containers it is in.
 */
function skipValue(b: Buffer, i: number, end: number): number {
  let depth = 0;
  for (;;) {
    // A value at i.
    const c = b[i];
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (depth === kinds.length) {
        const grown = new Uint8Array(kinds.length * 2);
        grown.set(kinds);
        kinds = grown;
      }
      kinds[depth++] = c === OPEN_OBJECT ? 1 : 2;
      i = skipSpace(b, i + 1, end);
      if (b[i] === (c === OPEN_OBJECT ? CLOSE_OBJECT : CLOSE_ARRAY)) {
        i++;
        depth--;
      } else {
        if (c === OPEN_OBJECT && (i = keyEnd(b, i, end)) < 0) return -1;
        continue;
      }
    } else if (c === QUOTE) {
      if ((i = stringEnd(b, i, end)) < 0) return -1;
    } else if (c === 0x74) {
      if ((i = literalEnd(b, i, 'true')) < 0) return -1;
    } else if (c === 0x66) {
      if ((i = literalEnd(b, i, 'false')) < 0) return -1;
    } else if (c === 0x6e) {
      if ((i = literalEnd(b, i, 'null')) < 0) return -1;
    } else if ((i = numberEnd(b, i)) < 0) return -1;

    // After a value: a comma and the next member, or the end of containers (maybe several).
    for (;;) {
      if (depth === 0) return i;
      i = skipSpace(b, i, end);
      const kind = kinds[depth - 1];
      const d = b[i];
      if (d === (kind === 1 ? CLOSE_OBJECT : CLOSE_ARRAY)) {
        i++;
        depth--;
        continue;
      }
      if (d !== COMMA) return -1;
      i = skipSpace(b, i + 1, end);
      if (kind === 1 && (i = keyEnd(b, i, end)) < 0) return -1;
      break;
    }
  }
}

/** Past an object's key and its colon (and the space after), or -1. */
function keyEnd(b: Buffer, i: number, end: number): number {
  if (b[i] !== QUOTE || (i = stringEnd(b, i, end)) < 0) return -1;
  i = skipSpace(b, i, end);
  if (b[i] !== COLON) return -1;
  return skipSpace(b, i + 1, end);
}

/** The document's value cut down to `shape`, or NOT_JSON. */
export function scanJson(b: Buffer, shape: Shape): unknown {
  const end = b.length;
  // The wanted containers being read; everything else goes through skipValue.
  const stack: Frame[] = [];
  let top: Frame | null = null;
  let result: unknown = NOT_JSON;
  let i = skipSpace(b, 0, end);

  for (;;) {
    // A value at i; in an object, i is at its key first.
    let want: Shape | null = shape;
    if (top && !top.array) {
      if (b[i] !== QUOTE) return NOT_JSON;
      const after = stringEnd(b, i, end);
      if (after < 0) return NOT_JSON;
      top.key = wantedKey(b, i, after, top.shape);
      i = skipSpace(b, after, end);
      if (b[i] !== COLON) return NOT_JSON;
      i = skipSpace(b, i + 1, end);
      want = top.key !== null ? top.shape!.keys![top.key] : null;
    } else if (top) want = top.shape!.items ?? null;
    if (i >= end) return NOT_JSON;
    const c = b[i];
    if (want === null) {
      if ((i = skipValue(b, i, end)) < 0) return NOT_JSON;
    } else if (c === OPEN_OBJECT || (c === OPEN_ARRAY && want.items)) {
      const array = c === OPEN_ARRAY;
      const built: Record<string, unknown> | unknown[] = array ? [] : {};
      place(top, built);
      if (!top) result = built;
      if (top) stack.push(top);
      top = { array, value: built, shape: want, key: null };
      i = skipSpace(b, i + 1, end);
      if (b[i] !== (array ? CLOSE_ARRAY : CLOSE_OBJECT)) continue; // its first member
      i++;
      top = stack.pop() ?? null;
    } else {
      // A wanted value that is not a container to go into: built as JSON.parse builds it (an
      // array whose items are not wanted comes back empty).
      const after = skipValue(b, i, end);
      if (after < 0) return NOT_JSON;
      const value = c === OPEN_ARRAY ? [] : c === OPEN_OBJECT ? {} : c === QUOTE ? (stringEnd(b, i, end), stringText(b, i, after)) : c === 0x74 ? true : c === 0x66 ? false : c === 0x6e ? null : Number(b.toString('latin1', i, after));
      place(top, value);
      if (!top) result = value;
      i = after;
    }

    // After a value: a comma and the next member, or the end of containers (maybe several).
    for (;;) {
      i = skipSpace(b, i, end);
      if (!top) return i === end ? result : NOT_JSON;
      if (b[i] === (top.array ? CLOSE_ARRAY : CLOSE_OBJECT)) {
        i++;
        top = stack.pop() ?? null;
        continue;
      }
      if (b[i] !== COMMA) return NOT_JSON;
      i = skipSpace(b, i + 1, end);
      break;
    }
  }
}

// Each shape's key names as UTF-8 bytes, so a key is matched without decoding it.
const keyBytes = new WeakMap<Shape, Array<[string, Buffer]>>();

/** The shape's key the string from `start` (its quote) to `after` names, or null. */
function wantedKey(b: Buffer, start: number, after: number, shape: Shape): string | null {
  let names = keyBytes.get(shape);
  if (!names) keyBytes.set(shape, (names = Object.keys(shape.keys ?? {}).map((name) => [name, Buffer.from(name)])));
  if (hadEscape) {
    const key = stringText(b, start, after);
    return names.some(([name]) => name === key) ? key : null;
  }
  const length = after - start - 2;
  for (const [name, bytes] of names) {
    if (bytes.length !== length) continue;
    let k = 0;
    while (k < length && b[start + 1 + k] === bytes[k]) k++;
    if (k === length) return name;
  }
  return null;
}

/** Puts a finished value where it belongs in its (wanted) container. */
function place(top: Frame | null, value: unknown): void {
  if (!top) return;
  if (top.array) (top.value as unknown[]).push(value);
  else if (top.key !== null) (top.value as Record<string, unknown>)[top.key] = value;
}
