// Symbol definitions by tree-sitter: web-tree-sitter (WASM runtime, trees freed explicitly) with
// prebuilt grammars from @vscode/tree-sitter-wasm (and tree-sitter-c's own .wasm for C). Each
// grammar has one query whose capture names are the symbol kinds; captures of the same node keep
// the most specific kind. The engine of every language but TypeScript / TSX / JavaScript, and of
// those files oxc cannot parse (it recovers from syntax errors); its TS/JS queries are also the
// reference oxc-symbols.ts is compared with (npm run bench:index).
import fs from 'node:fs';
import path from 'node:path';
import { Language, Parser, Query, type Node } from 'web-tree-sitter';
import type { GrammarId } from './languages';
import type { ExtractedSymbol } from './extracted-symbol';


const TS_COMMON = `
(function_declaration name: (identifier) @function)
(generator_function_declaration name: (identifier) @function)
(function_signature name: (identifier) @function)
(class_declaration name: (type_identifier) @class)
(abstract_class_declaration name: (type_identifier) @class)
(method_definition name: [(property_identifier) (private_property_identifier)] @method)
(method_signature name: (property_identifier) @method)
(abstract_method_signature name: (property_identifier) @method)
(interface_declaration name: (type_identifier) @interface)
(type_alias_declaration name: (type_identifier) @type)
(enum_declaration name: (identifier) @enum)
(internal_module name: (identifier) @namespace)
(module name: (identifier) @module)
(program (lexical_declaration kind: "const" (variable_declarator name: (identifier) @const)))
(program (export_statement declaration: (lexical_declaration kind: "const" (variable_declarator name: (identifier) @const))))
(program (ambient_declaration (lexical_declaration kind: "const" (variable_declarator name: (identifier) @const))))
(program (export_statement declaration: (ambient_declaration (lexical_declaration kind: "const" (variable_declarator name: (identifier) @const)))))
`;

const C_COMMON = `
(function_definition declarator: (function_declarator declarator: (identifier) @function))
(function_definition declarator: (pointer_declarator declarator: (function_declarator declarator: (identifier) @function)))
(struct_specifier name: (type_identifier) @struct body: (field_declaration_list))
(union_specifier name: (type_identifier) @struct body: (field_declaration_list))
(enum_specifier name: (type_identifier) @enum body: (enumerator_list))
(type_definition declarator: (type_identifier) @type)
(preproc_def name: (identifier) @macro)
(preproc_function_def name: (identifier) @macro)
`;

const QUERIES: Record<GrammarId, string> = {
  typescript: TS_COMMON,
  tsx: TS_COMMON,
  javascript: `
(function_declaration name: (identifier) @function)
(generator_function_declaration name: (identifier) @function)
(class_declaration name: (identifier) @class)
(method_definition name: [(property_identifier) (private_property_identifier)] @method)
(program (lexical_declaration kind: "const" (variable_declarator name: (identifier) @const)))
(program (export_statement declaration: (lexical_declaration kind: "const" (variable_declarator name: (identifier) @const))))
`,
  python: `
(function_definition name: (identifier) @function)
(class_definition body: (block (function_definition name: (identifier) @method)))
(class_definition body: (block (decorated_definition definition: (function_definition name: (identifier) @method))))
(class_definition name: (identifier) @class)
(module (expression_statement (assignment left: (identifier) @const)))
`,
  go: `
(function_declaration name: (identifier) @function)
(method_declaration name: (field_identifier) @method)
(type_spec name: (type_identifier) @type)
(type_spec name: (type_identifier) @struct type: (struct_type))
(type_spec name: (type_identifier) @interface type: (interface_type))
(const_spec name: (identifier) @const)
`,
  java: `
(class_declaration name: (identifier) @class)
(record_declaration name: (identifier) @class)
(interface_declaration name: (identifier) @interface)
(annotation_type_declaration name: (identifier) @interface)
(enum_declaration name: (identifier) @enum)
(method_declaration name: (identifier) @method)
(constructor_declaration name: (identifier) @constructor)
`,
  rust: `
(function_item name: (identifier) @function)
(impl_item body: (declaration_list (function_item name: (identifier) @method)))
(function_signature_item name: (identifier) @method)
(struct_item name: (type_identifier) @struct)
(union_item name: (type_identifier) @struct)
(enum_item name: (type_identifier) @enum)
(trait_item name: (type_identifier) @trait)
(type_item name: (type_identifier) @type)
(const_item name: (identifier) @const)
(static_item name: (identifier) @const)
(mod_item name: (identifier) @module)
(macro_definition name: (identifier) @macro)
`,
  c: C_COMMON,
  cpp: `${C_COMMON}
(function_definition declarator: (function_declarator declarator: [(field_identifier) (qualified_identifier) (destructor_name) (operator_name)] @method))
(function_definition declarator: (reference_declarator (function_declarator declarator: [(identifier) @function (field_identifier) @method (qualified_identifier) @method])))
(function_definition declarator: (pointer_declarator declarator: (function_declarator declarator: [(field_identifier) (qualified_identifier)] @method)))
(field_declaration_list (function_definition declarator: (function_declarator declarator: (identifier) @method)))
(class_specifier name: (type_identifier) @class body: (field_declaration_list))
(namespace_definition name: (namespace_identifier) @namespace)
(alias_declaration name: (type_identifier) @type)
`,
  ruby: `
(method name: (_) @method)
(singleton_method name: (_) @method)
(class name: [(constant) (scope_resolution)] @class)
(module name: [(constant) (scope_resolution)] @module)
(program (assignment left: (constant) @const))
(body_statement (assignment left: (constant) @const))
`,
  c_sharp: `
(class_declaration name: (identifier) @class)
(record_declaration name: (identifier) @class)
(interface_declaration name: (identifier) @interface)
(struct_declaration name: (identifier) @struct)
(enum_declaration name: (identifier) @enum)
(method_declaration name: (identifier) @method)
(constructor_declaration name: (identifier) @constructor)
(delegate_declaration name: (identifier) @type)
(namespace_declaration name: _ @namespace)
(file_scoped_namespace_declaration name: _ @namespace)
`,
};

/** A capture of the same name node under two patterns keeps the kind ranked first here. */
const KIND_RANK: Record<string, number> = { constructor: 0, method: 1, struct: 2, interface: 2, function: 3, class: 3, type: 4, const: 5 };

const WASM_FILES: Record<GrammarId, () => string> = {
  typescript: () => vscodeWasm('typescript'),
  tsx: () => vscodeWasm('tsx'),
  javascript: () => vscodeWasm('javascript'),
  python: () => vscodeWasm('python'),
  go: () => vscodeWasm('go'),
  java: () => vscodeWasm('java'),
  rust: () => vscodeWasm('rust'),
  cpp: () => vscodeWasm('cpp'),
  ruby: () => vscodeWasm('ruby'),
  c_sharp: () => vscodeWasm('c-sharp'),
  c: () => path.join(path.dirname(require.resolve('tree-sitter-c/package.json')), 'tree-sitter-c.wasm'),
};

function vscodeWasm(name: string): string {
  return path.join(path.dirname(require.resolve('@vscode/tree-sitter-wasm/package.json')), 'wasm', `tree-sitter-${name}.wasm`);
}

export const GRAMMAR_IDS = Object.keys(WASM_FILES) as GrammarId[];

interface LoadedGrammar {
  language: Language;
  query: Query;
}

let runtime: Promise<Parser> | null = null;
const grammars = new Map<GrammarId, Promise<LoadedGrammar>>();

function parser(): Promise<Parser> {
  runtime ??= Parser.init().then(() => new Parser());
  return runtime;
}

export function loadGrammar(id: GrammarId): Promise<LoadedGrammar> {
  let g = grammars.get(id);
  if (!g) {
    g = parser().then(async () => {
      // Bytes rather than a path: web-tree-sitter would read the path through a dynamic import().
      const language = await Language.load(await fs.promises.readFile(WASM_FILES[id]()));
      return { language, query: new Query(language, QUERIES[id]) };
    });
    grammars.set(id, g);
    g.catch(() => grammars.delete(id));
  }
  return g;
}

const MAX_NAME = 200;

/**
 * Definitions in `content`, in source order. Parsing stops (and no symbols are returned) after
 * `timeoutMs`, so one pathological file cannot stall a build.
 */
export async function treeSitterSymbols(grammar: GrammarId, content: string, timeoutMs = 5_000): Promise<ExtractedSymbol[]> {
  const [p, g] = await Promise.all([parser(), loadGrammar(grammar)]);
  p.setLanguage(g.language);
  const deadline = Date.now() + timeoutMs;
  const tree = p.parse(content, null, { progressCallback: (() => Date.now() > deadline) as unknown as () => void });
  if (!tree) return [];
  try {
    const best = new Map<number, { node: Node; kind: string }>();
    for (const cap of g.query.captures(tree.rootNode)) {
      if (cap.name.startsWith('_')) continue;
      const prev = best.get(cap.node.id);
      if (!prev || (KIND_RANK[cap.name] ?? 9) < (KIND_RANK[prev.kind] ?? 9)) best.set(cap.node.id, { node: cap.node, kind: cap.name });
    }
    const out: ExtractedSymbol[] = [];
    for (const { node, kind } of best.values()) {
      let name = node.text;
      let k = kind;
      if (name.includes('::') && kind !== 'namespace') name = name.slice(name.lastIndexOf('::') + 2);
      if (k === 'const') {
        if (grammar === 'python' && !/^[A-Z][A-Z0-9_]*$/.test(name)) continue;
        const value = node.parent?.childForFieldName('value');
        if (value && (value.type === 'arrow_function' || value.type === 'function_expression' || value.type === 'function')) k = 'function';
      }
      if (!name || name.length > MAX_NAME || /\s/.test(name)) continue;
      out.push({ name, kind: k, line: node.startPosition.row + 1 });
    }
    out.sort((a, b) => a.line - b.line || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return out;
  } finally {
    tree.delete();
  }
}
