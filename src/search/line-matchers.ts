// How a search verifies what the index found, line by line: the [start, end) ranges of a literal's
// or an expression's matches in one line, and for an expression a test of a whole text (a block,
// a file) that skips the texts where no line can match. Expressions run on RE2's linear-time
// engine (re2js): no expression can take exponential time.
import { RE2JS } from 're2js';
import { escapeRegExp } from '../indexer/text';
import { linePrefilter, requiredLiteral } from './trigram-plan';

/** A matcher of one line: the [start, end) code-unit ranges of its matches, in order. */
export type LineMatcher = (line: string) => Array<[number, number]>;

/** Matches of one line kept, at most (a preview shows a few). */
const MAX_MATCHES = 20;

export function literalMatcher(text: string, caseSensitive: boolean): LineMatcher {
  const re = new RegExp(escapeRegExp(text), caseSensitive ? 'g' : 'gi');
  return (line) => {
    const out: Array<[number, number]> = [];
    re.lastIndex = 0;
    for (let m = re.exec(line); m; m = re.exec(line)) {
      out.push([m.index, m.index + m[0].length]);
      if (out.length >= MAX_MATCHES) break;
    }
    return out;
  };
}

/**
 * A matcher of an expression's matches in a line. A line that passes the prefilter runs through
 * RE2 — whole, or when the expression has an anchor (see anchorOf) and consumes only some
 * characters (see alphabetOf), only its runs of those characters that hold the anchor, are at
 * least as long as its shortest match and pass the prefilter: every match holds the anchor and
 * lies inside one such run, so these are all the line's matches. On a minified line of 100 KB
 * that is a few hundred bytes, not the whole line: RE2's matcher (a JavaScript NFA) runs at about
 * 1 MB/s there.
 */
export function regexMatcher(
  re: RE2JS,
  source: string,
  opts: { wholeLines?: boolean; anchor?: ReturnType<typeof anchorOf> } = {},
): LineMatcher {
  const prefilter = linePrefilter(source);
  const anchor = opts.anchor !== undefined ? opts.anchor : anchorOf(source); // the caller's, when it has one already
  const alphabet = anchor && !opts.wholeLines ? alphabetOf(re) : null; // wholeLines: as before runs (bench:regex's baseline)
  // A run shorter than any match cannot hold one (`useEffect` for /use[A-Z]\w+Effect/): no RE2 run.
  const shortest = alphabet ? (shortestMatch(re) ?? 0) : 0;
  return (line) => {
    const out: Array<[number, number]> = [];
    if (!anchor || !alphabet) {
      if (prefilter && !prefilter(line)) return out; // most candidate lines lack the expression's literals: no RE2 run
      return matchesIn(re, line, 0, line.length, out);
    }
    let searched = 0;
    for (const at of anchor(line)) {
      if (at < searched || out.length >= MAX_MATCHES) continue; // in the run searched last
      let from = at;
      while (from > 0 && alphabet(line.charCodeAt(from - 1))) from--;
      let to = at;
      while (to < line.length && alphabet(line.charCodeAt(to))) to++;
      searched = to;
      if (to - from < shortest) continue;
      // One character of context each side, which no match can consume: \b, ^ and $ see what the line has there.
      const [start, stop] = [Math.max(0, from - 1), Math.min(line.length, to + 1)];
      // The run holds every required string of a match in it (tested there, not in a whole minified line).
      if (prefilter && !prefilter(line.slice(start, stop))) continue;
      matchesIn(re, line, start, stop, out);
    }
    return out;
  };
}

/** The matches in line[from, to) added to `out` (at most MAX_MATCHES in all), as positions in the line. */
function matchesIn(re: RE2JS, line: string, from: number, to: number, out: Array<[number, number]>): Array<[number, number]> {
  const text = from === 0 && to === line.length ? line : line.slice(from, to);
  if (!re.test(text)) return out; // RE2's DFA (3× its matcher's speed); positions only where it matches
  const m = re.matcher(text);
  while (out.length < MAX_MATCHES && m.find()) {
    out.push([from + m.start(), from + m.end()]);
    if (m.end() === m.start() && m.end() >= text.length) break;
  }
  return out;
}

/** re2js's compiled program: its instructions' opcodes (re2js's Inst) and what a rune instruction matches. */
interface ProgramInst {
  op: number;
  runes: ArrayLike<number>;
  matchRune(rune: number): boolean;
}
const INST = { ALT: 1, ALT_MATCH: 2, CAPTURE: 3, EMPTY_WIDTH: 4, FAIL: 5, MATCH: 6, NOP: 7, RUNE: 8, RUNE1: 9, RUNE_ANY: 10, RUNE_ANY_NOT_NL: 11, LB_WRITE: 12 };

/**
 * The fewest characters (code points: each at least one UTF-16 unit) a match of the expression
 * consumes: the cheapest path from its compiled program's start to a match, a rune instruction
 * costing one and every other nothing (a 0-1 breadth-first search). Null when the program is not
 * what this reads (re2js's internals, or lookbehind): then no shortcut.
 */
export function shortestMatch(re: RE2JS): number | null {
  const prog = (re.re2Input as { prog?: { inst?: unknown; start?: unknown } } | undefined)?.prog;
  const insts = prog?.inst as Array<{ op: number; out: number; arg: number }> | undefined;
  if (!Array.isArray(insts) || typeof prog?.start !== 'number') return null;
  const cost = new Array<number>(insts.length).fill(Infinity);
  const deque: number[] = [prog.start];
  cost[prog.start] = 0;
  // A deque as an array with a moving head: zero-cost edges go to the front, unit ones to the back.
  let head = 0;
  const front: number[] = [];
  while (front.length || head < deque.length) {
    const pc = front.length ? front.pop()! : deque[head++];
    const inst = insts[pc];
    const c = cost[pc];
    if (typeof inst?.op !== 'number') return null;
    const visit = (next: number, step: number) => {
      if (typeof next !== 'number' || next < 0 || next >= insts.length) return;
      if (c + step < cost[next]) {
        cost[next] = c + step;
        (step === 0 ? front : deque).push(next);
      }
    };
    switch (inst.op) {
      case INST.MATCH:
      case INST.FAIL:
        break; // a path's end
      case INST.ALT:
      case INST.ALT_MATCH:
        visit(inst.out, 0);
        visit(inst.arg, 0);
        break;
      case INST.CAPTURE:
      case INST.EMPTY_WIDTH:
      case INST.NOP:
        visit(inst.out, 0);
        break;
      case INST.RUNE:
      case INST.RUNE1:
      case INST.RUNE_ANY:
      case INST.RUNE_ANY_NOT_NL:
        visit(inst.out, 1);
        break;
      default:
        return null; // lookbehind, or an opcode this does not know
    }
  }
  const ends = insts.flatMap((inst, pc) => (inst.op === INST.MATCH ? [cost[pc]] : []));
  const best = Math.min(...ends);
  return Number.isFinite(best) ? best : null;
}

/**
 * The characters the expression's matches can consume, as a test of one UTF-16 code unit: those
 * its compiled program's rune instructions match (with their case folding), both halves of a
 * surrogate pair when one matches a character beyond U+FFFF. Null when any character may be
 * consumed (`.`) or the program is not what this reads (re2js's internals: then no shortcut).
 */
export function alphabetOf(re: RE2JS): ((unit: number) => boolean) | null {
  const insts = (re.re2Input as { prog?: { inst?: unknown } } | undefined)?.prog?.inst;
  if (!Array.isArray(insts)) return null;
  const runes: ProgramInst[] = [];
  for (const inst of insts as ProgramInst[]) {
    if (typeof inst?.op !== 'number' || inst.op >= INST.LB_WRITE) return null;
    if (inst.op === INST.RUNE_ANY || inst.op === INST.RUNE_ANY_NOT_NL) return null;
    if (inst.op === INST.RUNE || inst.op === INST.RUNE1) {
      if (typeof inst.matchRune !== 'function') return null;
      runes.push(inst);
    }
  }
  const astral = runes.some((i) => Array.from(i.runes).some((r) => r >= 0x10000)); // a single rune, or a range's end
  const known = new Uint8Array(0x10000); // 0 not asked yet, 1 in, 2 out
  return (unit) => {
    if (known[unit] === 0) known[unit] = (unit >= 0xd800 && unit <= 0xdfff ? astral : runes.some((i) => i.matchRune(unit))) ? 1 : 2;
    return known[unit] === 1;
  };
}

/**
 * A test of a whole text (a block's lines, a file) that is false only when no line of it can
 * match: the expression in multi-line mode, by RE2's DFA in one pass (1.5–2× faster than line by
 * line, and most candidate blocks of an expression hold no match). A match on a line is a match
 * in the text around it when `^`/`$` mean a line's start and end — not for `\A`, `\z` or flags
 * turned off inline, which get no such test (null).
 */
export function textTester(source: string, caseSensitive: boolean): ((text: string) => boolean) | null {
  if (/\\[Az]|\(\?[a-zA-Z]*-/.test(source)) return null;
  const re = RE2JS.compile(source, RE2JS.MULTILINE | (caseSensitive ? 0 : RE2JS.CASE_INSENSITIVE));
  return (text) => re.test(text.includes('\r') ? text.replace(/\r(?=\n|$)/g, '') : text); // lines are matched without their CR
}

/**
 * Where the expression's longest required string starts in a text (case-insensitively, by V8's
 * string search: a plain literal, linear), or null when it has none of 3 characters or more. A
 * line without one cannot match, so only the lines holding one are run through RE2 — most
 * candidate blocks of `/use[A-Z]\w+Effect/` hold `useEffect`, few lines anything more.
 */
export function anchorOf(source: string): ((text: string, from?: number) => number[]) | null {
  const literal = requiredLiteral(source);
  return literal && literal.length >= 3 ? positionsOf(literal) : null;
}

/** Where a literal starts in a text (from `from` on), case-insensitively (as literalMatcher finds it: its matches are among these). */
export function positionsOf(literal: string): (text: string, from?: number) => number[] {
  const re = new RegExp(escapeRegExp(literal), 'gi');
  return (text, from = 0) => {
    const at: number[] = [];
    re.lastIndex = from;
    for (let m = re.exec(text); m; m = re.exec(text)) at.push(m.index);
    return at;
  };
}
