// The parse pool contains parser crashes: a file that kills a parser costs that file's symbols
// from that parser, never the process (issue: one deeply nested file took the service down).
import { closeParsePools, ParsePool, type ParserCrash } from '../../src/indexer/parse-pool';
import type { GrammarId } from '../../src/indexer/languages';
import { deepNesting } from './fixtures';

const DEEP = deepNesting(20_000);
const OXC: GrammarId[] = ['typescript', 'tsx', 'javascript'];

afterAll(() => closeParsePools());

describe('parse pool', () => {
  let pool: ParsePool;
  beforeAll(() => (pool = new ParsePool(1)));
  afterAll(() => pool.close());

  it.each(Object.keys(DEEP) as GrammarId[])('%s: a file nested 20,000 deep is indexed, its other symbols found, the crash (if any) reported with its path', async (grammar) => {
    const crashes: ParserCrash[] = [];
    const { path, content, kept } = DEEP[grammar];
    const [r] = await pool.parse([{ bytes: Buffer.from(content), blocks: true, grammar, path }], (c) => crashes.push(c));
    expect(r.blocks!.length).toBeGreaterThan(0);
    expect(r.symbols!.map((s) => s.name)).toContain(kept);
    // Measured: oxc overflows its native stack (SIGSEGV) here; tree-sitter (WASM) does not.
    if (OXC.includes(grammar)) expect(crashes).toEqual([{ path, reason: 'the parser process was killed by SIGSEGV', engine: 'tree-sitter' }]);
    else expect(crashes).toEqual([]);
  });

  it('a crash costs only the file that caused it: the other files of its job keep their oxc symbols', async () => {
    const files = ['a', 'b', 'c'].map((n) => ({ bytes: Buffer.from(`export class ${n}Class { ${n}Method() {} }\n`), blocks: true, grammar: 'typescript' as const, path: `${n}.ts` }));
    const deep = { bytes: Buffer.from(DEEP.typescript.content), blocks: true, grammar: 'typescript' as const, path: 'parens.ts' };
    const crashes: ParserCrash[] = [];
    const started = pool.started;
    const results = await pool.parse([files[0], deep, files[1], files[2]], (c) => crashes.push(c));
    expect(results.map((r) => r.symbols?.map((s) => s.name))).toEqual([['aClass', 'aMethod'], ['x', 'kept'], ['bClass', 'bMethod'], ['cClass', 'cMethod']]);
    expect(crashes.map((c) => c.path)).toEqual(['parens.ts']);
    expect(pool.started - started).toBeGreaterThanOrEqual(1); // the dead child was replaced
    // …and the pool goes on serving.
    const [after] = await pool.parse([files[0]]);
    expect(after.symbols!.map((s) => s.name)).toEqual(['aClass', 'aMethod']);
  });

  it('a child killed from outside mid-job costs nothing: its files are parsed again', async () => {
    const many = Array.from({ length: 400 }, (_, i) => ({ bytes: Buffer.from(`export function f${i}() { return ${'1 + '.repeat(2000)}1; }\n`), blocks: true, grammar: 'typescript' as const, path: `f${i}.ts` }));
    const crashes: ParserCrash[] = [];
    const started = pool.started;
    const parsing = pool.parse(many, (c) => crashes.push(c));
    await new Promise((r) => setTimeout(r, 50));
    for (const pid of pool.pids) process.kill(pid, 'SIGKILL');
    const results = await parsing;
    expect(results.map((r) => r.symbols?.[0]?.name)).toEqual(many.map((_, i) => `f${i}`));
    expect(crashes).toEqual([]);
    expect(pool.started).toBeGreaterThan(started);
  });

  it('a parser that hangs costs its file the symbols, not the build: its child is killed at the time-out', async () => {
    // oxc dies on 100,000 nested functions; tree-sitter's JavaScript query then runs for minutes (measured: past 60 s).
    const hung = new ParsePool(1, 3_000);
    try {
      const deep = deepNesting(100_000).javascript;
      const other = { bytes: Buffer.from('export function fine() {}\n'), blocks: true, grammar: 'typescript' as const, path: 'fine.ts' };
      const crashes: ParserCrash[] = [];
      const [r, ok] = await hung.parse([{ bytes: Buffer.from(deep.content), blocks: true, grammar: 'javascript', path: deep.path }, other], (c) => crashes.push(c));
      expect(crashes).toEqual([
        { path: deep.path, reason: 'the parser process was killed by SIGSEGV', engine: 'tree-sitter' },
        { path: deep.path, reason: 'no answer within 3 s', engine: 'none' },
      ]);
      expect(r.symbols).toBeNull();
      expect(r.blocks!.length).toBeGreaterThan(0); // still searchable
      expect(ok.symbols!.map((s) => s.name)).toEqual(['fine']);
    } finally {
      await hung.close();
    }
  }, 60_000);

  it('a parse process that cannot start fails the build with the reason, instead of indexing without symbols', async () => {
    const saved = process.env.NODE_OPTIONS;
    process.env.NODE_OPTIONS = `${saved ?? ''} --require /nonexistent/preload.js`; // every child then exits 1 at start
    const broken = new ParsePool(1);
    try {
      const crashes: ParserCrash[] = [];
      await expect(broken.parse([{ bytes: Buffer.from('export const a = 1;\n'), blocks: true, grammar: 'typescript', path: 'a.ts' }], (c) => crashes.push(c))).rejects.toThrow(
        'the parse process could not start (exit 1)',
      );
      expect(crashes).toEqual([]);
    } finally {
      if (saved === undefined) delete process.env.NODE_OPTIONS;
      else process.env.NODE_OPTIONS = saved;
      await broken.close();
    }
  });
});
