// The code indexer: builds per-commit indexes of a repository (tree, text with a trigram search
// index, symbols by oxc-parser and tree-sitter) into PostgreSQL and answers the navigator's reads.
// See build.ts and queries.ts; the storage is described in src/db/migrations/1764300000100-index.ts
// and the search index's in 1764300000600-search-postings.ts (its Bloom filters: 1764300000750-search-bloom-filters.ts and 1764300000760-search-quadgram-filters.ts).
export { indexCommit, DEFAULT_LIMITS } from './build';
export type { IndexLimits, IndexProgress, IndexCommitInput, IndexCommitResult } from './build';
export { listTree, readFile, searchCode, findSymbols, deleteIndex } from './queries';
export type { TreeView, TreeEntryView, FileView, SearchView, SearchResult, SymbolsView, SymbolView } from './queries';
export { normalizeRepoPath } from './paths';
export { IndexTooLargeError, IndexNotFoundError, InvalidPathError, InvalidQueryError, IndexAbortedError } from './errors';
export { IndexGitError } from './git';
