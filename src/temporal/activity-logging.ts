// Activity log lines name their workflow: every line logged while an activity runs (by the
// activity or anything it calls, through the service's pino logger) carries workflowId, runId,
// activityType, activityId and attempt, so an operator can go from a log line to the run in the
// Temporal UI. (Each attempt's start, end and failure are logged by the SDK itself, through
// the runtime logger: see runtime.ts.)
import type { Context } from '@temporalio/activity';
import type { ActivityExecuteInput, ActivityInboundCallsInterceptor, Next } from '@temporalio/worker';
import { withRestCallKind } from '../bitbucket/rest-budget';
import { withLogContext } from '../logger';

export class ActivityLogContextInterceptor implements ActivityInboundCallsInterceptor {
  constructor(private readonly ctx: Context) {}

  execute(input: ActivityExecuteInput, next: Next<ActivityInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    const info = this.ctx.info;
    const fields = {
      workflowId: info.workflowExecution?.workflowId,
      runId: info.workflowExecution?.runId,
      activityType: info.activityType,
      activityId: info.activityId,
      attempt: info.attempt,
    };
    // An activity's Bitbucket calls are background work for the REST budget (rest-budget.ts).
    return withLogContext(fields, () => withRestCallKind('background', () => next(input)));
  }
}
