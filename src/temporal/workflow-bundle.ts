// Where the worker gets its workflow code: the bundle `npm run build` wrote (production), or
// the workflows directory bundled at start (dev and tests). With payload encryption on, the
// workflows must carry the encoding failure converter, which is fixed when a bundle is built:
// the prebuilt `*.encrypted.js` beside the plain bundle, else a bundle made at start.
import fs from 'node:fs';
import path from 'node:path';
import type { WorkerOptions } from '@temporalio/worker';

export const WORKFLOWS_PATH = path.resolve(__dirname, '../../workflows');
export const PREBUILT_BUNDLE_PATH = path.resolve(__dirname, '../../workflow-bundle.js');

/** The bundle built with the encoding failure converter, beside the plain one. */
export function encryptedBundlePath(plainBundlePath: string): string {
  return plainBundlePath.replace(/(\.js)?$/, '.encrypted.js');
}

export function workflowSource(explicitBundlePath?: string, opts: { encrypted?: boolean } = {}): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> {
  const plainPath = explicitBundlePath ?? process.env.WORKFLOW_BUNDLE_PATH ?? (process.env.NODE_ENV === 'production' ? PREBUILT_BUNDLE_PATH : undefined);
  const codePath = plainPath && opts.encrypted ? encryptedBundlePath(plainPath) : plainPath;
  if (codePath && fs.existsSync(codePath)) return { workflowBundle: { codePath } };
  return { workflowsPath: require.resolve(WORKFLOWS_PATH) };
}
