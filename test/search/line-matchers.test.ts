// An expression's line matcher searches only the runs of a line that can hold a match (the
// characters the expression consumes, around its anchor): it must find exactly what RE2 finds on
// the whole line — on real source lines, minified lines of 100 KB and more, and lines made to
// probe the edges (\b and ^ $ at a run's ends, case folding beyond ASCII, surrogate pairs).
import fs from 'node:fs';
import path from 'node:path';
import { RE2JS } from 're2js';
import { alphabetOf, regexMatcher, shortestMatch } from '../../src/search/line-matchers';

const NODE_MODULES = path.resolve(__dirname, '../../node_modules');
const read = (file: string) => fs.readFileSync(path.join(NODE_MODULES, file), 'utf8').split('\n');
const minified = [...read('ajv/dist/ajv.min.js'), ...read('protobufjs/dist/protobuf.min.js')].filter((l) => l.length > 10_000);
const lines = [
  ...read('typescript/lib/lib.dom.d.ts').slice(0, 5_000),
  ...read('typescript/lib/typescript.js').slice(0, 20_000),
  ...minified,
  'useLayoutEffect useEffect x.useInsertionEffect(', 'useEffect', 'USELAYOUTEFFECT', 'use\u212Aeffect', 'the use\u017Fteffect',
  'a=require("x");b = require("y")', 'throw new TypeError(x)', 'throw  new\tRangeError(', '.prototype.foo = function',
  'xtest test_x test. (test) test', 'xmatch match_x match. (match) match_', 'test', 'Promise<void> Promise<void>;', '\u{1F600}use\u{1F600}Effect useAEffect\u{1F600}',
  'éclairEffect useÉclairEffect', 'readonly', 'a'.repeat(50_000) + ' useFooEffect ' + 'b'.repeat(50_000),
];

const EXPRESSIONS = [
  'use[A-Z]\\w+Effect', 'throw\\snew\\s\\w+Error\\(', '\\.prototype\\.\\w+\\s=\\sfunction', '\\w+\\s*=\\s*require\\(',
  '\\btest\\b', '\\Btest', '\\bmatch\\b', '\\Bmatch', 'match\\B', '^test', 'test$', '^readonly$', 'Promise<\\w+>', '[^"]+Effect', 'use.Effect', 'function\\s+\\w+',
  'use\\PLEffect', 'use[\\x{1F600}]Effect', '(?s)use.+Effect', 'return\\s+\\w+\\.\\w+', 'length\\)\\{',
];

it.each(EXPRESSIONS)('finds what RE2 finds on whole lines, for /%s/ with and without case', (source) => {
  for (const caseSensitive of [false, true]) {
    const re = RE2JS.compile(source, caseSensitive ? 0 : RE2JS.CASE_INSENSITIVE);
    const match = regexMatcher(re, source);
    const whole = regexMatcher(re, source, { wholeLines: true });
    const differ = lines.filter((line) => JSON.stringify(match(line)) !== JSON.stringify(whole(line)));
    expect(differ.map((l) => l.slice(0, 200))).toEqual([]);
    // And the whole-line matcher is RE2's own answer (its first 20 matches).
    for (const line of lines.filter((l) => whole(l).length > 0).slice(0, 50)) {
      const m = re.matcher(line);
      const expected: Array<[number, number]> = [];
      while (expected.length < 20 && m.find()) expected.push([m.start(), m.end()]);
      expect(whole(line)).toEqual(expected);
    }
  }
});

it('finds matches on minified lines and lines with a match in a long run', () => {
  expect(minified.map((l) => l.length > 100_000)).toEqual([true, true]);
  const re = RE2JS.compile('\\w+\\s*=\\s*require\\(', RE2JS.CASE_INSENSITIVE);
  expect(regexMatcher(re, '\\w+\\s*=\\s*require\\(')('a=require("x");b = require("y")')).toEqual([[0, 10], [15, 27]]);
  const long = lines[lines.length - 1];
  const effect = RE2JS.compile('use[A-Z]\\w+Effect', RE2JS.CASE_INSENSITIVE);
  expect(regexMatcher(effect, 'use[A-Z]\\w+Effect')(long)).toEqual([[50_001, 50_013]]);
});

it("reads the characters an expression consumes from RE2's program, with case folding", () => {
  const of = (source: string, flags = RE2JS.CASE_INSENSITIVE) => alphabetOf(RE2JS.compile(source, flags));
  const word = of('use[A-Z]\\w+Effect')!;
  expect([...'azAZ09_\u212A\u017F'].every((c) => word(c.charCodeAt(0)))).toBe(true); // K folds with the Kelvin sign, s with the long s
  expect([...' .(;"\u00e9'].some((c) => word(c.charCodeAt(0)))).toBe(false);
  const sensitive = of('use[A-Z]Effect', 0)!;
  expect([sensitive('q'.charCodeAt(0)), sensitive('Q'.charCodeAt(0)), sensitive('u'.charCodeAt(0)), sensitive('a'.charCodeAt(0))]).toEqual([false, true, true, false]);
  expect(of('a.b')).toBeNull(); // `.` consumes anything: no run to narrow to
  expect(of('(?s)a.b')).toBeNull();
  const notQuote = of('[^"]+x')!;
  expect([notQuote('"'.charCodeAt(0)), notQuote('a'.charCodeAt(0)), notQuote(0xd83d)]).toEqual([false, true, true]); // a surrogate half: astral characters are in
  expect(of('abc')!(0xd83d)).toBe(false);
  expect(of('x[\\x{1F600}]')!(0xd83d)).toBe(true);
});

it("knows the fewest characters a match consumes, from RE2's program (a shorter run is not searched)", () => {
  const shortest = (source: string) => shortestMatch(RE2JS.compile(source, RE2JS.CASE_INSENSITIVE));
  expect(['use[A-Z]\\w+Effect', 'a|bc', 'x*', '(ab){3,}', '\\bfoo\\b', 'a?b{2}', '[\\x{1F600}]', '^$', 'throw\\snew\\s\\w+Error\\('].map(shortest)).toEqual([11, 1, 0, 6, 3, 2, 1, 0, 17]);
  // `useEffect` (9 characters) holds the anchor but is shorter than any match: found nothing, like RE2 on the whole line.
  const re = RE2JS.compile('use[A-Z]\\w+Effect', RE2JS.CASE_INSENSITIVE);
  expect(regexMatcher(re, 'use[A-Z]\\w+Effect')('useEffect(() => {}); useLayoutEffect(f)')).toEqual([[21, 36]]);
});
