// Against the run's PostgreSQL: a search over several repos reads posting lists only from the
// segments whose trigram Bloom filter admits its plan, and file names only from the generations
// whose path filter does — and with the segments' 4-gram filters fewer still — and finds exactly
// what it finds with the filters off. Segments and generations written before the filters (NULL)
// are never skipped; merged segments and incremental generations get filters too.
import type { DataSource } from 'typeorm';
import { indexCommit } from '../../src/indexer';
import { queryKeys } from '../../src/indexer/blocks';
import { closeParsePools } from '../../src/indexer/parse-pool';
import { quadKeys } from '../../src/indexer/quadgrams';
import { bloomHas, parseBloom } from '../../src/indexer/trigram-bloom';
import { codeSearch, type CodeSearchAnswer, type SearchRepo } from '../../src/search/code-search';
import { clearFileCache } from '../../src/search/file-cache';
import { clearFilterCache, filterCacheStats } from '../../src/search/filter-cache';
import { parseSearchQuery } from '../../src/search/query';
import { FILTER_KEYS, literalPlan, mayMatch, regexPlan, type Plan } from '../../src/search/trigram-plan';
import { createRepoRow, openTestDb, Origin } from '../indexer/helpers';
import { recording, type Statement } from './recorded-statements';

let ds: DataSource;
const repos: SearchRepo[] = [];
const origins: Origin[] = [];
const clones: string[] = [];

/** A repo's files: a needle of its own (in a file and a path), words all repos share, filler. */
function filesOf(i: number): Record<string, string> {
  const files: Record<string, string> = {};
  for (let f = 0; f < 12; f++) {
    files[`src/module${f}/part${f}.ts`] = `// shared header of every repo\nexport function sharedWidget${f}(x: number) {\n  return x * ${i + f} + ${f};\n}\n${'const filler = "lorem ipsum dolor sit amet";\n'.repeat(f + 1)}`;
  }
  files[`src/needle${i}/findme-${i}-path.ts`] = `export const marker = "uniqueNeedle${i}Quux";\nexport const colour${i} = "teal";\n`;
  return files;
}

type SearchOptions = NonNullable<Parameters<typeof codeSearch>[5]> & { limit?: number };

/** The search as /v1/search runs it (limit 200 unless given), with every statement it sent (the generations' files not kept from a search before). */
async function searchWith(q: string, opts: SearchOptions = {}, scope: SearchRepo[] = repos): Promise<{ answer: CodeSearchAnswer; statements: Statement[] }> {
  const statements: Statement[] = [];
  clearFileCache();
  const { limit = 200, ...options } = opts;
  const answer = await ds.transaction('REPEATABLE READ', (m) => codeSearch(recording(m, statements), scope, q, limit, 10_000, options));
  return { answer, statements };
}

/** The segment ids the candidates statement was given (those looked up with every key, and those of (segment, key) pairs). */
function candidateSegments(statements: Statement[]): Set<string> | null {
  const s = statements.find((x) => /AS segment_id/.test(x.sql));
  return s ? new Set([...(s.params[1] as string[]), ...(s.params[3] as string[])].map(String)) : null;
}

/** The generations whose files the file-name pass read (the first statement that reads files: the pass comes before the lines'). */
function pathGenerations(statements: Statement[]): Set<string> | null {
  const s = statements.find((x) => /FROM index_entries\s+WHERE generation_id = k\.generation_id AND type = 'file'/.test(x.sql));
  return s ? new Set((s.params[1] as string[]).map(String)) : null;
}

function planOf(q: string): Plan {
  const p = parseSearchQuery(q).pattern!;
  return p.kind === 'literal' ? literalPlan(p.text, FILTER_KEYS) : regexPlan(p.source, FILTER_KEYS);
}

/** Segments of the repos whose filter admits the plan (every trigram of it), read from the database (NULL: admitted). */
async function admittedSegments(plan: Plan, scope: SearchRepo[] = repos): Promise<{ admitted: Set<string>; total: number }> {
  const rows = (await ds.query(`SELECT id, trigram_bloom FROM index_segments WHERE repo_id = ANY($1::uuid[])`, [scope.map((r) => r.id)])) as Array<{ id: string; trigram_bloom: Buffer | null }>;
  const admitted = new Set<string>();
  for (const r of rows) {
    const f = parseBloom(r.trigram_bloom);
    if (!f || mayMatch(plan, (k) => bloomHas(f, k))) admitted.add(String(r.id));
  }
  return { admitted, total: rows.length };
}

/** The 4-grams of the segment's blobs' text that its 4-gram filter lacks (none: no false negatives). */
async function quadsMissing(segment: string): Promise<string[]> {
  const [row] = (await ds.query(`SELECT quad_bloom FROM index_segments WHERE id = $1`, [segment])) as Array<{ quad_bloom: Buffer | null }>;
  const f = parseBloom(row.quad_bloom);
  if (!f) return ['(no 4-gram filter)'];
  const blobs = (await ds.query(
    `SELECT DISTINCT convert_from(x.content, 'UTF8') AS text FROM index_blocks b JOIN index_blobs x ON x.repo_id = b.repo_id AND x.sha = b.sha WHERE b.segment_id = $1`,
    [segment],
  )) as Array<{ text: string }>;
  const missing: string[] = [];
  for (const { text } of blobs) for (let i = 0; i + 4 <= text.length; i++) if (!quadKeys(text.slice(i, i + 4)).every((k) => bloomHas(f, k))) missing.push(text.slice(i, i + 4));
  return missing;
}

const strip = (a: CodeSearchAnswer) => ({ results: a.results, stats: a.stats });

beforeAll(async () => {
  ds = await openTestDb();
  for (let i = 0; i < 5; i++) {
    const id = await createRepoRow(ds);
    repos.push({ id, name: `bloom/repo-${i}` });
    const origin = new Origin().write(filesOf(i));
    const head = origin.commit();
    const clone = origin.clone();
    origins.push(origin);
    clones.push(clone);
    // Small batches: several segments per repo, so segments of one repo are pruned apart too.
    await indexCommit(ds, { repoId: id, gitDir: clone, commit: head, batchFiles: 4 });
  }
  clearFilterCache();
}, 120_000);

afterAll(async () => {
  await ds?.destroy();
  await closeParsePools();
});

it('writes a filter with every segment and every generation, holding each key of its posting lists', async () => {
  const segs = (await ds.query(`SELECT s.id, s.trigram_bloom, array_agg(k) AS keys FROM index_segments s JOIN index_postings p ON p.segment_id = s.id, unnest(p.keys) AS k
                                 WHERE s.repo_id = ANY($1::uuid[]) GROUP BY s.id`, [repos.map((r) => r.id)])) as Array<{ id: string; trigram_bloom: Buffer | null; keys: number[] }>;
  expect(segs.length).toBeGreaterThanOrEqual(repos.length * 3);
  for (const s of segs) {
    const f = parseBloom(s.trigram_bloom);
    expect(f).not.toBeNull();
    expect([s.id, s.keys.filter((k) => !bloomHas(f!, k))]).toEqual([s.id, []]);
  }
  const gens = await ds.query(`SELECT count(*)::int AS n FROM index_generations WHERE repo_id = ANY($1::uuid[]) AND state = 'active' AND path_bloom IS NOT NULL`, [repos.map((r) => r.id)]);
  expect(gens[0].n).toBe(repos.length);
  // And a 4-gram filter holding every 4-gram of its blobs' text.
  for (const s of segs) expect([s.id, await quadsMissing(s.id)]).toEqual([s.id, []]);
});

it('reads candidates only from the segments whose filter admits the plan, and finds what it found without filters', async () => {
  const queries = ['uniqueNeedle3Quux', 'uniqueneedle1', 'sharedWidget7', 'lorem ipsum', 'colour2', '/uniqueNeedle[24]Quux/', '/colou?r\\d = "teal"/', 'file:needle sharedWidget', 'qz', 'ee', 'neverAnywhereZzq'];
  let pruned = 0;
  for (const q of queries) {
    const off = await searchWith(q, { filters: false });
    const on = await searchWith(q);
    expect([q, strip(on.answer)]).toEqual([q, strip(off.answer)]);
    const { admitted, total } = await admittedSegments(planOf(q));
    const read = candidateSegments(on.statements) ?? new Set<string>();
    // The candidates statement is given only segments whose trigram filter admits the plan (the 4-gram filters may leave fewer).
    expect([q, [...read].filter((id) => !admitted.has(id))]).toEqual([q, []]);
    expect(candidateSegments(off.statements)?.size ?? 0).toBe(total);
    pruned += total - read.size;
    // Every statement is still bounded by the scope's repos (or by rows they gave).
    for (const s of on.statements.filter((x) => /index_segments/.test(x.sql))) expect(s.sql).toMatch(/repo_id = ANY\(\$1::uuid\[\]\)|unnest\(\$1::uuid\[\]\) AS r\(id\) JOIN index_segments s ON s\.repo_id = r\.id/);
  }
  expect(pruned).toBeGreaterThan(0);

  // A rare literal: only the segment holding it (and at most a false positive or two) is read.
  const rare = await searchWith('uniqueNeedle3Quux');
  expect(rare.answer.results.map((r) => [r.repo.name, r.path])).toEqual([['bloom/repo-3', 'src/needle3/findme-3-path.ts']]);
  const { total } = await admittedSegments(planOf('uniqueNeedle3Quux'));
  expect(candidateSegments(rare.statements)!.size).toBeLessThanOrEqual(2);
  expect(total).toBeGreaterThan(10);
  // With so few segments left, every trigram of the literal is looked up there, not 6 of them.
  const lookedUp = (statements: Statement[]) => new Set([...(statements.find((x) => /AS segment_id/.test(x.sql))!.params[2] as number[])]).size;
  expect(lookedUp(rare.statements)).toBe(new Set(queryKeys('uniqueNeedle3Quux')!.all).size);
  expect(lookedUp((await searchWith('uniqueNeedle3Quux', { filters: false })).statements)).toBe(6);
  // Nothing anywhere: no posting list is read at all.
  const none = await searchWith('neverAnywhereZzq');
  expect(none.answer.results).toEqual([]);
  expect(candidateSegments(none.statements)).toBeNull();
});

it('reads file names only from the generations whose path filter admits the plan', async () => {
  const q = 'findme-2-path';
  const on = await searchWith(q);
  const off = await searchWith(q, { filters: false });
  expect(strip(on.answer)).toEqual(strip(off.answer));
  expect(on.answer.results.filter((r) => r.line === 0).map((r) => [r.repo.name, r.path])).toEqual([['bloom/repo-2', 'src/needle2/findme-2-path.ts']]);
  expect(pathGenerations(off.statements)!.size).toBe(repos.length);
  expect(pathGenerations(on.statements)!.size).toBeLessThanOrEqual(2);
  // No repo has such a path: the file-name statement does not run.
  expect(pathGenerations((await searchWith('nosuchpathzq')).statements)).toBeNull();
  // file: alone lists files: nothing to test against, every generation is read.
  expect(pathGenerations((await searchWith('file:findme')).statements)!.size).toBe(repos.length);
});

it('loads the filters once: a repeated search reads none again', async () => {
  clearFilterCache();
  const first = await searchWith('sharedWidget3');
  expect(first.statements.some((s) => /trigram_bloom AS filter/.test(s.sql))).toBe(true);
  expect(filterCacheStats().entries).toBeGreaterThan(0);
  const again = await searchWith('uniqueNeedle4Quux');
  expect(again.statements.some((s) => /trigram_bloom AS filter/.test(s.sql))).toBe(false);
  expect(strip(again.answer).results.map((r) => r.repo.name)).toEqual(['bloom/repo-4']);
});

it('never skips segments or generations without a filter (written before there were filters)', async () => {
  const old = repos[1].id;
  await ds.query(`UPDATE index_segments SET trigram_bloom = NULL, quad_bloom = NULL WHERE repo_id = $1`, [old]);
  await ds.query(`UPDATE index_generations SET path_bloom = NULL WHERE repo_id = $1`, [old]);
  clearFilterCache();
  try {
    const oldSegments = (await ds.query(`SELECT id FROM index_segments WHERE repo_id = $1`, [old])).map((r: { id: string }) => String(r.id));
    const on = await searchWith('uniqueNeedle3Quux');
    const read = candidateSegments(on.statements)!;
    expect(oldSegments.every((id: string) => read.has(id))).toBe(true);
    expect(on.answer.results.map((r) => r.repo.name)).toEqual(['bloom/repo-3']);
    const paths = await searchWith('findme-1-path');
    expect(paths.answer.results.filter((r) => r.line === 0).map((r) => r.repo.name)).toEqual(['bloom/repo-1']);
    const gens = pathGenerations(paths.statements)!;
    const [{ id: oldGen }] = await ds.query(`SELECT id FROM index_generations WHERE repo_id = $1 AND state = 'active'`, [old]);
    expect(gens.has(String(oldGen))).toBe(true);

    // An incremental build on a generation without a path filter builds one from its rows.
    origins[1].write({ 'docs/zanzibar-notes.md': '# notes\nfreshly pushed text\n' });
    origins[1].commit();
    const head = Origin.fetch(clones[1]);
    expect((await indexCommit(ds, { repoId: old, gitDir: clones[1], commit: head })).kind).toBe('incremental');
    const [gen] = await ds.query(`SELECT path_bloom FROM index_generations WHERE repo_id = $1 AND state = 'active'`, [old]);
    const f = parseBloom(gen.path_bloom)!;
    expect(f).not.toBeNull();
    for (const p of ['findme-1-path', 'zanzibar-notes', 'module7/part7']) expect([p, mayMatch(literalPlan(p), (k) => bloomHas(f, k))]).toEqual([p, true]);
  } finally {
    clearFilterCache();
  }
});

it('extends the base generation\'s path filter with the paths an incremental build adds, and filters merged segments', async () => {
  const i = 4;
  const id = repos[i].id;
  for (let n = 0; n < 12; n++) {
    origins[i].write({ [`pushed/p${n}/hotfile-${n}.ts`]: `export const pushed${n} = "pushToken${n}Zx";\n` });
    origins[i].commit();
    const head = Origin.fetch(clones[i]);
    expect((await indexCommit(ds, { repoId: id, gitDir: clones[i], commit: head })).kind).toBe('incremental');
    const on = await searchWith(`pushToken${n}Zx`);
    expect(on.answer.results.map((r) => [r.repo.name, r.path])).toEqual([[repos[i].name, `pushed/p${n}/hotfile-${n}.ts`]]);
    const byPath = await searchWith(`hotfile-${n}.ts`);
    expect(byPath.answer.results.filter((r) => r.line === 0).map((r) => r.path)).toEqual([`pushed/p${n}/hotfile-${n}.ts`]);
  }
  // The pushes' small segments were merged (mergeSmallSegments): the merged one has a filter too.
  const segs = (await ds.query(`SELECT s.id, s.trigram_bloom, array_agg(k) AS keys FROM index_segments s JOIN index_postings p ON p.segment_id = s.id, unnest(p.keys) AS k
                                 WHERE s.repo_id = $1 GROUP BY s.id`, [id])) as Array<{ id: string; trigram_bloom: Buffer | null; keys: number[] }>;
  expect(segs.length).toBeLessThan(3 + 12);
  for (const s of segs) {
    const f = parseBloom(s.trigram_bloom)!;
    expect(f).not.toBeNull();
    expect(s.keys.filter((k) => !bloomHas(f, k))).toEqual([]);
    expect([s.id, await quadsMissing(s.id)]).toEqual([s.id, []]);
  }
  for (let n = 0; n < 12; n++) expect((await searchWith(`pushToken${n}Zx`)).answer.results).toHaveLength(1);
});

it('looks up the rest of an expression\'s literal trigrams when its usual 6 leave many blocks, and reads only the blocks holding all', async () => {
  // /abcdefghijlm/ needs 10 trigrams; 6 spread over it are looked up first (abc cde efg fgh hij jlm).
  // 40 files hold just those 6, one the other 4 (so the segment's filter admits it), one the text.
  const files: Record<string, string> = { 'other.txt': 'xbcdx xdefx xghix xijlx\n', 'real.txt': 'the abcdefghijlm here\n' };
  for (let f = 0; f < 40; f++) files[`decoy/d${f}.txt`] = `abc cde efg fgh hij jlm ${f}\n`;
  const id = await createRepoRow(ds);
  const origin = new Origin().write(files);
  const head = origin.commit();
  await indexCommit(ds, { repoId: id, gitDir: origin.clone(), commit: head });
  const one = [{ id, name: 'bloom/refine' }];
  const blocksRead = (statements: Statement[]) =>
    statements.filter((x) => /FROM index_blocks WHERE segment_id = c\.s/.test(x.sql)).reduce((n, x) => n + (x.params[0] as unknown[]).length, 0);
  const lookups = (statements: Statement[]) => statements.filter((x) => /AS segment_id/.test(x.sql)).length;
  const q = '/abcdefghijlm/';
  // A budget that keeps the first lookup at the usual 6 trigrams (10 × 1 segment > 6) but lets the other 4 be looked up after.
  const refined = await searchWith(q, { lookupBudget: 6 }, one);
  const usual = await searchWith(q, { filters: false }, one);
  const upfront = await searchWith(q, {}, one);
  for (const r of [refined, usual, upfront]) expect(r.answer.results.map((x) => [x.path, x.line])).toEqual([['real.txt', 1]]);
  expect([lookups(usual.statements), blocksRead(usual.statements)]).toEqual([1, 41]);
  expect([lookups(refined.statements), blocksRead(refined.statements)]).toEqual([2, 1]);
  // With the default budget, one segment: all 10 trigrams in the first lookup.
  expect([lookups(upfront.statements), blocksRead(upfront.statements)]).toEqual([1, 1]);
});

it('looks up a long literal\'s rarest trigrams (by the segments\' filters) when it cannot look up all of them', async () => {
  // uniqueNeedle3Quux: `le3`, `e3q` and `3qu` are in repo 3's segment only; `uni`, `niq`… in every repo's needle file.
  const q = 'uniqueNeedle3Quux';
  const { statements, answer } = await searchWith(q, { lookupBudget: 6 });
  expect(answer.results.map((r) => r.repo.name)).toEqual(['bloom/repo-3']);
  const keys = statements.find((x) => /AS segment_id/.test(x.sql))!.params[2] as number[];
  expect(keys).toHaveLength(6);
  for (const rare of ['le3', 'e3q', '3qu']) expect(keys).toContain(queryKeys(rare)!.all[0]);
});

it('looks up a common literal in waves of whole repos in name order, and stops once the first repos give the limit', async () => {
  // sharedWidget is in 12 files of every repo: the first wave (repo-0's segments) has more than 5.
  const waves = { oneWaveLookups: 0, firstWave: 1 };
  const all = await searchWith('sharedWidget');
  clearFilterCache();
  const first = await searchWith('sharedWidget', { waves, linesOnly: true, limit: 5 }, [...repos].reverse());
  const lines = all.answer.results.filter((r) => r.line > 0);
  expect(first.answer.results.map((r) => [r.repo.name, r.path, r.line])).toEqual(lines.slice(0, 5).map((r) => [r.repo.name, r.path, r.line]));
  expect(first.answer.stats.truncated).toBe(true);
  // One lookup, of repo-0's segments only (those holding its matches among them).
  const lookups = first.statements.filter((x) => /AS segment_id/.test(x.sql));
  expect(lookups).toHaveLength(1);
  const segmentsOf = async (repo: SearchRepo) => ((await ds.query(`SELECT id FROM index_segments WHERE repo_id = $1`, [repo.id])) as Array<{ id: string }>).map((r) => String(r.id));
  const repo0 = await segmentsOf(repos[0]);
  const read = candidateSegments(lookups)!;
  expect([...read].filter((id) => !repo0.includes(id))).toEqual([]);
  expect(read.size).toBeGreaterThan(0);
  // Only repo-0's segments were tested against their filters: the 4-gram filters read (those of the segments the trigrams admit) are theirs.
  const quadFilters = first.statements.filter((x) => /quad_bloom AS filter/.test(x.sql)).flatMap((x) => (x.params[1] as string[]).map(String));
  expect(quadFilters.length).toBeGreaterThan(0);
  expect(quadFilters.filter((id) => !repo0.includes(id))).toEqual([]);
  // All at once (the default for so few lookups): one statement over every repo's segments.
  expect(all.statements.filter((x) => /AS segment_id/.test(x.sql))).toHaveLength(1);
  const everyRepo = candidateSegments(all.statements)!;
  for (const repo of repos) expect((await segmentsOf(repo)).some((id) => everyRepo.has(id))).toBe(true);
});

it('searches only the repos whose file paths may match a file: pattern, and finds what it finds without filters', async () => {
  // `findme-3-` is in one path of repo-3 only (its trigram `-3-` in no other repo's paths); `export` in every repo's files.
  const q = 'file:findme-3- export';
  const on = await searchWith(q);
  const off = await searchWith(q, { filters: false });
  expect(on.answer.results).toEqual(off.answer.results);
  expect(on.answer.results.map((r) => r.path)).toEqual(['src/needle3/findme-3-path.ts', 'src/needle3/findme-3-path.ts']);
  expect(on.answer.stats.repos).toBe(1);
  expect(off.answer.stats.repos).toBe(repos.length);
  const repo3 = ((await ds.query(`SELECT id FROM index_segments WHERE repo_id = $1`, [repos[3].id])) as Array<{ id: string }>).map((r) => String(r.id));
  for (const id of candidateSegments(on.statements)!) expect(repo3).toContain(id);
});

it("rules out a segment that holds every trigram of a literal but not its 4-grams, before any lookup, and finds what it finds without filters", async () => {
  // The decoy repo's one file holds each trigram of zebraQuokkaNet as a word of its own (its trigram
  // filter admits the literal); the other repo's file holds the literal.
  const literal = 'zebraQuokkaNet';
  const decoyText = Array.from({ length: literal.length - 2 }, (_, i) => literal.slice(i, i + 3)).join(' ');
  const made: SearchRepo[] = [];
  for (const [name, text] of [['bloom/decoy', decoyText], ['bloom/real', `const x = ${literal};`]]) {
    const id = await createRepoRow(ds);
    const origin = new Origin().write({ 'a.txt': `${text}\n` });
    const head = origin.commit();
    await indexCommit(ds, { repoId: id, gitDir: origin.clone(), commit: head });
    made.push({ id, name });
  }
  const decoySegments = ((await ds.query(`SELECT id FROM index_segments WHERE repo_id = $1`, [made[0].id])) as Array<{ id: string }>).map((r) => String(r.id));
  const { admitted } = await admittedSegments(planOf(literal), made);
  expect(decoySegments.every((id) => admitted.has(id))).toBe(true); // the trigrams alone admit the decoy
  for (const q of [literal, `/${literal}\\b/`]) {
    const on = await searchWith(q, {}, made);
    const off = await searchWith(q, { filters: false }, made);
    expect(on.answer.results).toEqual(off.answer.results);
    expect(on.answer.results.map((r) => [r.repo.name, r.path, r.line])).toEqual([['bloom/real', 'a.txt', 1]]);
    const read = candidateSegments(on.statements)!;
    expect([q, decoySegments.filter((id) => read.has(id))]).toEqual([q, []]);
    expect([...(candidateSegments(off.statements) ?? [])].some((id) => decoySegments.includes(id))).toBe(true);
  }
});

it('reads no line when definitions and file names already fill the answer (they rank first)', async () => {
  // Every repo has a path holding `findme` (5 file-name results): with a limit of 3, no line could show.
  const { answer, statements } = await searchWith('findme', { limit: 3 });
  expect(answer.results.map((r) => [r.repo.name, r.line])).toEqual([['bloom/repo-0', 0], ['bloom/repo-1', 0], ['bloom/repo-2', 0]]);
  expect(answer.stats.truncated).toBe(true);
  expect(statements.some((x) => /AS segment_id/.test(x.sql))).toBe(false);
  // With room for lines, they are searched.
  expect((await searchWith('findme')).statements.some((x) => /AS segment_id/.test(x.sql))).toBe(true);
});
