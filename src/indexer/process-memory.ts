// How a process that runs index builds (an indexing worker) is started, for its memory: glibc's
// malloc with two arenas (a parse thread otherwise keeps an arena of its own, holding memory
// freed after each AST) and V8 semi-spaces of 4 MB (the default 16 MB let the main thread's young
// generation swell between scavenges). Measured on the ~500 MB scale line of `npm run bench:index`
// (2026-12-02, one parse worker): peak RSS 438 → 357–385 MB, node CPU-seconds 80.0 → 79.7 in the
// quietest run (the machine's run-to-run noise is larger). Both must be set before the process
// starts: docker-compose.yml's worker services set the same values (test/unit/compose.test.ts
// checks), and the benches start their indexing processes with them.
export const INDEXING_PROCESS_ENV: Readonly<Record<string, string>> = {
  MALLOC_ARENA_MAX: '2',
  NODE_OPTIONS: '--max-semi-space-size=4',
};
