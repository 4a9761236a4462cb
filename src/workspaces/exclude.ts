// A synced workspace's exclude patterns (CONTRACT §13): globs with `*` and `?`, matched
// case-insensitively against the whole repo slug. Compiled once to one anchored expression.

export const MAX_EXCLUDE_PATTERNS = 100;
export const MAX_PATTERN_LENGTH = 200;

/** Why the patterns are not acceptable, or null. */
export function excludeProblem(patterns: string[]): string | null {
  if (patterns.length > MAX_EXCLUDE_PATTERNS) return `exclude: at most ${MAX_EXCLUDE_PATTERNS} patterns`;
  for (const p of patterns) {
    if (p.trim() === '') return 'exclude: a pattern must not be empty';
    if (p.length > MAX_PATTERN_LENGTH) return `exclude: a pattern must be at most ${MAX_PATTERN_LENGTH} characters`;
    if (/[\u0000-\u001f]/.test(p)) return 'exclude: a pattern must not contain control characters';
  }
  return null;
}

/** A predicate on slugs: true when any pattern matches the whole slug. */
export function excluder(patterns: readonly string[]): (slug: string) => boolean {
  if (patterns.length === 0) return () => false;
  const alternatives = patterns.map((p) => p.trim().split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&'))).join(''));
  const re = new RegExp(`^(?:${alternatives.join('|')})$`, 'is');
  return (slug) => re.test(slug);
}
