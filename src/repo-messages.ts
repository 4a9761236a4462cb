// What reaches a repo's workflow (CONTRACT §8, §6): shared by the API, which sends it through the
// RepoWorkflows port, and the workflow, which handles it. Pure types at the bottom floor: the
// workflow bundle imports this module, so it imports nothing.

/** A push for the repo's workflow (one signal may stand for several deliveries of the same repo). */
export interface PushEvent {
  /** The head Bitbucket reported; the workflow always indexes the branch's newest head anyway. */
  commit: string | null;
  deliveryId: string;
  /** False when the pushes left the main branch alone (absent = it moved, as every push event before this field meant). */
  mainBranchMoved?: boolean;
  /** A push created or moved another branch, or deleted the main one: the repo's main branch may have changed. */
  mainBranchMayHaveChanged?: boolean;
  /** The branches those pushes touched (the receiver's idea of the main branch may be a few seconds old). */
  branches?: string[];
}


/** A message for a repo's workflow, as the domain names it. */
export type RepoMessage = { kind: 'push'; event: PushEvent } | { kind: 'reindex' | 'delete' | 'reauthorized' };
