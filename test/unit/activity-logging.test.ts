// Activity log lines carry their workflow's ids; the SDK's logger writes through pino.
import { ApplicationFailure } from '@temporalio/common';
import type { Context } from '@temporalio/activity';
import { createLogger, redactText, withLogContext } from '../../src/logger';
import { ActivityLogContextInterceptor } from '../../src/temporal/activity-logging';
import { PinoSdkLogger } from '../../src/temporal/sdk-logger';

function capture(level = 'debug') {
  const lines: string[] = [];
  const log = createLogger(level, { write: (s: string) => void lines.push(s) });
  return { log, lines: () => lines.map((l) => JSON.parse(l)) };
}

const ctx = {
  info: { workflowExecution: { workflowId: 'repo:abc', runId: 'run-1' }, activityType: 'syncAndIndex', activityId: '7', attempt: 2, taskQueue: 'q' },
} as unknown as Context;

describe('activity log context', () => {
  it('adds workflowId, runId, activityType and attempt to every line logged inside an activity', async () => {
    const { log, lines } = capture();
    const interceptor = new ActivityLogContextInterceptor(ctx);
    const result = await interceptor.execute({ args: [], headers: {} }, async () => {
      await new Promise((r) => setTimeout(r, 5));
      log.child({ module: 'deep' }).info({ repoId: 'abc' }, 'cloning');
      return 42;
    });
    expect(result).toBe(42);
    log.info('outside');
    const [inside, outside] = lines();
    expect(inside).toMatchObject({ workflowId: 'repo:abc', runId: 'run-1', activityType: 'syncAndIndex', activityId: '7', attempt: 2, module: 'deep', repoId: 'abc', msg: 'cloning' });
    expect(outside.workflowId).toBeUndefined();
  });

  it('passes failures through untouched', async () => {
    const failure = ApplicationFailure.create({ type: 'CloneFailed', message: 'x' });
    await expect(new ActivityLogContextInterceptor(ctx).execute({ args: [], headers: {} }, async () => Promise.reject(failure))).rejects.toBe(failure);
  });

  it('nests: inner fields add to outer ones', () => {
    const { log, lines } = capture();
    withLogContext({ a: 1 }, () => withLogContext({ b: 2 }, () => log.info('x')));
    expect(lines()[0]).toMatchObject({ a: 1, b: 2 });
  });
});

describe('redactText', () => {
  it('removes URL credentials and secret query values from free text', () => {
    expect(redactText('clone of https://x-token-auth:abc123@bitbucket.org/a/b.git?access_token=zzz&x=1 failed')).toBe(
      'clone of https://[redacted]@bitbucket.org/a/b.git?access_token=[redacted]&x=[redacted] failed',
    );
  });

  it('treats every URL in free text as a request URL: only allow-listed query values and no fragment stay', () => {
    expect(redactText("GET '/v1/me?api_key=lt_zz&q=hello' answered 401; retry at https://h/cb?jwt=ey.zz#access_token=zz.")).toBe(
      "GET '/v1/me?api_key=[redacted]&q=hello' answered 401; retry at https://h/cb?jwt=[redacted]#[redacted]",
    );
    expect(redactText('see https://h/cb#access_token=zz then')).toBe('see https://h/cb#[redacted] then');
    // A question mark that starts no query string is left alone.
    expect(redactText('bad pattern (?:a|b) — what? nothing')).toBe('bad pattern (?:a|b) — what? nothing');
  });
});

describe('PinoSdkLogger', () => {
  it('writes SDK lines as pino JSON, keeping metadata and redaction', () => {
    const { log, lines } = capture();
    const sdk = new PinoSdkLogger(log);
    sdk.warn('Workflow log', { sdkComponent: 'workflow', workflowId: 'w1', [Symbol.for('log_timestamp')]: 1n, token: 'tok-secret', error: new Error('clone of https://u:p4ss@h/x failed') });
    sdk.debug('debug line');
    const [warn, debug] = lines();
    expect(warn).toMatchObject({ level: 40, msg: 'Workflow log', component: 'temporal-sdk', sdkComponent: 'workflow', workflowId: 'w1', token: '[redacted]', error: { name: 'Error', message: 'clone of https://[redacted]@h/x failed' } });
    expect(debug).toMatchObject({ level: 20, msg: 'debug line' });
  });
});
