// The query language of CONTRACT §14, parsed: the text to find (a literal, or /…/ an RE2
// expression) and the filters around it (case:yes, file:, -file:, lang:, repo:, sym:). Filters are
// words of the query; everything else, spaces included, is the literal ("oo.bar(" finds "foo.bar(").
// `"…"` quotes a literal that would otherwise read as a filter. Invalid queries throw
// InvalidSearchQuery with a sentence naming the problem (400 invalid_query).
import { RE2JS } from 're2js';

export class InvalidSearchQuery extends Error {
  override name = 'InvalidSearchQuery';
}

export type SearchPattern = { kind: 'literal'; text: string } | { kind: 'regex'; source: string };

export interface SearchQuery {
  /** What lines must contain; null when the query is filters only (sym: alone, or file: alone). */
  pattern: SearchPattern | null;
  caseSensitive: boolean;
  /** Paths must match each (RE2), and none of `fileExclude`. */
  fileInclude: string[];
  fileExclude: string[];
  /** The §7 language, lower-cased. */
  lang: string | null;
  /** Repo names must match (RE2; /v1/search). */
  repo: string | null;
  /** Definitions of symbols whose name contains this. */
  sym: string | null;
}

export const MAX_QUERY_LENGTH = 1000;
const FILTER = /^(-?file|lang|repo|sym|case):(.*)$/s;

/** Compiles an RE2 expression or says why it is not one. */
export function compileRegex(source: string, caseSensitive: boolean, what: string): RE2JS {
  try {
    return RE2JS.compile(source, caseSensitive ? 0 : RE2JS.CASE_INSENSITIVE);
  } catch (err) {
    throw new InvalidSearchQuery(`${what} is not a valid regular expression (RE2 syntax): ${(err as Error).message}`);
  }
}

interface Word {
  word: string;
  quoted: boolean;
  /** Where it stands in the query (its index among the words, and its span in the text). */
  index: number;
  start: number;
  end: number;
}

/** Splits on spaces, keeping "…" together (quotes removed; \" inside). */
function words(q: string): Word[] {
  const out: Word[] = [];
  let i = 0;
  while (i < q.length) {
    if (q[i] === ' ') {
      i++;
      continue;
    }
    if (q[i] === '"') {
      let word = '';
      let j = i + 1;
      for (; j < q.length && q[j] !== '"'; j++) word += q[j] === '\\' && q[j + 1] === '"' ? q[++j] : q[j];
      if (j >= q.length) throw new InvalidSearchQuery('A quoted literal is not closed: add the closing ".');
      out.push({ word, quoted: true, index: out.length, start: i, end: j + 1 });
      i = j + 1;
      continue;
    }
    // /…/ is one word even with spaces inside: it ends at an unescaped / followed by a space or the end.
    if (q[i] === '/') {
      let j = i + 1;
      for (; j < q.length; j++) {
        if (q[j] === '\\') j++;
        else if (q[j] === '/' && (j + 1 === q.length || q[j + 1] === ' ')) break;
      }
      if (j < q.length && j > i + 1) {
        out.push({ word: q.slice(i, j + 1), quoted: false, index: out.length, start: i, end: j + 1 });
        i = j + 1;
        continue;
      }
    }
    let j = i;
    while (j < q.length && q[j] !== ' ') j++;
    out.push({ word: q.slice(i, j), quoted: false, index: out.length, start: i, end: j });
    i = j;
  }
  return out;
}

export function parseSearchQuery(q: string): SearchQuery {
  if (typeof q !== 'string' || q.trim() === '') throw new InvalidSearchQuery('q must not be empty.');
  if (q.length > MAX_QUERY_LENGTH) throw new InvalidSearchQuery(`q must be at most ${MAX_QUERY_LENGTH} characters.`);
  if (q.includes('\0')) throw new InvalidSearchQuery('q must not contain NUL characters.');
  if (/[\r\n]/.test(q)) throw new InvalidSearchQuery('q must be one line: matches are found within a line.');
  const query: SearchQuery = { pattern: null, caseSensitive: false, fileInclude: [], fileExclude: [], lang: null, repo: null, sym: null };
  const rest: Word[] = [];
  for (const w of words(q)) {
    const f = w.quoted ? null : FILTER.exec(w.word);
    if (!f) {
      rest.push(w);
      continue;
    }
    const [, name, value] = f;
    if (value === '') throw new InvalidSearchQuery(`${name}: needs a value (e.g. ${name === 'case' ? 'case:yes' : `${name}:${name === 'lang' ? 'typescript' : 'x'}`}).`);
    if (name === 'case') {
      if (!['yes', 'no'].includes(value.toLowerCase())) throw new InvalidSearchQuery('case: takes yes or no.');
      query.caseSensitive = value.toLowerCase() === 'yes';
    } else if (name === 'file') query.fileInclude.push(value);
    else if (name === '-file') query.fileExclude.push(value);
    else if (name === 'lang') query.lang = value.toLowerCase();
    else if (name === 'repo') query.repo = value;
    else if (name === 'sym') query.sym = value;
  }
  // The text: the words left, as written (a lone /…/ is an expression; anything else a literal).
  if (rest.length === 1 && !rest[0].quoted && rest[0].word.length >= 2 && rest[0].word.startsWith('/') && rest[0].word.endsWith('/')) {
    const source = rest[0].word.slice(1, -1);
    if (source === '') throw new InvalidSearchQuery('The regular expression // is empty.');
    query.pattern = { kind: 'regex', source };
  } else if (rest.length > 0) {
    // Words next to each other keep the spaces typed between them; a filter between two words leaves one space.
    const contiguous = rest.every((w, i) => i === 0 || w.index === rest[i - 1].index + 1) && !rest.some((w) => w.quoted);
    const text = contiguous ? q.slice(rest[0].start, rest[rest.length - 1].end) : rest.map((w) => w.word).join(' ');
    query.pattern = { kind: 'literal', text };
  }
  if (!query.pattern && !query.sym && query.fileInclude.length === 0) throw new InvalidSearchQuery('The query has filters only: add text to find, a file: filter, or sym:.');
  // Every expression must compile (the error names which).
  if (query.pattern?.kind === 'regex') compileRegex(query.pattern.source, query.caseSensitive, `/${query.pattern.source}/`);
  for (const f of query.fileInclude) compileRegex(f, false, `file:${f}`);
  for (const f of query.fileExclude) compileRegex(f, false, `-file:${f}`);
  if (query.repo) compileRegex(query.repo, false, `repo:${query.repo}`);
  return query;
}
