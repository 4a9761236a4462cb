// The trigram plan of a regular expression may only rule out text that cannot match: checked on
// real source lines (the TypeScript compiler's own sources in node_modules) for expressions of
// every construct, case-insensitive as the search runs them, and that it rules out most lines when
// the expression has a literal of three characters or more; likewise the whole-text test of a block.
import fs from 'node:fs';
import path from 'node:path';
import { RE2JS } from 're2js';
import { queryKeys } from '../../src/indexer/blocks';
import { anchorOf, textTester } from '../../src/search/line-matchers';
import { evaluate, FILTER_KEYS, linePrefilter, literalPlan, planKeys, regexPlan, requiredLiteral, type Plan } from '../../src/search/trigram-plan';

const lines = fs
  .readFileSync(path.resolve(__dirname, '../../node_modules/typescript/lib/lib.dom.d.ts'), 'utf8')
  .split('\n')
  .slice(0, 20_000)
  .concat(['Kelvin \u212A and long \u017Fign', '\u212Aelvin scale', 'a te\u017Ft here', 'DEPRECATED \u212Aeyof', 'ab', 'x', '', 'TEST test TeSt', 'fooXbar fooYbar', 'colour color', 'a long sign', 'kelvin degrees']);

/** Whether the plan lets a line through: its keys are the line's trigrams. */
function admits(plan: Plan, line: string): boolean {
  const keys = new Set(queryKeys(` ${line} `)?.all ?? []);
  const found = evaluate(plan, (key) => (keys.has(key) ? [0] : []));
  return found === null || found.length > 0;
}

const EXPRESSIONS = [
  'interface', 'function\\s+\\w+', 'readonly (\\w+): string', 'colou?r', 'fo+bar', 'foo(X|Y)bar', '(get|set)Attribute',
  'HTML[A-Z]\\w+Element', '^\\s*interface', 'Event$', 'a.b.c', '[Kk]elvin', 'long ſign', '\u212Aelvin', '[\u212A]elvin', 'test', 'TEST', '\\btest\\b',
  'on(click|dblclick|mouse(down|up))', 'x{2,}', '(?i)readonly', '(?:abc)?def', 'ab|cd|ef', '\\Qa.b\\E', '[abc]{3}',
  'addEventListener<K extends keyof', '\\(this: \\w+, ev: \\w+\\)', '[^a-z]+', '.*', 'deprecated', '\\d{3,}', 'é',
  '^interface', 'Event;$', '^\\s*}$', '\\Ainterface', 'readonly\\z', '(?-m:^\\s+)', '(?s)a.b', 'x\\sy',
];

/** The lines in texts of 25 as a search reads them: blocks with LF or CRLF endings, some cut after a CR. */
const texts: Array<{ text: string; lines: string[] }> = [];
for (let i = 0, n = 0; i < lines.length; i += 25, n++) {
  const group = lines.slice(i, i + 25);
  const eol = n % 3 === 0 ? '\r\n' : '\n';
  const text = group.join(eol) + (n % 5 === 0 ? '\r' : '');
  texts.push({ text, lines: group });
}

it.each(EXPRESSIONS)('never rules out a line that /%s/i matches', (source) => {
  const re = RE2JS.compile(source, RE2JS.CASE_INSENSITIVE);
  const plan = regexPlan(source);
  const prefilter = linePrefilter(source) ?? (() => true);
  const missed = lines.filter((line) => re.matcher(line).find() && !admits(plan, line));
  expect(missed).toEqual([]);
  // So does the plan with every trigram of each literal, which search tests Bloom filters with.
  const full = regexPlan(source, FILTER_KEYS);
  expect(lines.filter((line) => re.matcher(line).find() && !admits(full, line))).toEqual([]);
  // The line prefilter, too, lets every matching line through, and so does the required literal (paths are narrowed by it).
  expect(lines.filter((line) => re.matcher(line).find() && !prefilter(line))).toEqual([]);
  const literal = requiredLiteral(source);
  if (literal) expect(lines.filter((line) => re.matcher(line).find() && !line.toLowerCase().includes(literal))).toEqual([]);
  // The anchor (the longest required string, found case-insensitively) is on every line that matches.
  const anchor = anchorOf(source);
  if (anchor) expect(lines.filter((line) => re.matcher(line).find() && anchor(line).length === 0)).toEqual([]);
  // The whole-text test passes every text with a line that matches, case-insensitive or not.
  for (const caseSensitive of [false, true]) {
    const lineRe = RE2JS.compile(source, caseSensitive ? 0 : RE2JS.CASE_INSENSITIVE);
    const mayMatch = textTester(source, caseSensitive);
    if (!mayMatch) continue;
    expect(texts.filter((t) => t.lines.some((line) => lineRe.matcher(line).find()) && !mayMatch(t.text)).map((t) => t.lines)).toEqual([]);
  }
});

it('the whole-text test skips most texts of an expression with a literal, and is left out where a line is not its own text', () => {
  const mayMatch = textTester('HTML[A-Z]\\w+Element', false)!;
  expect(texts.filter((t) => mayMatch(t.text)).length / texts.length).toBeLessThan(0.5);
  expect(texts.filter((t) => mayMatch(t.text)).length).toBeGreaterThan(0);
  for (const source of ['\\Afoo', 'foo\\z', '(?-m)^foo']) expect(textTester(source, false)).toBeNull();
  // The anchor: an expression's longest required string, where it is; none under 3 characters.
  expect(anchorOf('HTML[A-Z]\\w+Element')!('x htmlDivElement y HTMLElement')).toEqual([9, 23]); // element
  expect(anchorOf('ab|cd')).toBeNull();
  expect(anchorOf('\\d+')).toBeNull();
});

it('rules out most lines when the expression holds a literal of three characters or more', () => {
  for (const source of ['function\\s+\\w+', 'HTML[A-Z]\\w+Element', '(get|set)Attribute', 'addEventListener<K extends keyof']) {
    const plan = regexPlan(source);
    const admitted = lines.filter((line) => admits(plan, line)).length;
    expect(admitted / lines.length).toBeLessThan(0.2);
  }
});

it('reads k and s as what they match (k or the Kelvin sign, s or the long s): their trigrams still narrow', () => {
  const plan = regexPlan('test');
  expect(['a test here', 'a te\u017Ft here', 'A TEST'].map((line) => admits(plan, line))).toEqual([true, true, true]);
  // `te` and `t` alone (what a plan ignoring s would ask) are not enough.
  expect(admits(plan, 'the teapot, a tent')).toBe(false);
  expect(admits(regexPlan('[Kk]ey\\.ts$'), 'the keys.js file')).toBe(false);
  expect(admits(regexPlan('[Kk]ey\\.ts$'), 'src/\u212Aey.ts')).toBe(true);
  // A file: pattern's plan, tested against a thousand repos' path filters: two keys, not one per character before `.t`.
  expect(planKeys(regexPlan('\\.ts$', FILTER_KEYS)).size).toBe(2);
});

it('the line prefilter skips most lines for an expression with a literal', () => {
  const prefilter = linePrefilter('HTML[A-Z]\\w+Element')!;
  expect(lines.filter(prefilter).length / lines.length).toBeLessThan(0.2);
  expect(linePrefilter('.*')).toBeNull();
});

it('a literal plan is all of its trigrams; a short one asks nothing', () => {
  expect(literalPlan('ab')).toMatchObject({ op: 'or' });
  expect(literalPlan('a')).toEqual({ op: 'all' });
  expect(admits(literalPlan('readonly'), 'x readonly y')).toBe(true);
  expect(admits(literalPlan('readonly'), 'x read only y')).toBe(false);
  // A long literal: 6 trigrams spread over it are looked up; a Bloom filter is tested with all of them.
  const long = 'addEventListenerOptions';
  const count = (p: Plan): number => (p.op === 'key' ? 1 : p.op === 'all' ? 0 : p.of.reduce((n, q) => n + count(q), 0));
  expect(count(literalPlan(long))).toBe(6);
  expect(count(literalPlan(long, FILTER_KEYS))).toBe(new Set(queryKeys(long)!.all).size);
  expect(admits(literalPlan(long, FILTER_KEYS), `x.${long}(y)`)).toBe(true);
});

it("an AND of posting lists keeps exactly the blocks in every list (the shortest list searched in the others)", () => {
  let seed = 7;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
  for (let round = 0; round < 50; round++) {
    const lists = new Map<number, number[]>();
    for (let key = 1; key <= 4; key++) {
      const size = [0, 3, 40, 2_000][rnd(4)];
      lists.set(key, [...new Set(Array.from({ length: size }, () => rnd(3_000)))].sort((a, b) => a - b));
    }
    const plan: Plan = { op: 'and', of: [1, 2, 3, 4].map((key): Plan => ({ op: 'key', key })) };
    const expected = lists.get(1)!.filter((x) => [2, 3, 4].every((k) => lists.get(k)!.includes(x)));
    expect(evaluate(plan, (key) => lists.get(key)!, (p) => (p.op === 'key' ? lists.get(p.key)!.length : 0))).toEqual(expected);
    // An OR keeps the blocks in any list, ascending, each once.
    const or: Plan = { op: 'or', of: [1, 2, 3, 4].map((key): Plan => ({ op: 'key', key })) };
    expect(evaluate(or, (key) => lists.get(key)!)).toEqual([...new Set([...lists.values()].flat())].sort((a, b) => a - b));
  }
});
