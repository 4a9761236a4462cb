// Against the run's PostgreSQL: sym: answers the first definitions in the order results tie in
// (repo name, path, line), whatever order the repos were created in; a common name is answered from
// the first repos' symbols alone (one statement), a rare one is looked for in every repo; a
// definition answers only from the repo's active generation, under the paths the filters keep.
import type { Statement } from './recorded-statements';
import { SearchedRepos, where } from './searched-repos';

let at: SearchedRepos;
const REPOS = 20;
const name = (i: number) => `sym/r-${String(i).padStart(2, '0')}`;
/** How many repos each statement that looked through symbols was about. */
const symbolReads = (recorded: Statement[]) => recorded.filter((s) => /index_symbols/.test(s.sql)).map((s) => (s.params[0] as unknown[]).length);

beforeAll(async () => {
  at = await SearchedRepos.open();
  // Created last-first: creation order (and ids) are not the order of names.
  for (let i = REPOS - 1; i >= 0; i--) {
    await at.add(name(i), {
      'src/b.ts': `export function parseB${i}() {}\nexport function parseC${i}() {}\n`,
      'src/a.ts': `export function parseA${i}() {}\nexport const parseD${i} = 1;\n`,
      ...(i === 0 ? { 'src/decoy.ts': 'export function parseXundo() {}\n' } : {}),
      ...(i === REPOS - 1 ? { 'src/last.ts': 'export function parse_under() {}\nexport const parseE = 1, parseF = 2;\n', 'src/gone.ts': 'export function goneDefinition() {}\n' } : {}),
    });
  }
}, 300_000);

afterAll(() => at?.close());

it('a common name: the first definitions by repo name, path and line, from the first repos alone', async () => {
  const { answer, recorded } = await at.search('sym:parse');
  // 4 definitions a repo (5 in the first, with its decoy): 50 are r-00 … r-11 and the first of r-12.
  const expected = Array.from({ length: 13 }, (_, i) => [
    `${name(i)}:src/a.ts:1`,
    `${name(i)}:src/a.ts:2`,
    `${name(i)}:src/b.ts:1`,
    `${name(i)}:src/b.ts:2`,
    ...(i === 0 ? [`${name(i)}:src/decoy.ts:1`] : []),
  ]).flat();
  expect(where(answer)).toEqual(expected.slice(0, 50));
  expect(answer.results[0]).toMatchObject({ preview: 'export function parseA0() {}', matches: [[17, 22]] });
  expect(answer.stats.truncated).toBe(true);
  expect(symbolReads(recorded)).toEqual([16]);
});

it('a rare name is looked for in every repo; LIKE wildcards in the text are literal', async () => {
  const { answer, recorded } = await at.search('sym:se_un');
  expect(where(answer)).toEqual([`${name(REPOS - 1)}:src/last.ts:1`]);
  expect(answer.stats.truncated).toBe(false);
  expect(symbolReads(recorded)).toEqual([16, REPOS - 16]);
});

it('file: keeps the definitions under the paths it keeps; a pattern keeps the lines it matches, each once', async () => {
  const filtered = await at.search('sym:parse file:b\\.ts$');
  expect(where(filtered.answer).slice(0, 3)).toEqual([`${name(0)}:src/b.ts:1`, `${name(0)}:src/b.ts:2`, `${name(1)}:src/b.ts:1`]);
  expect(where(filtered.answer)).toHaveLength(40);
  expect(filtered.answer.stats.truncated).toBe(false);
  // Two definitions on one line: one result.
  expect(where((await at.search('sym:parse file:last\\.ts$')).answer)).toEqual([`${name(REPOS - 1)}:src/last.ts:1`, `${name(REPOS - 1)}:src/last.ts:2`]);
  // The lines that match are these definitions' own: each is one result, a definition.
  const withPattern = await at.search('sym:parse const');
  expect(where(withPattern.answer)).toEqual([...Array.from({ length: REPOS }, (_, i) => `${name(i)}:src/a.ts:2`), `${name(REPOS - 1)}:src/last.ts:2`]);
});

it('past the rows a statement may read, the answer ends with the last whole repo read, truncated', async () => {
  // 10 rows: r-00's 5 definitions, r-01's 4, and one of r-02's, which is left out (it may be cut anywhere); no later repo either.
  const { answer } = await at.search('sym:parse', { maxSymbolRows: 10 });
  expect(where(answer)).toEqual([
    ...[':src/a.ts:1', ':src/a.ts:2', ':src/b.ts:1', ':src/b.ts:2', ':src/decoy.ts:1'].map((x) => name(0) + x),
    ...[':src/a.ts:1', ':src/a.ts:2', ':src/b.ts:1', ':src/b.ts:2'].map((x) => name(1) + x),
  ]);
  expect(answer.stats.truncated).toBe(true);
  // A first repo with more than that: what was read of it (which rows, PostgreSQL chooses), in order.
  const first = await at.search('sym:parse', { maxSymbolRows: 3 });
  expect(where(first.answer)).toHaveLength(3);
  expect(where(first.answer)).toEqual([...where(first.answer)].sort());
  expect(where(first.answer).every((w) => w.startsWith(`${name(0)}:`))).toBe(true);
  expect(first.answer.stats.truncated).toBe(true);
});

it("a definition whose file a push removed is no answer: only the active generation's blobs count", async () => {
  expect(where((await at.search('sym:goneDefinition')).answer)).toEqual([`${name(REPOS - 1)}:src/gone.ts:1`]);
  // The repo created first is the last by name.
  await at.push(0, (origin) => origin.remove('src/gone.ts'));
  expect(where((await at.search('sym:goneDefinition')).answer)).toEqual([]);
});
