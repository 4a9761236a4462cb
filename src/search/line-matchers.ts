// How a search verifies what the index found, line by line: the [start, end) ranges of a literal's
// or an expression's matches in one line, and for an expression a test of a whole text (a block,
// a file) that skips the texts where no line can match. Expressions run on RE2's linear-time
// engine (re2js): no expression can take exponential time.
import { RE2JS } from 're2js';
import { escapeRegExp } from '../indexer/text';
import { requiredLiteral } from './trigram-plan';

/** A matcher of one line: the [start, end) code-unit ranges of its matches, in order. */
export type LineMatcher = (line: string) => Array<[number, number]>;

export function literalMatcher(text: string, caseSensitive: boolean): LineMatcher {
  const re = new RegExp(escapeRegExp(text), caseSensitive ? 'g' : 'gi');
  return (line) => {
    const out: Array<[number, number]> = [];
    re.lastIndex = 0;
    for (let m = re.exec(line); m; m = re.exec(line)) {
      out.push([m.index, m.index + m[0].length]);
      if (out.length >= 20) break;
    }
    return out;
  };
}

export function regexMatcher(re: RE2JS, prefilter: ((line: string) => boolean) | null): LineMatcher {
  return (line) => {
    const out: Array<[number, number]> = [];
    if (prefilter && !prefilter(line)) return out; // most candidate lines lack the expression's literals: no RE2 run
    if (!re.test(line)) return out; // RE2's DFA (3× its matcher's speed); positions only for the lines that match
    const m = re.matcher(line);
    while (m.find() && out.length < 20) {
      out.push([m.start(), m.end()]);
      if (m.end() === m.start() && m.end() >= line.length) break;
    }
    return out;
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
export function anchorOf(source: string): ((text: string) => number[]) | null {
  const literal = requiredLiteral(source);
  if (!literal || literal.length < 3) return null;
  const re = new RegExp(escapeRegExp(literal), 'gi');
  return (text) => {
    const at: number[] = [];
    re.lastIndex = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) at.push(m.index);
    return at;
  };
}
