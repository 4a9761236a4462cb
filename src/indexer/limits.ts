// The limits a repository's index must stay within, and the errors that name them.
import { IndexTooLargeError } from './errors';

export interface IndexLimits {
  maxFiles: number;
  maxTotalBytes: number;
  maxFileBytes: number;
}

export const DEFAULT_LIMITS: IndexLimits = { maxFiles: 100_000, maxTotalBytes: 1024 * 1024 * 1024, maxFileBytes: 1024 * 1024 };

export function tooManyFiles(count: number, limits: IndexLimits): IndexTooLargeError {
  return new IndexTooLargeError(
    `The repository has ${count} indexable files, over the limit of ${limits.maxFiles} files (maxFiles).`,
    'maxFiles',
    count,
  );
}

export function tooManyBytes(bytes: number, limits: IndexLimits): IndexTooLargeError {
  return new IndexTooLargeError(
    `The repository has more than ${limits.maxTotalBytes} bytes of text (maxTotalBytes), at least ${bytes}.`,
    'maxTotalBytes',
    bytes,
  );
}
