// Pure pieces of the indexer: path rules, languages, word sets, search blocks and line matching.
import { InvalidPathError, normalizeRepoPath } from '../../src/indexer';
import { grammarOf, languageOf } from '../../src/indexer/languages';
import { ancestorsOf, isSkippedPath } from '../../src/indexer/paths';
import { BLOCK_CHARS, MAX_QUERY, queryKeys, textBlocks, unitsInLastBytes, type TextBlock } from '../../src/indexer/blocks';
import { int4ArrayBinary } from '../../src/indexer/copy-binary';
import { escapeLike, findLineMatches } from '../../src/indexer/text';
import { repoKey, wordSet } from '../../src/db/migrations/support/search-blocks-1764300000300';

describe('normalizeRepoPath', () => {
  it.each([
    ['', ''],
    ['/', ''],
    ['./', ''],
    ['src', 'src'],
    ['/src/', 'src'],
    ['src//lib/./a.ts', 'src/lib/a.ts'],
    ['./a/./b/', 'a/b'],
  ])('%j → %j', (input, out) => expect(normalizeRepoPath(input)).toBe(out));

  it.each(['..', '../etc/passwd', 'a/../b', 'a/..', 'a\\b', 'a\0b'])('rejects %j with code invalid_path', (bad) => {
    let err: unknown;
    try {
      normalizeRepoPath(bad);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidPathError);
    expect((err as InvalidPathError).code).toBe('invalid_path');
  });

  it('keeps names that merely contain dots', () => expect(normalizeRepoPath('a/..b/c..')).toBe('a/..b/c..'));
});

describe('skip rules', () => {
  it.each(['node_modules/x/index.js', 'a/node_modules/b.js', 'vendor/lib.go', 'pkg/dist/out.js', 'a/.git/config', 'web/app.min.js', 'x.min.css', 'a.js.map'])(
    'skips %s',
    (p) => expect(isSkippedPath(p)).toBe(true),
  );
  it.each(['src/index.ts', 'distribution/a.ts', 'vendors.ts', 'lib/minify.js', 'dist.ts'])('keeps %s', (p) => expect(isSkippedPath(p)).toBe(false));
  it('lists ancestors nearest first', () => expect(ancestorsOf('a/b/c.ts')).toEqual(['a/b', 'a']));
});

describe('languages', () => {
  it.each([
    ['src/a.ts', 'TypeScript', 'typescript'],
    ['types/a.d.ts', 'TypeScript', 'typescript'],
    ['App.tsx', 'TSX', 'tsx'],
    ['a.js', 'JavaScript', 'javascript'],
    ['a.py', 'Python', 'python'],
    ['main.go', 'Go', 'go'],
    ['A.java', 'Java', 'java'],
    ['lib.rs', 'Rust', 'rust'],
    ['x.c', 'C', 'c'],
    ['x.h', 'C', 'cpp'],
    ['x.cpp', 'C++', 'cpp'],
    ['x.rb', 'Ruby', 'ruby'],
    ['X.cs', 'C#', 'c_sharp'],
    ['README.md', 'Markdown', null],
    ['Dockerfile', 'Dockerfile', null],
    ['Makefile', 'Makefile', null],
  ])('%s is %s', (p, lang, grammar) => {
    expect(languageOf(p)).toBe(lang);
    expect(grammarOf(p, languageOf(p))).toBe(grammar);
  });
  it('unknown extensions have no language', () => expect(languageOf('data.zzzunknown')).toBeNull());
});

describe('text', () => {
  it('word sets hold each word once, ASCII lower-cased, split on underscores like pg_trgm', () => {
    expect(wordSet('Foo foo BAR_baz héllo Ünï')).toBe(' foo bar baz héllo Ünï ');
    expect(wordSet('!!!')).toBe(' ');
  });

  it('escapes LIKE metacharacters', () => expect(escapeLike('100%_a\\b')).toBe('100\\%\\_a\\\\b'));

  it('finds one match per line with 1-based code-point columns', () => {
    const text = 'alpha\n  Beta beta\r\nγδ beta\nnone\nxbeta';
    expect(findLineMatches(text, 'BETA', 10)).toEqual([
      { line: 2, column: 3, preview: '  Beta beta' },
      { line: 3, column: 4, preview: 'γδ beta' },
      { line: 5, column: 2, preview: 'xbeta' },
    ]);
    expect(findLineMatches(text, 'beta', 1)).toHaveLength(1);
    expect(findLineMatches('a.b a*b', 'a*b', 5)).toEqual([{ line: 1, column: 5, preview: 'a.b a*b' }]);
  });

  it('cuts long previews around the match', () => {
    const line = 'x'.repeat(1000) + 'needle' + 'y'.repeat(1000);
    const [m] = findLineMatches(line, 'needle', 1);
    expect(m.column).toBe(1001);
    expect(m.preview.length).toBe(300);
    expect(m.preview).toContain('needle');
  });
});

describe('search blocks', () => {
  const bytes = (s: string) => Buffer.from(s, 'utf8');
  /** The text a search reads for a block, and its own part. */
  const readBack = (content: string, b: TextBlock) => {
    const all = bytes(content);
    return { own: all.subarray(b.start, b.start + b.length).toString('utf8'), read: all.subarray(b.start, b.start + b.length + b.tail).toString('utf8') };
  };
  const has = (b: TextBlock, keys: number[]) => keys.every((k) => b.keys.includes(k));

  it('cuts text into blocks of whole lines, with byte offsets, first lines and a tail of MAX_QUERY - 1 characters', () => {
    const line = 'é'.repeat(10) + 'x'.repeat(88) + '\n'; // 99 characters, 109 bytes
    const content = line.repeat(249);
    const blocks = textBlocks(content);
    // The first line end at or after BLOCK_CHARS characters closes a block: 83 lines of 99.
    expect(blocks.map((b) => [b.start, b.length, b.line, b.lineStart])).toEqual([
      [0, 83 * 109, 1, null],
      [83 * 109, 83 * 109, 84, null],
      [166 * 109, 83 * 109, 167, null],
    ]);
    expect(blocks.map((b) => readBack(content, b).own).join('')).toBe(content);
    for (const b of blocks.slice(0, -1)) expect([...readBack(content, b).read].length - [...readBack(content, b).own].length).toBe(MAX_QUERY - 1);
    expect(blocks[2].tail).toBe(0);
    expect(textBlocks('')).toEqual([{ start: 0, length: 0, tail: 0, line: 1, lineStart: null, keys: new Int32Array(0) }]);
  });

  it('cuts a line too long for a block, never inside a surrogate pair, and remembers where it starts', () => {
    const content = 'ab\n' + 'x'.repeat(BLOCK_CHARS - 2) + '😀' + 'y'.repeat(3 * BLOCK_CHARS) + '\nlast\n';
    const blocks = textBlocks(content);
    // The long line would make the first block too big: it ends before it; then the line is cut.
    expect(blocks[0]).toMatchObject({ start: 0, length: 3, line: 1, lineStart: null });
    expect(blocks[1]).toMatchObject({ start: 3, line: 2, lineStart: null });
    expect(readBack(content, blocks[1]).own).toBe('x'.repeat(BLOCK_CHARS - 2) + '😀'); // the pair stays whole
    expect(blocks.length).toBe(6);
    for (const b of blocks.slice(2, -1)) expect(b).toMatchObject({ line: 2, lineStart: 3 });
    expect(readBack(content, blocks[4]).own.endsWith('y\n')).toBe(true);
    expect(blocks[5]).toMatchObject({ line: 3, lineStart: null });
    expect(readBack(content, blocks[5]).own).toBe('last\n');
    expect(blocks.map((b) => readBack(content, b).own).join('')).toBe(content);
    for (const b of blocks) expect(readBack(content, b).read).not.toContain('\ufffd');
  });

  it('indexes every trigram of a match in the block where the match starts, case-folded as /…/i does', () => {
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    const alphabet = 'abcXYZ01 _.(){}=\n\tñÑ€😀';
    const chars = [...alphabet];
    let content = '';
    while (content.length < 5 * BLOCK_CHARS) content += rnd(40) === 0 ? 'z'.repeat(rnd(3 * BLOCK_CHARS)) : chars[rnd(chars.length)];
    const blocks = textBlocks(content);
    const units: Array<{ from: number; to: number; block: TextBlock }> = [];
    let at = 0;
    for (const b of blocks) {
      const own = readBack(content, b).own;
      units.push({ from: at, to: at + own.length, block: b });
      at += own.length;
    }
    const flip = (s: string) => [...s].map((c) => (rnd(2) ? c.toUpperCase() : c.toLowerCase())).join('');
    let checked = 0;
    for (let i = 0; i < 3000; i++) {
      const p = i < units.length ? units[i].to - 1 : rnd(content.length - 2); // every block end, then anywhere
      let q = content.slice(p, p + 2 + rnd(60));
      if ((q.charCodeAt(q.length - 1) & 0xfc00) === 0xd800) q = q.slice(0, -1);
      if (q.length < 2 || (content.charCodeAt(p) & 0xfc00) === 0xdc00) continue;
      q = flip(q);
      if (!new RegExp(q.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'i').test(content.slice(p, p + q.length))) continue; // a fold /…/i does not apply
      const block = units.find((u) => u.from <= p && p < u.to)!.block;
      const keys = queryKeys(q)!;
      expect(has(block, keys.all)).toBe(true);
      if (keys.any) expect(keys.any.some((k) => block.keys.includes(k))).toBe(true);
      checked++;
    }
    expect(checked).toBeGreaterThan(2500);
  });

  it('query keys: trigrams for three characters or more, any trigram ending with the two for two, none for one', () => {
    expect(queryKeys('x')).toBeNull();
    expect(queryKeys('ab')).toMatchObject({ all: [] });
    expect(queryKeys('ab')!.any).toHaveLength(129);
    expect(queryKeys('abcd')!.all).toHaveLength(2);
    expect(queryKeys('aaaa')!.all).toHaveLength(1);
    expect(queryKeys('FooBar')).toEqual(queryKeys('fOObAR'));
    // Non-ASCII characters share one class: which of them /…/i folds together is Unicode's business.
    expect(queryKeys('xÄÖÜ')).toEqual(queryKeys('xäöü'));
    expect(queryKeys('xäöü')).toEqual(queryKeys('x日本語'));
    // ASCII never matches non-ASCII without the u flag (the Kelvin sign is not a k): apart they stay.
    expect(/k/i.test('\u212a')).toBe(false);
    expect(queryKeys('ok\u212a')).not.toEqual(queryKeys('okk'));
  });

  it('repo keys are negative (apart from trigram keys) and one per repo', () => {
    const a = '0f5d2b9e-3c1a-4e7b-9a55-1c2d3e4f5a6b';
    expect(repoKey(a)).toBeLessThan(0);
    expect(repoKey(a)).toBe(repoKey(a.toUpperCase()));
    expect(repoKey(a)).not.toBe(repoKey('1f5d2b9e-3c1a-4e7b-9a55-1c2d3e4f5a6b'));
  });

  it('sends keys as a binary int4[]', () => {
    expect(int4ArrayBinary([1, -2])).toEqual(Buffer.from([0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 23, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 1, 0, 0, 0, 4, 255, 255, 255, 254]));
    expect(int4ArrayBinary([])).toEqual(Buffer.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 23]));
  });

  it('counts the last UTF-8 bytes of a text back into code units', () => {
    expect(unitsInLastBytes('aé😀b', 0)).toBe(0);
    expect(unitsInLastBytes('aé😀b', 1)).toBe(1);
    expect(unitsInLastBytes('aé😀b', 5)).toBe(3);
    expect(unitsInLastBytes('aé😀b', 7)).toBe(4);
    expect(unitsInLastBytes('aé😀b', 99)).toBe(5);
  });

  it('line matching ignores matches that start at or after `end`', () => {
    expect(findLineMatches('ab\nxab\nab', 'AB', 10, 4)).toEqual([{ line: 1, column: 1, preview: 'ab' }]);
    expect(findLineMatches('ab\nxab\nab', 'AB', 10, 5)).toHaveLength(2);
  });
});
