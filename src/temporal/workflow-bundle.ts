// Where the worker gets its workflow code: the bundle `npm run build` wrote (production), or
// the workflows directory bundled at start (dev and tests).
import fs from 'node:fs';
import path from 'node:path';
import type { WorkerOptions } from '@temporalio/worker';

export const WORKFLOWS_PATH = path.resolve(__dirname, '../../workflows');
export const PREBUILT_BUNDLE_PATH = path.resolve(__dirname, '../../workflow-bundle.js');

export function workflowSource(explicitBundlePath?: string): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  const codePath = explicitBundlePath ?? process.env.WORKFLOW_BUNDLE_PATH ?? (process.env.NODE_ENV === 'production' ? PREBUILT_BUNDLE_PATH : undefined);
  if (codePath && fs.existsSync(codePath)) return { workflowBundle: { codePath } };
  return { workflowsPath: require.resolve(WORKFLOWS_PATH) };
}
