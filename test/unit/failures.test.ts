// The failure vocabulary (src/failures.ts) and its one boundary (the activity interceptor): every
// error an activity can end with becomes a typed failure whose code, retryability and "a reconnect
// fixes it" come from the one table.
import { ApplicationFailure } from '@temporalio/common';
import { BitbucketApiError, ConsumerNotPrivateError, NeedsReauthError, NotConnectedError } from '../../src/bitbucket/errors';
import { CODES_FIXED_BY_RECONNECT, failureCode, FAILURES, isFixedByReconnect, NON_RETRYABLE } from '../../src/failures';
import { GitSyncError } from '../../src/git/repo-sync';
import { IndexTooLargeError } from '../../src/indexer/errors';
import { toTypedFailure } from '../../src/temporal/failure-interceptor';

const typed = (err: unknown) => toTypedFailure(err) as ApplicationFailure;

describe('the failure table', () => {
  it('knows which repo errors a reconnect fixes: needs_reauth and not_connected only', () => {
    expect(CODES_FIXED_BY_RECONNECT.sort()).toEqual(['needs_reauth', 'not_connected']);
    expect(isFixedByReconnect('repo_gone')).toBe(false);
    expect(isFixedByReconnect(null)).toBe(false);
  });

  it('names the code of every type, and an untyped failure is index_failed', () => {
    expect(failureCode('RepoGone')).toBe('repo_gone');
    expect(failureCode('ConsumerNotPrivate')).toBe('consumer_not_private');
    expect(failureCode('TypeError')).toBe('index_failed');
    expect(failureCode(undefined)).toBe('index_failed');
    expect(failureCode('toString')).toBe('index_failed');
  });

  it('lists as never retried exactly the types whose row says so', () => {
    expect(NON_RETRYABLE.sort()).toEqual(Object.entries(FAILURES).filter(([, f]) => !f.retryable).map(([t]) => t).sort());
    expect(NON_RETRYABLE).toEqual(expect.arrayContaining(['NeedsReauth', 'NotConnected', 'RepoGone', 'TooLarge', 'ConsumerNotPrivate']));
    expect(NON_RETRYABLE).not.toContain('CloneFailed');
  });
});

describe('the activity boundary', () => {
  it('types integration errors by their own kind', () => {
    expect([typed(new NeedsReauthError()).type, typed(new NeedsReauthError()).nonRetryable]).toEqual(['NeedsReauth', true]);
    expect(typed(new NotConnectedError()).type).toBe('NotConnected');
    expect(typed(new ConsumerNotPrivateError()).type).toBe('ConsumerNotPrivate');
  });

  it('types git failures: gone, refused or empty will not pass by retrying; a network error may', () => {
    expect([typed(new GitSyncError('repo_gone', 'x')).type, typed(new GitSyncError('repo_gone', 'x')).nonRetryable]).toEqual(['RepoGone', true]);
    for (const code of ['auth_failed', 'forbidden', 'empty_repo', 'branch_not_found'] as const) {
      expect([code, typed(new GitSyncError(code, 'x')).type, typed(new GitSyncError(code, 'x')).nonRetryable]).toEqual([code, 'CloneFailed', true]);
    }
    for (const code of ['clone_failed', 'timeout', 'rate_limited'] as const) {
      expect([code, typed(new GitSyncError(code, 'x')).nonRetryable]).toEqual([code, false]);
    }
    expect(typed(new GitSyncError('empty_repo', 'x')).message).toMatch(/no commits yet/);
  });

  it('lets a cancellation through untouched', () => {
    const cancelled = new GitSyncError('cancelled', 'x');
    expect(toTypedFailure(cancelled)).toBe(cancelled);
  });

  it('types the indexer limit and Bitbucket answers', () => {
    expect(typed(new IndexTooLargeError('too big', 'maxFiles', 1)).type).toBe('TooLarge');
    // MAX_REPO_SIZE stopping a clone or a fetch: the same vocabulary, never retried, the message kept.
    const clone = typed(new GitSyncError('too_large', 'The repository is larger than MAX_REPO_SIZE (1 MB).'));
    expect([clone.type, clone.nonRetryable, clone.message, failureCode(clone.type)]).toEqual(['TooLarge', true, 'The repository is larger than MAX_REPO_SIZE (1 MB).', 'too_large']);
    expect([typed(new BitbucketApiError(404, 'x')).type, typed(new BitbucketApiError(404, 'x')).nonRetryable]).toEqual(['BitbucketRefused', true]);
    expect(typed(new BitbucketApiError(409, 'x')).nonRetryable).toBe(false);
  });

  it("tells Bitbucket's 403 for a missing scope from a 403 for a missing role", () => {
    expect(new BitbucketApiError(403, 'x', { message: 'Your credentials lack one or more required privilege scopes.', requiredScopes: ['webhook'] }).lacksScopes).toBe(true);
    expect(new BitbucketApiError(403, 'x', { message: 'You do not have permission to install webhooks on this repository.', requiredScopes: [] }).lacksScopes).toBe(false);
  });
});
