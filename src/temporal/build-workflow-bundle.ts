// Part of `npm run build`: prebuilds the workflow bundle so production workers start fast and
// run exactly the code that was built.
import { bundleWorkflowCode } from '@temporalio/worker';
import fs from 'node:fs/promises';
import { PREBUILT_BUNDLE_PATH, WORKFLOWS_PATH } from './workflow-bundle';

async function main(): Promise<void> {
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve(WORKFLOWS_PATH), logger: undefined });
  await fs.writeFile(PREBUILT_BUNDLE_PATH, code);
  console.log(`Workflow bundle written to ${PREBUILT_BUNDLE_PATH}`);
}

main().catch((err: Error) => {
  console.error(`Could not bundle the workflows: ${err.message}`);
  process.exit(1);
});
