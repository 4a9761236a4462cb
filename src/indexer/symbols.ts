// Symbol definitions of a file: oxc-parser for TypeScript / TSX / JavaScript (oxc-symbols.ts),
// tree-sitter for the other languages and for TS/JS files with syntax errors, which tree-sitter
// recovers from (tree-sitter-symbols.ts). Both give the same symbols for the same file.
import type { ExtractedSymbol } from './extracted-symbol';
import type { GrammarId } from './languages';
import { OXC_GRAMMARS, oxcSymbols } from './oxc-symbols';
import { treeSitterSymbols } from './tree-sitter-symbols';

export type { ExtractedSymbol };

/** Files whose text looks minified or generated (very long lines) are indexed without symbols. */
export function worthParsing(content: string): boolean {
  if (content.length < 16_384) return true;
  let lines = 1;
  for (let i = content.indexOf('\n'); i >= 0; i = content.indexOf('\n', i + 1)) lines++;
  return content.length / lines < 400;
}

/**
 * Definitions in `content` (of a file at `path`, which tells a .d.ts), in source order. `native:
 * false` leaves oxc out (it crashed on this file: see parse-pool.ts).
 */
export async function extractSymbols(grammar: GrammarId, content: string, path?: string, opts: { native?: boolean } = {}): Promise<ExtractedSymbol[]> {
  if (!worthParsing(content)) return [];
  if (OXC_GRAMMARS.has(grammar) && opts.native !== false) {
    const symbols = oxcSymbols(grammar, content, path);
    if (symbols) return symbols;
  }
  return treeSitterSymbols(grammar, content);
}
