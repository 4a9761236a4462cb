// Part of `npm run build`: prebuilds the workflow bundles so production workers start fast and
// run exactly the code that was built — the plain one, and the one with the encoding failure
// converter that workers use when TEMPORAL_PAYLOAD_KEY is set.
import { bundleWorkflowCode } from '@temporalio/worker';
import fs from 'node:fs/promises';
import { ENCODING_FAILURE_CONVERTER_PATH } from './data-converter';
import { encryptedBundlePath, PREBUILT_BUNDLE_PATH, WORKFLOWS_PATH } from './workflow-bundle';

async function main(): Promise<void> {
  const workflowsPath = require.resolve(WORKFLOWS_PATH);
  const plain = await bundleWorkflowCode({ workflowsPath, logger: undefined });
  await fs.writeFile(PREBUILT_BUNDLE_PATH, plain.code);
  const encrypted = await bundleWorkflowCode({ workflowsPath, failureConverterPath: ENCODING_FAILURE_CONVERTER_PATH, logger: undefined });
  await fs.writeFile(encryptedBundlePath(PREBUILT_BUNDLE_PATH), encrypted.code);
  console.log(`Workflow bundles written to ${PREBUILT_BUNDLE_PATH} and ${encryptedBundlePath(PREBUILT_BUNDLE_PATH)}`);
}

main().catch((err: Error) => {
  console.error(`Could not bundle the workflows: ${err.message}`);
  process.exit(1);
});
