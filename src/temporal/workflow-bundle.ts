// Where the worker gets its workflow code: the bundle `npm run build` wrote (production), or
// the workflows directory bundled at start (dev and tests). With payload encryption on, the
// workflows must carry the encoding failure converter, which is fixed when a bundle is built:
// the prebuilt `*.encrypted.js` beside the plain bundle, else a bundle made at start.
import fs from 'node:fs';
import path from 'node:path';
import type { LogLevel, Logger as SdkLogger } from '@temporalio/common';
import { bundleWorkflowCode, type BundleOptions, type WorkerOptions } from '@temporalio/worker';
import type { Logger } from '../logger';
import { ENCODING_FAILURE_CONVERTER_PATH } from './data-converter';

export const WORKFLOWS_PATH = path.resolve(__dirname, '../../workflows');
export const PREBUILT_BUNDLE_PATH = path.resolve(__dirname, '../../workflow-bundle.js');

/** The bundle built with the encoding failure converter, beside the plain one. */
export function encryptedBundlePath(plainBundlePath: string): string {
  return plainBundlePath.replace(/(\.js)?$/, '.encrypted.js');
}

export interface BuiltBundle {
  code: string;
  /** webpack's warnings (its report otherwise says nothing a person needs). */
  warnings: string[];
  /** One line for a log: size and time. */
  summary: string;
}

/**
 * Bundles the workflows quietly: the SDK's bundler logs webpack's whole report (kilobytes) at
 * info, so only its warnings are kept, and its errors go into the thrown error, since they say
 * what to fix.
 */
export async function bundleWorkflows(opts: Pick<BundleOptions, 'failureConverterPath'> = {}): Promise<BuiltBundle> {
  const started = Date.now();
  const warnings: string[] = [];
  const errors: string[] = [];
  const kept: Partial<Record<LogLevel, string[]>> = { WARN: warnings, ERROR: errors };
  const logger: SdkLogger = {
    log: (level, message) => void kept[level]?.push(message),
    trace: () => undefined,
    debug: () => undefined,
    info: () => undefined,
    warn: (message) => void warnings.push(message),
    error: (message) => void errors.push(message),
  };
  try {
    const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve(WORKFLOWS_PATH), ...opts, logger });
    const summary = `Workflow bundle built (${(code.length / 2 ** 20).toFixed(1)} MiB in ${((Date.now() - started) / 1000).toFixed(1)} s)`;
    return { code, warnings, summary };
  } catch (err) {
    const details = errors.length ? `\n${errors.join('\n')}` : '';
    throw new Error(`Could not bundle the workflows in ${WORKFLOWS_PATH}; fix what webpack names: ${(err as Error).message}${details}`);
  }
}

/** The workflow code for a worker: a prebuilt bundle if there is one, else the workflows bundled now. */
export async function workflowSource(
  explicitBundlePath?: string,
  opts: { encrypted?: boolean; log?: Logger } = {},
): Promise<Pick<WorkerOptions, 'workflowBundle'>> {
  const plainPath = explicitBundlePath ?? process.env.WORKFLOW_BUNDLE_PATH ?? (process.env.NODE_ENV === 'production' ? PREBUILT_BUNDLE_PATH : undefined);
  const codePath = plainPath && opts.encrypted ? encryptedBundlePath(plainPath) : plainPath;
  if (codePath && fs.existsSync(codePath)) return { workflowBundle: { codePath } };
  const built = await bundleWorkflows(opts.encrypted ? { failureConverterPath: ENCODING_FAILURE_CONVERTER_PATH } : {});
  opts.log?.info(built.summary);
  for (const warning of built.warnings) opts.log?.warn(warning);
  return { workflowBundle: { code: built.code } };
}
