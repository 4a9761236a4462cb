// Which blocks can hold a match, as a boolean query over the search index's trigram keys — the
// approach of Russ Cox's "Regular Expression Matching with a Trigram Index" (Google Code Search,
// Zoekt), kept conservative: every rule below only states what each match must contain, so a
// block the plan rules out can never hold a match (test/search/trigram-plan.test.ts checks this on
// real source lines). Literal runs of the expression become exact strings (small sets of them
// through alternations, classes of a few characters and `?`), and exact strings become the AND of
// their trigrams; what cannot be known (`.`, big classes, `*`) asks for nothing.
import { queryKeys } from '../indexer/blocks';
import { InvalidSearchQuery } from './query';

export type Plan = { op: 'all' } | { op: 'and' | 'or'; of: Plan[] } | { op: 'key'; key: number };

export const ALL: Plan = { op: 'all' };

export function and(of: Plan[]): Plan {
  const flat = of.flatMap((p) => (p.op === 'and' ? p.of : p.op === 'all' ? [] : [p]));
  return flat.length === 0 ? ALL : flat.length === 1 ? flat[0] : { op: 'and', of: flat };
}

export function or(of: Plan[]): Plan {
  if (of.length === 0 || of.some((p) => p.op === 'all')) return ALL;
  const flat = of.flatMap((p) => (p.op === 'or' ? p.of : [p]));
  return flat.length === 1 ? flat[0] : { op: 'or', of: flat };
}

/**
 * Trigrams of a long literal looked up, at most: spread over it (the first, the last, and evenly
 * between), they rule out about as much as all of them, for a fraction of the lookups (one per
 * trigram and segment left in scope). Testing a segment's Bloom filter costs no lookup: that plan
 * (FILTER_KEYS) takes every trigram, whose rarest ones rule out most segments.
 */
export const MAX_LITERAL_KEYS = 6;
export const FILTER_KEYS = Infinity;

function spread<T>(items: T[], max: number): T[] {
  if (items.length <= max) return items;
  return Array.from({ length: max }, (_, i) => items[Math.round((i * (items.length - 1)) / (max - 1))]);
}

/** What a literal's matches contain: its trigrams (`maxKeys` of a long one's; a 2-character literal: one of its 129). */
export function literalPlan(text: string, maxKeys = MAX_LITERAL_KEYS): Plan {
  const keys = queryKeys(text);
  if (!keys) return ALL;
  const all = spread(keys.all, maxKeys).map((key): Plan => ({ op: 'key', key }));
  if (keys.any) all.push(or(keys.any.map((key): Plan => ({ op: 'key', key }))));
  return and(all);
}

/** Every trigram key a plan mentions. */
export function planKeys(plan: Plan, into = new Set<number>()): Set<number> {
  if (plan.op === 'key') into.add(plan.key);
  else if (plan.op !== 'all') for (const p of plan.of) planKeys(p, into);
  return into;
}

/**
 * Whether a text whose trigram keys may include exactly those `has` admits can satisfy the plan
 * (a segment's or a generation's Bloom filter: false means it certainly cannot).
 */
export function mayMatch(plan: Plan, has: (key: number) => boolean): boolean {
  if (plan.op === 'all') return true;
  if (plan.op === 'key') return has(plan.key);
  if (plan.op === 'and') return plan.of.every((p) => mayMatch(p, has));
  return plan.of.some((p) => mayMatch(p, has));
}

/**
 * The plan over one segment: `lists` gives each key's ascending block ordinals (decoded when first
 * asked for), `size` a cheap estimate of a list's length; null = every block. An AND looks at its
 * smallest parts first and stops at the first empty intersection, so a rare literal decodes little.
 */
export function evaluate(plan: Plan, lists: (key: number) => number[], size: (plan: Plan) => number = () => 0): number[] | null {
  if (plan.op === 'all') return null;
  if (plan.op === 'key') return lists(plan.key);
  if (plan.op === 'or') {
    const parts = plan.of.map((p) => evaluate(p, lists, size));
    return parts.some((p) => p === null) ? null : unionSorted(parts as number[][]);
  }
  let acc: number[] | null = null;
  for (const part of [...plan.of].sort((a, b) => size(a) - size(b))) {
    const found = evaluate(part, lists, size);
    if (found === null) continue;
    acc = acc === null ? found : intersectSorted([acc, found]);
    if (acc.length === 0) return acc;
  }
  return acc;
}

/** The numbers in any list (each ascending), ascending: merged, not sorted again (an OR of a common trigram's long list and a rare one's empty list is the long one). */
function unionSorted(lists: number[][]): number[] {
  return lists.filter((l) => l.length > 0).reduce((a, b) => (a.length === 0 ? b : mergeSorted(a, b)), []);
}

function mergeSorted(a: number[], b: number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = j >= b.length || (i < a.length && a[i] <= b[j]) ? a[i++] : b[j++];
    if (out.length === 0 || out[out.length - 1] !== x) out.push(x);
  }
  return out;
}

/**
 * The numbers in every list (each ascending): the shortest's, each looked up by binary search in
 * the others from where the last one was found — no Set of a common trigram's long list is built.
 */
function intersectSorted(lists: number[][]): number[] {
  const [shortest, ...others] = [...lists].sort((a, b) => a.length - b.length);
  let acc = shortest;
  for (const other of others) {
    const kept: number[] = [];
    let from = 0;
    for (const x of acc) {
      let lo = from;
      let hi = other.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (other[mid] < x) lo = mid + 1;
        else hi = mid;
      }
      from = lo;
      if (other[lo] === x) kept.push(x);
    }
    acc = kept;
    if (acc.length === 0) break;
  }
  return acc;
}

// ---------------------------------------------------------------- the expression, as far as it matters

/**
 * Exact strings a node matches (small sets only), or what its matches must contain: `plan` for
 * the index, and `musts` for a line — each a set of strings of which the line holds one.
 */
interface Info {
  exact: Set<string> | null;
  plan: Plan;
  musts?: Array<Set<string>>;
}

const MAX_EXACT = 64;
const MAX_CLASS_CHARS = 8;
const anything: Info = { exact: null, plan: ALL };
const empty = (): Info => ({ exact: new Set(['']), plan: ALL });

function planOf(info: Info, maxKeys: number): Plan {
  return info.exact ? or([...info.exact].map((x) => literalPlan(x, maxKeys))) : info.plan;
}

function mustsOf(info: Info): Array<Set<string>> {
  return info.exact ? [info.exact] : (info.musts ?? []);
}

function concat(items: Info[], maxKeys: number): Info {
  // Runs of exact neighbours multiply out (`ab(c|d)e` → abce, abde); a run ends at an unknown.
  const plans: Plan[] = [];
  const musts: Array<Set<string>> = [];
  let run: Set<string> | null = new Set(['']);
  const flush = () => {
    if (run) {
      plans.push(planOf({ exact: run, plan: ALL }, maxKeys));
      musts.push(run);
    }
    run = new Set(['']);
  };
  let allExact = true;
  for (const item of items) {
    if (item.exact && run && run.size * item.exact.size <= MAX_EXACT) {
      const next = new Set<string>();
      for (const a of run) for (const b of item.exact) next.add(a + b);
      run = next;
      continue;
    }
    allExact = false;
    flush();
    if (item.exact) run = new Set(item.exact);
    else {
      plans.push(item.plan);
      musts.push(...(item.musts ?? []));
    }
  }
  if (allExact) return { exact: run, plan: ALL };
  flush();
  return { exact: null, plan: and(plans), musts };
}

function alternate(items: Info[], maxKeys: number): Info {
  if (items.every((i) => i.exact)) {
    const union = new Set(items.flatMap((i) => [...i.exact!]));
    if (union.size <= MAX_EXACT) return { exact: union, plan: ALL };
  }
  return { exact: null, plan: or(items.map((i) => planOf(i, maxKeys))) };
}

/**
 * The characters RE2's case-insensitive matching folds across ASCII and beyond, each with what it
 * matches (as the index files them: the ASCII letter, and the other under another class): k, K and
 * the Kelvin sign (U+212A); s, S and the long s (U+017F).
 */
const FOLDS_BEYOND_ASCII: Record<string, [string, string]> = {
  k: ['k', '\u212a'],
  K: ['k', '\u212a'],
  '\u212a': ['k', '\u212a'],
  s: ['s', '\u017f'],
  S: ['s', '\u017f'],
  '\u017f': ['s', '\u017f'],
};

class RegexReader {
  private i = 0;
  constructor(
    private readonly src: string,
    private readonly maxKeys = MAX_LITERAL_KEYS,
    /**
     * How k, s, the Kelvin sign and the long s read: as the strings they match (k or the Kelvin
     * sign, s or the long s: a plan of trigrams ORs both), or as anything (for required strings,
     * which must be plain ASCII to be looked for by V8's case-insensitive search, which does not
     * fold them so).
     */
    private readonly foldVariants = false,
  ) {}

  /** A plain character: itself, or, for those folding beyond ASCII, what it matches (see foldVariants). */
  private char(c: string): Info {
    const folds = FOLDS_BEYOND_ASCII[c];
    if (!folds) return { exact: new Set([c]), plan: ALL };
    return this.foldVariants ? { exact: new Set(folds), plan: ALL } : anything;
  }

  read(): Info {
    const info = this.alternation();
    if (this.i < this.src.length) throw new InvalidSearchQuery(`Unexpected ${this.src[this.i]} in the regular expression.`);
    return info;
  }

  private alternation(): Info {
    const branches = [this.sequence()];
    while (this.src[this.i] === '|') {
      this.i++;
      branches.push(this.sequence());
    }
    return branches.length === 1 ? branches[0] : alternate(branches, this.maxKeys);
  }

  private sequence(): Info {
    const items: Info[] = [];
    while (this.i < this.src.length && this.src[this.i] !== '|' && this.src[this.i] !== ')') items.push(this.repeat(this.atom()));
    return concat(items, this.maxKeys);
  }

  private repeat(atom: Info): Info {
    let info = atom;
    for (;;) {
      const c = this.src[this.i];
      let min: number;
      if (c === '*' || c === '+' || c === '?') {
        this.i++;
        min = c === '+' ? 1 : 0;
        if (c === '?' && info.exact && info.exact.size < MAX_EXACT) info = { exact: new Set([...info.exact, '']), plan: ALL };
        else info = min === 1 ? { exact: null, plan: planOf(info, this.maxKeys), musts: mustsOf(info) } : c === '?' ? info : anything;
      } else if (c === '{' && /^\{\d+(,\d*)?\}/.test(this.src.slice(this.i))) {
        const m = /^\{(\d+)(,\d*)?\}/.exec(this.src.slice(this.i))!;
        this.i += m[0].length;
        min = Number(m[1]);
        info = min >= 1 ? { exact: null, plan: planOf(info, this.maxKeys), musts: mustsOf(info) } : anything;
      } else {
        return info;
      }
      if (this.src[this.i] === '?') this.i++; // lazy: the same strings
    }
  }

  private atom(): Info {
    const c = this.src[this.i++];
    switch (c) {
      case '(':
        return this.group();
      case '[':
        return this.charClass();
      case '.':
        return anything;
      case '^':
      case '$':
        return empty();
      case '\\':
        return this.escape();
      default:
        return this.char(c);
    }
  }

  private group(): Info {
    if (this.src[this.i] === '?') {
      // (?:…), (?P<name>…), (?<name>…), (?flags) and (?flags:…)
      const m = /^\?(?:P?<[A-Za-z0-9_]+>|[a-zA-Z-]*:|[a-zA-Z-]*\))/.exec(this.src.slice(this.i));
      if (!m) throw new InvalidSearchQuery('Unsupported group in the regular expression (lookaround is not RE2).');
      this.i += m[0].length;
      if (m[0].endsWith(')')) return empty(); // (?i): flags only; the index folds case anyway
    }
    const inner = this.alternation();
    if (this.src[this.i] !== ')') throw new InvalidSearchQuery('A ( is not closed in the regular expression.');
    this.i++;
    return inner;
  }

  /** […]: its characters when they are few and plain, else anything. */
  private charClass(): Info {
    let negated = false;
    if (this.src[this.i] === '^') {
      negated = true;
      this.i++;
    }
    const chars = new Set<string>();
    let plain = true;
    let first = true;
    for (;;) {
      if (this.i >= this.src.length) throw new InvalidSearchQuery('A [ is not closed in the regular expression.');
      const c = this.src[this.i];
      if (c === ']' && !first) break;
      first = false;
      if (c === '[' && this.src[this.i + 1] === ':') {
        const end = this.src.indexOf(':]', this.i + 2);
        if (end < 0) throw new InvalidSearchQuery('A [: is not closed in the regular expression.');
        this.i = end + 2;
        plain = false;
        continue;
      }
      if (c === '\\') {
        const next = this.src[this.i + 1] ?? '';
        if (/[A-Za-z0-9]/.test(next)) plain = false; // \d, \pL, \x41 …
        else chars.add(next);
        this.i += 2;
        continue;
      }
      if (this.src[this.i + 1] === '-' && this.src[this.i + 2] !== ']' && this.i + 2 < this.src.length) {
        plain = false; // a range
        this.i += 3;
        continue;
      }
      chars.add(c);
      this.i++;
    }
    this.i++; // ]
    if (negated || !plain || chars.size === 0 || chars.size > MAX_CLASS_CHARS) return anything;
    const exact = new Set<string>();
    for (const ch of chars) {
      const info = this.char(ch);
      if (!info.exact) return anything;
      for (const x of info.exact) exact.add(x);
    }
    return { exact, plan: ALL };
  }

  private escape(): Info {
    const c = this.src[this.i++];
    if (c === undefined) throw new InvalidSearchQuery('The regular expression ends with a lone \\.');
    if (c === 'Q') {
      const end = this.src.indexOf('\\E', this.i);
      const text = this.src.slice(this.i, end < 0 ? undefined : end);
      this.i = end < 0 ? this.src.length : end + 2;
      return concat(
        [...text].map((ch) => this.char(ch)),
        this.maxKeys,
      );
    }
    if (c === 'b' || c === 'B' || c === 'A' || c === 'z') return empty();
    if (c === 'x') {
      const m = /^(\{[0-9A-Fa-f]+\}|[0-9A-Fa-f]{2})/.exec(this.src.slice(this.i));
      if (m) this.i += m[0].length;
      return anything;
    }
    if (c === 'p' || c === 'P') {
      if (this.src[this.i] === '{') this.i = this.src.indexOf('}', this.i) + 1 || this.src.length;
      else this.i++;
      return anything;
    }
    if (/[A-Za-z0-9]/.test(c)) return anything; // \d \w \s \n \t …: a class, or a character the index sees as itself — either way no promise
    return { exact: new Set([c]), plan: ALL }; // an escaped punctuation character (never a letter)
  }
}

/** What every match of the (valid RE2) expression must contain (with at most `maxKeys` trigrams of each literal run). */
export function regexPlan(source: string, maxKeys = MAX_LITERAL_KEYS): Plan {
  return planOf(new RegexReader(source, maxKeys, true).read(), maxKeys);
}

/**
 * A cheap test a line must pass before the expression runs on it: for each set of strings every
 * match contains one of, the line (lower-cased) holds one. Only plain ASCII strings are used
 * (Unicode case folding has more pairs than toLowerCase); the line is lower-cased by V8's
 * toLowerCase, which maps ASCII as ASCII-folding does and never breaks a run of ASCII characters,
 * so it keeps every line ASCII-folding keeps (and is ~30× faster: 0.05 against 1.7 ms for a 100 KB line).
 * Null when there is nothing to test.
 */
export function linePrefilter(source: string): ((line: string) => boolean) | null {
  const usable = requiredStrings(source);
  if (usable.length === 0) return null;
  return (line) => {
    const folded = line.toLowerCase();
    return usable.every((strings) => strings.some((x) => folded.includes(x)));
  };
}

/** Sets of plain ASCII strings (lower-cased) every match holds one of each of. */
export function requiredStrings(source: string): string[][] {
  return mustsOf(new RegexReader(source).read())
    .map((set) => [...set].map(asciiLower))
    .filter((strings) => strings.length > 0 && strings.every((x) => x.length > 0 && /^[\x20-\x7e]+$/.test(x)));
}

/** The longest plain ASCII string every match contains (lower-cased), if any: a text to narrow by in SQL. */
export function requiredLiteral(source: string): string | null {
  const singles = requiredStrings(source).filter((set) => set.length === 1).map(([x]) => x);
  return singles.sort((a, b) => b.length - a.length)[0] ?? null;
}

function asciiLower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}
