// How git's bytes become text: contents the way editors open them, paths without a collision.
import fc from 'fast-check';
import { decodeContent, decodePath, encodePath } from '../../src/indexer/encoding';

const text = (b: Buffer | null) => (b === null ? null : b.toString('utf8'));

describe('decodeContent', () => {
  it('keeps UTF-8 as it is, without a copy', () => {
    const utf8 = Buffer.from('const café = "☕";\n', 'utf8');
    expect(decodeContent(utf8)).toBe(utf8);
  });

  it('calls a file with a NUL byte binary', () => {
    expect(decodeContent(Buffer.from([0x89, 0x50, 0x00, 0x01]))).toBeNull();
    expect(decodeContent(Buffer.alloc(4096))).toBeNull();
  });

  it('reads UTF-16 with a byte-order mark, little- and big-endian', () => {
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('Grüße, quick fox\r\n', 'utf16le')]);
    expect(text(decodeContent(le))).toBe('Grüße, quick fox\r\n');
    const be = Buffer.from(le);
    be.swap16();
    expect(text(decodeContent(be))).toBe('Grüße, quick fox\r\n');
  });

  it('calls UTF-16 that decodes to NUL characters binary', () => {
    expect(decodeContent(Buffer.from([0xff, 0xfe, 0x00, 0x00, 0x41, 0x00]))).toBeNull();
  });

  it('reads Latin-1 and CP1252 as Windows-1252, so accented words stay findable', () => {
    expect(text(decodeContent(Buffer.from('The quick brown fox: caf\xe9, na\xefve, \x80 5', 'latin1')))).toBe('The quick brown fox: café, naïve, € 5');
  });

  it('keeps mostly-UTF-8 text UTF-8, a stray byte becoming U+FFFD', () => {
    const mixed = Buffer.concat([Buffer.from('déjà vu, ', 'utf8'), Buffer.from([0xff]), Buffer.from(' über', 'utf8')]);
    expect(text(decodeContent(mixed))).toBe('déjà vu, \uFFFD über');
  });

  it('always answers valid UTF-8 (what PostgreSQL stores) or null', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const out = decodeContent(Buffer.from(bytes));
        if (out !== null) expect(Buffer.from(out.toString('utf8'), 'utf8').equals(out)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('decodePath', () => {
  it('decodes UTF-8 names as they are', () => {
    expect(decodePath(Buffer.from('src/café/ünïcødé 🥬.ts', 'utf8'))).toBe('src/café/ünïcødé 🥬.ts');
  });

  it('keeps two Latin-1 names apart (they used to both become caf\uFFFD.txt)', () => {
    const a = decodePath(Buffer.from('caf\xe9.txt', 'latin1'));
    const b = decodePath(Buffer.from('caf\xe8.txt', 'latin1'));
    expect(a).not.toBe(b);
    expect(a).not.toContain('\uFFFD');
    expect(a.startsWith('caf') && a.endsWith('.txt')).toBe(true);
  });

  it('does not collide with a name that really holds an escape code point', () => {
    const real = Buffer.from('caf\u{10FFE9}.txt', 'utf8');
    const escaped = Buffer.from('caf\xe9.txt', 'latin1');
    expect(decodePath(real)).not.toBe(decodePath(escaped));
    expect(encodePath(decodePath(real)).equals(real)).toBe(true);
  });

  it('is lossless: encodePath undoes it for any bytes, and the text is valid UTF-8', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        const name = decodePath(Buffer.from(bytes));
        expect(encodePath(name).equals(Buffer.from(bytes))).toBe(true);
        expect(Buffer.from(name, 'utf8').toString('utf8')).toBe(name); // no lone surrogate
      }),
      { numRuns: 5000 },
    );
  });
});
