// The port through which the domain drives a repo's workflow: adding a repo starts it, the routes
// and the push dispatcher send it messages. src/temporal/gateway.ts implements it with Temporal;
// nothing on this side of the port knows workflow ids, task queues or signals.
import type { PushEvent, RepoMessage } from '../repo-messages';

export type { PushEvent, RepoMessage };

export interface RepoRef {
  id: string;
  accountId: string;
  name: string;
}

export interface RepoWorkflows {
  /** Starts the repo's workflow (or finds it running). */
  startRepo(repo: RepoRef): Promise<void>;
  /** Sends the repo's workflow a message, starting the workflow again if it is not running. */
  signalRepo(repo: RepoRef, message: RepoMessage): Promise<void>;
}
