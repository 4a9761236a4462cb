// A symbol definition as every parser reports it (oxc-symbols.ts, tree-sitter-symbols.ts).
export interface ExtractedSymbol {
  name: string;
  kind: string;
  /** 1-based. */
  line: number;
}
