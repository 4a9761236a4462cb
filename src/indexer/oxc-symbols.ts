// TypeScript / TSX / JavaScript definitions from oxc-parser (a prebuilt native parser, ~4× the
// speed of tree-sitter in WASM here). The walk reproduces what the tree-sitter tags queries of
// tree-sitter-symbols.ts capture for these grammars, so both engines give the same symbols: named
// function, generator and overload declarations, classes, methods (class, object literal,
// interface and type-literal members, abstract ones; plain or private names only), interfaces,
// type aliases, enums, namespaces and `module X`, and top-level `const`s (functions when their
// value is an arrow function or a function expression). A file oxc cannot parse without errors
// returns null: the caller falls back to tree-sitter, which recovers from errors.
//
// oxc-parser is an ES module: it is loaded with require(), which Node.js ≥ 20.19 supports, and
// only in the symbol pool's worker threads (see symbol-pool.ts).
import type { GrammarId } from './languages';
import type { ExtractedSymbol } from './extracted-symbol';

interface OxcNode {
  type: string;
  start: number;
  end: number;
  [key: string]: unknown;
}

interface OxcResult {
  program: OxcNode;
  errors: unknown[];
}

type ParseSync = (filename: string, source: string, options?: Record<string, unknown>) => OxcResult;

let parseSync: ParseSync | null | undefined;

/** oxc's parseSync, or null (said once) when it cannot be loaded: tree-sitter then does TS/JS too. */
function parser(): ParseSync | null {
  if (parseSync === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      parseSync = (require('oxc-parser') as { parseSync: ParseSync }).parseSync;
    } catch (err) {
      parseSync = null;
      process.emitWarning(`oxc-parser could not be loaded (it needs Node.js >= 20.19): TypeScript/JavaScript symbols come from tree-sitter (${(err as Error).message})`);
    }
  }
  return parseSync;
}

export const OXC_GRAMMARS: ReadonlySet<GrammarId> = new Set(['typescript', 'tsx', 'javascript']);

function fileNameFor(grammar: GrammarId, path: string | undefined): string {
  if (grammar === 'javascript') return 'file.jsx'; // JSX is a superset of plain JavaScript
  if (grammar === 'tsx') return 'file.tsx';
  return path?.endsWith('.d.ts') ? 'file.d.ts' : 'file.ts';
}

const MAX_NAME = 200;

/** Definitions in `content` by oxc, or null when the file has syntax errors (or oxc is not available). */
export function oxcSymbols(grammar: GrammarId, content: string, path?: string): ExtractedSymbol[] | null {
  const parse = parser();
  if (!parse) return null;
  const result = parse(fileNameFor(grammar, path), content, {});
  if (result.errors.length) return null;
  const out: ExtractedSymbol[] = [];
  const lines = lineStarts(content);
  const add = (name: OxcNode | null | undefined, kind: string) => {
    if (!name || (name.type !== 'Identifier' && name.type !== 'PrivateIdentifier')) return;
    // As tree-sitter's node.text: `#` of private names kept. (An identifier's span also covers its
    // type annotation, so the text is the name's length from its start.)
    const text = name.type === 'PrivateIdentifier' ? `#${name.name as string}` : (name.name as string);
    if (!text || text.length > MAX_NAME || /\s/.test(text)) return;
    out.push({ name: text, kind, line: lineOf(lines, name.start) });
  };
  const isTs = grammar !== 'javascript';

  const visit = (node: OxcNode): void => {
    switch (node.type) {
      case 'FunctionDeclaration':
      case 'TSDeclareFunction':
        add(node.id as OxcNode | null, 'function');
        break;
      case 'ClassDeclaration':
        add(node.id as OxcNode | null, 'class');
        break;
      case 'MethodDefinition':
      case 'TSAbstractMethodDefinition':
      case 'TSMethodSignature':
        if (!node.computed) add(node.key as OxcNode, 'method');
        break;
      case 'Property':
        if (!node.computed && (node.method || node.kind === 'get' || node.kind === 'set')) add(node.key as OxcNode, 'method');
        break;
      case 'TSInterfaceDeclaration':
        add(node.id as OxcNode, 'interface');
        break;
      case 'TSTypeAliasDeclaration':
        add(node.id as OxcNode, 'type');
        break;
      case 'TSEnumDeclaration':
        add(node.id as OxcNode, 'enum');
        break;
      case 'TSModuleDeclaration':
        if (node.kind === 'namespace') add(node.id as OxcNode, 'namespace');
        else if (node.kind === 'module') add(node.id as OxcNode, 'module');
        break;
    }
    for (const key in node) {
      const v = node[key];
      if (v === null || typeof v !== 'object') continue;
      if (Array.isArray(v)) {
        for (const c of v) if (c !== null && typeof c === 'object' && typeof (c as OxcNode).type === 'string') visit(c as OxcNode);
      } else if (typeof (v as OxcNode).type === 'string') visit(v as OxcNode);
    }
  };
  visit(result.program);

  // Top-level consts: directly in the program, exported, or (TypeScript) declared.
  for (const stmt of result.program.body as OxcNode[]) {
    let decl: OxcNode | null = stmt;
    if (stmt.type === 'ExportNamedDeclaration') decl = stmt.declaration as OxcNode | null;
    if (!decl || decl.type !== 'VariableDeclaration' || decl.kind !== 'const' || (decl.declare && !isTs)) continue;
    for (const d of decl.declarations as OxcNode[]) {
      const init = d.init as OxcNode | null;
      const isFunction = init !== null && (init.type === 'ArrowFunctionExpression' || (init.type === 'FunctionExpression' && !init.generator));
      add(d.id as OxcNode, isFunction ? 'function' : 'const');
    }
  }
  out.sort((a, b) => a.line - b.line || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return out;
}

function lineStarts(content: string): number[] {
  const starts = [0];
  for (let i = content.indexOf('\n'); i >= 0; i = content.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

/** 1-based line of a UTF-16 offset. */
function lineOf(starts: number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo + 1;
}
