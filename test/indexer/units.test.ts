// Pure pieces of the indexer: path rules, languages, the word-set patterns and line matching.
import { InvalidPathError, normalizeRepoPath } from '../../src/indexer';
import { grammarOf, languageOf } from '../../src/indexer/languages';
import { ancestorsOf, isSkippedPath } from '../../src/indexer/paths';
import { escapeLike, findLineMatches, isBinary, wordSet } from '../../src/indexer/text';

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
  it('detects binaries by NUL', () => {
    expect(isBinary(Buffer.from('hello'))).toBe(false);
    expect(isBinary(Buffer.from([0x89, 0x50, 0x00, 0x01]))).toBe(true);
  });

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
