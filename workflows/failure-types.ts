// Typed failure names the activities raise and the workflows (and the Temporal UI) show.
// Pure constants: shared by activities, workflows and the API.
export const FailureType = {
  NeedsReauth: 'NeedsReauth',
  NotConnected: 'NotConnected',
  ExchangeFailed: 'ExchangeFailed',
  BitbucketUnavailable: 'BitbucketUnavailable',
  RepoGone: 'RepoGone',
  WebhookForbidden: 'WebhookForbidden',
  CloneFailed: 'CloneFailed',
  TooLarge: 'TooLarge',
  IndexFailed: 'IndexFailed',
} as const;

export type FailureTypeName = (typeof FailureType)[keyof typeof FailureType];

/** Failures that retrying cannot fix: someone has to act (reconnect, fix permissions, pick another repo). */
export const NON_RETRYABLE: string[] = [
  FailureType.NeedsReauth,
  FailureType.NotConnected,
  FailureType.ExchangeFailed,
  FailureType.RepoGone,
  FailureType.WebhookForbidden,
  FailureType.TooLarge,
];
