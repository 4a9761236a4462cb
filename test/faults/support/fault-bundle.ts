// The workflow bundle of the fault suite: the service's workflows plus the fast-timeouts
// interceptor. Built once per test run (cached in the run's temp dir; written atomically, since
// two jest workers may build it at the same time).
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOWS_PATH } from '../../../src/temporal/workflow-bundle';

const silent = { info() {}, warn() {}, error: console.error, debug() {}, trace() {}, log() {} };

export async function faultWorkflowBundle(): Promise<string> {
  const file = path.join(process.env.TEST_TMP_DIR!, 'fault-workflow-bundle.js');
  if (fs.existsSync(file)) return file;
  const bundle = await bundleWorkflowCode({
    workflowsPath: require.resolve(WORKFLOWS_PATH),
    workflowInterceptorModules: [require.resolve('./fast-timeouts')],
    logger: silent,
  });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, bundle.code);
  fs.renameSync(tmp, file);
  return file;
}
