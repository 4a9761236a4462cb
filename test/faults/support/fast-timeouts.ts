// A workflow interceptor module for the fault suite only (bundled by fault-bundle.ts, never by the
// service): it shortens the repo and install workflows' activity timeouts and retry intervals (and
// those of the repo's registration, local activities) so a kill -9 or an outage is noticed in
// seconds instead of minutes. Attempt counts, non-retryable
// types and everything else the workflows decide stay as they are.
import type { Duration } from '@temporalio/common';
import type { ActivityInput, LocalActivityInput, Next, WorkflowInterceptorsFactory, WorkflowOutboundCallsInterceptor } from '@temporalio/workflow';

/** Long enough for one control attempt that meets a hanging Bitbucket call (15 s fetch timeout) and its retries. */
const CONTROL_START_TO_CLOSE: Duration = '20 seconds';
/** The clone keeps a heartbeat every 5 s; indexing heartbeats per batch. */
const INDEXING_HEARTBEAT = '12 seconds';
const REGISTRATION = ['registerRepo', 'ensureWebhook'];

class FastTimeouts implements WorkflowOutboundCallsInterceptor {
  scheduleActivity(input: ActivityInput, next: Next<WorkflowOutboundCallsInterceptor, 'scheduleActivity'>) {
    const options = { ...input.options };
    if (options.heartbeatTimeout) options.heartbeatTimeout = INDEXING_HEARTBEAT;
    else options.startToCloseTimeout = CONTROL_START_TO_CLOSE;
    if (options.retry) options.retry = { ...options.retry, initialInterval: '300 milliseconds', maximumInterval: '2 seconds' };
    return next({ ...input, options });
  }

  /** Registration's local activities (registerRepo, ensureWebhook) as the control activities above; the reconcile's keep theirs. */
  scheduleLocalActivity(input: LocalActivityInput, next: Next<WorkflowOutboundCallsInterceptor, 'scheduleLocalActivity'>) {
    if (!REGISTRATION.includes(input.activityType)) return next(input);
    const options = { ...input.options, startToCloseTimeout: CONTROL_START_TO_CLOSE };
    if (options.retry) options.retry = { ...options.retry, initialInterval: '300 milliseconds', maximumInterval: '2 seconds' };
    return next({ ...input, options });
  }
}

export const interceptors: WorkflowInterceptorsFactory = () => ({ outbound: [new FastTimeouts()] });
