// Language of a path, from GitHub Linguist's extension and file-name tables (languages-table.ts),
// and the tree-sitter grammar (if any) that extracts its symbols.
import { EXTENSIONS, FILENAMES, LANGUAGE_NAMES } from './languages-table';

export type GrammarId = 'typescript' | 'tsx' | 'javascript' | 'python' | 'go' | 'java' | 'rust' | 'c' | 'cpp' | 'ruby' | 'c_sharp';

const GRAMMARS: Record<string, GrammarId> = {
  TypeScript: 'typescript',
  TSX: 'tsx',
  JavaScript: 'javascript',
  Python: 'python',
  Go: 'go',
  Java: 'java',
  Rust: 'rust',
  C: 'c',
  'C++': 'cpp',
  Ruby: 'ruby',
  'C#': 'c_sharp',
};

/** Linguist's language name for a path, or null when neither its name nor extension is known. */
export function languageOf(path: string): string | null {
  const name = path.slice(path.lastIndexOf('/') + 1);
  const byName = FILENAMES[name];
  if (byName !== undefined) return LANGUAGE_NAMES[byName];
  // Longest extension first: 'x.d.ts' tries '.d.ts' then '.ts'; a leading dot alone ('.bashrc') is a name.
  for (let i = name.indexOf('.', 1); i > 0; i = name.indexOf('.', i + 1)) {
    const ext = name.slice(i);
    const hit = EXTENSIONS[ext] ?? EXTENSIONS[ext.toLowerCase()];
    if (hit !== undefined) return LANGUAGE_NAMES[hit];
  }
  return null;
}

/** The grammar that extracts symbols for a file, or null (the file is indexed without symbols). */
export function grammarOf(path: string, language: string | null): GrammarId | null {
  if (!language) return null;
  // C and C++ share `.h`; the C++ grammar reads both dialects' declarations.
  if (language === 'C' && /\.h$/i.test(path)) return 'cpp';
  return GRAMMARS[language] ?? null;
}
