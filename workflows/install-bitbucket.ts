// installBitbucket (id bitbucket-install:{accountId}:{nonce}): exchange the code, save the
// installation, read the Bitbucket user. It receives ids only: the code and tokens stay sealed
// in PostgreSQL.
import { getExternalWorkflowHandle, log, proxyActivities } from '@temporalio/workflow';
import type { InstallActivities } from '../activities/install';
import type { RepoActivities } from '../activities/repo';
import { workflowIds } from './definitions';
import { reauthorizedSignal } from './repo-signals';
import { NON_RETRYABLE } from '../src/failures';

const activities = proxyActivities<InstallActivities & Pick<RepoActivities, 'listReposAwaitingReauth'>>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '20 seconds', maximumAttempts: 6, nonRetryableErrorTypes: NON_RETRYABLE },
});

export interface InstallInput {
  accountId: string;
  attemptId: string;
}

export interface InstallResult {
  installationId: string;
  bitbucketUser: { uuid: string; displayName: string } | null;
}

export async function installBitbucket(input: InstallInput): Promise<InstallResult> {
  await activities.exchangeInstallCode.executeWithOptions({ summary: 'exchange the authorization code' }, [{ attemptId: input.attemptId }]);
  const { installationId } = await activities.saveInstallation.executeWithOptions({ summary: 'save the installation (tokens sealed)' }, [{ attemptId: input.attemptId, accountId: input.accountId }]);
  let bitbucketUser: InstallResult['bitbucketUser'] = null;
  try {
    bitbucketUser = await activities.fetchBitbucketUser.executeWithOptions({ summary: 'read /2.0/user' }, [{ installationId }]);
  } catch (err) {
    // The connection works without the display name; the UI shows it once a later read succeeds.
    log.warn('Could not read the Bitbucket user', { error: (err as Error).message });
  }
  // Repos that failed for want of a connection retry by themselves now, and failed webhooks are re-checked.
  for (const repoId of await activities.listReposAwaitingReauth({ accountId: input.accountId })) {
    await getExternalWorkflowHandle(workflowIds.repo(repoId))
      .signal(reauthorizedSignal)
      .catch((err: Error) => log.warn('Could not wake a repo workflow', { repoId, error: err.message }));
  }
  return { installationId, bitbucketUser };
}
