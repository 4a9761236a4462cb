// The GitSyncError a git operation of src/git/repo-sync.ts fails with (the test fails if it succeeds).
import { GitSyncError } from '../../src/git/repo-sync';

export async function syncError(p: Promise<unknown>): Promise<GitSyncError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(GitSyncError);
    return e as GitSyncError;
  }
  throw new Error('expected the git operation to fail');
}
