// How the bytes git holds become text. Contents are opened the way editors open them, so that
// every file is shown and searchable by what it shows; paths are decoded losslessly, so that two
// names never become one. Whatever comes out is valid UTF-8 (PostgreSQL refuses anything else).
import { isUtf8 } from 'node:buffer';

const UTF16LE = new TextDecoder('utf-16le');
const UTF16BE = new TextDecoder('utf-16be');

/**
 * A blob's text as UTF-8 bytes, or null when it is binary:
 * - a UTF-16 byte-order mark (FF FE, FE FF): UTF-16, as editors detect it (such files hold NULs);
 * - otherwise a NUL byte: binary (git's own heuristic);
 * - valid UTF-8: as it is (no copy);
 * - mostly UTF-8 with a few bad bytes: UTF-8 with U+FFFD for the bad bytes;
 * - anything else: Windows-1252 (the WHATWG "latin1"), which maps every byte to a character. Text
 *   that is not UTF-8 in a code base is nearly always a legacy 8-bit file (a Latin-1 comment, a
 *   CP1252 resource), and decoding it so keeps "café" readable and findable as "café", where the
 *   replacement character would have lost every accented letter.
 */
export function decodeContent(bytes: Buffer): Buffer | null {
  if (bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))) {
    const text = (bytes[0] === 0xff ? UTF16LE : UTF16BE).decode(bytes.subarray(2, bytes.length & ~1));
    return text.includes('\0') ? null : Buffer.from(text, 'utf8');
  }
  if (bytes.indexOf(0) >= 0) return null;
  if (isUtf8(bytes)) return bytes;
  const { valid, invalid } = utf8Census(bytes);
  return Buffer.from(valid > invalid ? bytes.toString('utf8') : windows1252(bytes), 'utf8');
}

// 0x80–0x9F of Windows-1252 (the rest is Latin-1); its five holes stay the C1 controls, as in
// WHATWG's decoder. Node's own TextDecoder('windows-1252') decodes ISO-8859-1 instead (0x80 ≠ €).
const CP1252_HIGH = '€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008dŽ\u008f\u0090‘’“”•–—˜™š›œ\u009džŸ';

function windows1252(bytes: Buffer): string {
  const latin1 = bytes.toString('latin1');
  return /[\x80-\x9f]/.test(latin1) ? latin1.replace(/[\x80-\x9f]/g, (c) => CP1252_HIGH[c.charCodeAt(0) - 0x80]) : latin1;
}

/** Counts the well-formed multi-byte UTF-8 sequences and the bytes that belong to none. */
function utf8Census(bytes: Buffer): { valid: number; invalid: number } {
  let valid = 0;
  let invalid = 0;
  for (let i = 0; i < bytes.length; ) {
    if (bytes[i] < 0x80) {
      i++;
      continue;
    }
    const n = utf8SequenceLength(bytes, i);
    if (n > 0) {
      valid++;
      i += n;
    } else {
      invalid++;
      i++;
    }
  }
  return { valid, invalid };
}

/** Length of the well-formed UTF-8 sequence of a non-ASCII character at `i`, or 0 (RFC 3629's table). */
function utf8SequenceLength(b: Uint8Array, i: number): number {
  const c = b[i];
  const cont = (k: number, lo = 0x80, hi = 0xbf) => i + k < b.length && b[i + k] >= lo && b[i + k] <= hi;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    const lo = c === 0xe0 ? 0xa0 : 0x80;
    const hi = c === 0xed ? 0x9f : 0xbf;
    return cont(1, lo, hi) && cont(2) ? 3 : 0;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    const lo = c === 0xf0 ? 0x90 : 0x80;
    const hi = c === 0xf4 ? 0x8f : 0xbf;
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

/**
 * Paths that are not UTF-8 keep each stray byte as one code point of the last 256 of Unicode's
 * private use plane 16 (U+10FF00 + the byte): PostgreSQL's text holds it, and unlike U+FFFD two
 * names stay two. A path that really contains such a code point has its bytes escaped the same
 * way, so the mapping can be undone (encodePath) and no two paths ever meet.
 */
const BYTE_ESCAPE = 0x10ff00;

/** A path from git's bytes: UTF-8 when it is (the overwhelming case), otherwise escaped. */
export function decodePath(bytes: Buffer): string {
  // U+10FF00..U+10FFFF is F4 8F BC..BF in UTF-8: without an F4 byte, valid UTF-8 decodes as is.
  if (bytes.indexOf(0xf4) < 0 && isUtf8(bytes)) return bytes.toString('utf8');
  let out = '';
  for (let i = 0; i < bytes.length; ) {
    const c = bytes[i];
    if (c < 0x80) {
      out += String.fromCharCode(c);
      i++;
      continue;
    }
    const n = utf8SequenceLength(bytes, i);
    const cp = n > 0 ? (bytes.toString('utf8', i, i + n).codePointAt(0) ?? 0) : -1;
    if (n > 0 && cp < BYTE_ESCAPE) {
      out += String.fromCodePoint(cp);
      i += n;
    } else {
      out += String.fromCodePoint(BYTE_ESCAPE + c);
      i++;
    }
  }
  return out;
}

/** The bytes git holds for a path decodePath gave (its inverse). */
export function encodePath(path: string): Buffer {
  const parts: Buffer[] = [];
  let run = '';
  for (const ch of path) {
    const cp = ch.codePointAt(0)!;
    if (cp < BYTE_ESCAPE) {
      run += ch;
      continue;
    }
    parts.push(Buffer.from(run, 'utf8'), Buffer.from([cp - BYTE_ESCAPE]));
    run = '';
  }
  parts.push(Buffer.from(run, 'utf8'));
  return Buffer.concat(parts);
}
