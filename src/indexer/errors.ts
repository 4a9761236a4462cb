// Typed errors of the indexer. `code` is what the API and the repo status use (CONTRACT §2, §6).

/** The repository exceeds a configured limit (file count or total text bytes); not retryable. */
export class IndexTooLargeError extends Error {
  override name = 'IndexTooLargeError';
  readonly code = 'too_large';
  constructor(
    message: string,
    readonly limit: 'maxFiles' | 'maxTotalBytes',
    readonly value: number,
  ) {
    super(message);
  }
}

/** A path that is not in the active index (or not a directory / not a text file, as asked). */
export class IndexNotFoundError extends Error {
  override name = 'IndexNotFoundError';
  readonly code = 'not_found';
}

/** A repository path or query argument that is refused before touching the database. */
export class InvalidPathError extends Error {
  override name = 'InvalidPathError';
  readonly code = 'invalid_path';
}

/** Invalid `q` or `limit` of a navigator query. */
export class InvalidQueryError extends Error {
  override name = 'InvalidQueryError';
  readonly code = 'invalid_request';
}

/** The build was cancelled through its AbortSignal; the building generation stays resumable. */
export class IndexAbortedError extends Error {
  override name = 'IndexAbortedError';
  readonly code = 'aborted';
}
