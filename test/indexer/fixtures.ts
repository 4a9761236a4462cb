// A small polyglot repository with one definition of each kind per language, plus everything the
// indexer must skip.
import type { GrammarId } from '../../src/indexer/languages';
import type { Files } from './helpers';

export const SOURCES: Record<string, string> = {
  'src/app.ts': [
    "import { x } from './x';",
    'export interface UserRecord { id: string }',
    'export type UserId = string;',
    'export enum Color { Red, Green }',
    'export const MAX_USERS = 100;',
    'export const makeUser = (id: string): UserRecord => ({ id });',
    'export class UserService {',
    '  findUser(id: UserId) { return id; }',
    '}',
    'export function helloWorld(): string { return "Hello, World"; }',
    '',
  ].join('\n'),
  'web/Button.tsx': 'export function FancyButton() {\n  return <button>Click</button>;\n}\n',
  'lib/util.js': 'function jsHelper(a) { return a + 1; }\nclass JsWidget { render() {} }\nmodule.exports = { jsHelper, JsWidget };\n',
  'py/animals.py': 'MAX_LEGS = 4\n\ndef py_top():\n    pass\n\nclass PyAnimal:\n    def speak(self):\n        return "100%_done"\n',
  'go/geo.go': 'package geo\n\ntype GoPoint struct { X int }\n\nfunc GoDistance(p GoPoint) int { return p.X }\n\nfunc (p GoPoint) GoNorm() int { return 0 }\n',
  'java/Greeter.java': 'package demo;\n\npublic class JavaGreeter {\n  public String javaGreet(String n) { return n; }\n}\n',
  'rust/lib.rs': 'pub struct RustPoint { x: i32 }\n\npub trait RustShape { fn rust_area(&self) -> f64; }\n\npub fn rust_main() {}\n',
  'c/math.c': '#include <stdio.h>\n\nstruct c_vec { int x; };\n\nint c_add(int a, int b) {\n  return a + b;\n}\n',
  'cpp/shape.cpp': 'namespace cppgeo {\nclass CppShape {\n public:\n  int cpp_sides() { return 3; }\n};\n}\n',
  'ruby/zoo.rb': 'module RubyZoo\n  class RubyLion\n    def ruby_roar\n      "roar"\n    end\n  end\nend\n',
  'cs/Thing.cs': 'namespace Demo {\n  public class CsThing {\n    public int CsCount() { return 1; }\n  }\n}\n',
  'docs/README.md': '# Title\n\nSome text with héllo wörld and 100xydone.\n',
  'notes.txt': 'UPPER lower MiXeD\n    indented needle here\n',
};

/** Symbols asserted per language: [name, kind, path, line]. */
export const EXPECTED_SYMBOLS: Array<[string, string, string, number]> = [
  ['UserRecord', 'interface', 'src/app.ts', 2],
  ['UserId', 'type', 'src/app.ts', 3],
  ['Color', 'enum', 'src/app.ts', 4],
  ['MAX_USERS', 'const', 'src/app.ts', 5],
  ['makeUser', 'function', 'src/app.ts', 6],
  ['UserService', 'class', 'src/app.ts', 7],
  ['findUser', 'method', 'src/app.ts', 8],
  ['helloWorld', 'function', 'src/app.ts', 10],
  ['FancyButton', 'function', 'web/Button.tsx', 1],
  ['jsHelper', 'function', 'lib/util.js', 1],
  ['JsWidget', 'class', 'lib/util.js', 2],
  ['MAX_LEGS', 'const', 'py/animals.py', 1],
  ['py_top', 'function', 'py/animals.py', 3],
  ['PyAnimal', 'class', 'py/animals.py', 6],
  ['speak', 'method', 'py/animals.py', 7],
  ['GoPoint', 'struct', 'go/geo.go', 3],
  ['GoDistance', 'function', 'go/geo.go', 5],
  ['GoNorm', 'method', 'go/geo.go', 7],
  ['JavaGreeter', 'class', 'java/Greeter.java', 3],
  ['javaGreet', 'method', 'java/Greeter.java', 4],
  ['RustPoint', 'struct', 'rust/lib.rs', 1],
  ['RustShape', 'trait', 'rust/lib.rs', 3],
  ['rust_main', 'function', 'rust/lib.rs', 5],
  ['c_vec', 'struct', 'c/math.c', 3],
  ['c_add', 'function', 'c/math.c', 5],
  ['cppgeo', 'namespace', 'cpp/shape.cpp', 1],
  ['CppShape', 'class', 'cpp/shape.cpp', 2],
  ['cpp_sides', 'method', 'cpp/shape.cpp', 4],
  ['RubyZoo', 'module', 'ruby/zoo.rb', 1],
  ['RubyLion', 'class', 'ruby/zoo.rb', 2],
  ['ruby_roar', 'method', 'ruby/zoo.rb', 3],
  ['CsThing', 'class', 'cs/Thing.cs', 2],
  ['CsCount', 'method', 'cs/Thing.cs', 3],
];

export function skippedFiles(): Files {
  const big = 'x'.repeat(1024 * 1024 + 10) + '\nbigneedle\n';
  return {
    'assets/logo.png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x00, 0x0d, 0x0a, 0x62, 0x69, 0x6e, 0x6e, 0x65, 0x65, 0x64, 0x6c, 0x65]),
    'data/big.txt': big,
    'node_modules/pkg/index.js': 'function vendoredNeedle() {}\n',
    'vendor/lib/v.go': 'package v\nfunc VendoredNeedle() {}\n',
    'dist/bundle.js': 'function distNeedle() {}\n',
    'web/app.min.js': 'function minNeedle(){}\n',
    'link-out': { symlink: '/etc/passwd' },
    'src/link-in.ts': { symlink: 'app.ts' },
  };
}

/**
 * A file of each grammar nested `depth` levels deep, a level a line (one long line would be skipped
 * as minified), with a definition named kept / Kept after (or around) the nesting. oxc overflows
 * its native stack (SIGSEGV) from about 10,000 levels (3,000 for nested functions).
 */
export function deepNesting(depth: number): Record<GrammarId, { path: string; content: string; kept: string }> {
  const parens = `${'(\n'.repeat(depth)}1${')'.repeat(depth)}`;
  return {
    typescript: { path: 'deep/parens.ts', content: `export const x = ${parens};\nexport function kept() {}\n`, kept: 'kept' },
    tsx: { path: 'deep/tags.tsx', content: `export const x = ${'<a>\n'.repeat(depth)}${'</a>'.repeat(depth)};\nexport function kept() {}\n`, kept: 'kept' },
    javascript: { path: 'deep/functions.js', content: `${'function f(){\n'.repeat(depth)}${'}'.repeat(depth)}\nfunction kept() {}\n`, kept: 'kept' },
    python: { path: 'deep/parens.py', content: `x = ${parens}\ndef kept():\n    pass\n`, kept: 'kept' },
    go: { path: 'deep/parens.go', content: `package p\nvar x = ${parens}\nfunc kept() {}\n`, kept: 'kept' },
    java: { path: 'deep/Parens.java', content: `class Kept { int x = ${parens}; }\n`, kept: 'Kept' },
    rust: { path: 'deep/parens.rs', content: `fn kept() { let x = ${parens}; }\n`, kept: 'kept' },
    c: { path: 'deep/parens.c', content: `int x = ${parens};\nint kept(void) { return 0; }\n`, kept: 'kept' },
    cpp: { path: 'deep/parens.cpp', content: `int x = ${parens};\nint kept() { return 0; }\n`, kept: 'kept' },
    ruby: { path: 'deep/parens.rb', content: `x = ${parens}\ndef kept\nend\n`, kept: 'kept' },
    c_sharp: { path: 'deep/Parens.cs', content: `class Kept { int x = ${parens}; }\n`, kept: 'Kept' },
  };
}
