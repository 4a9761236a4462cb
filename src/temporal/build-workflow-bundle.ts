// Part of `npm run build`: prebuilds the workflow bundles so production workers start fast and
// run exactly the code that was built — the plain one, and the one with the encoding failure
// converter that workers use when TEMPORAL_PAYLOAD_KEY is set.
import fs from 'node:fs/promises';
import { ENCODING_FAILURE_CONVERTER_PATH } from './data-converter';
import { bundleWorkflows, encryptedBundlePath, PREBUILT_BUNDLE_PATH } from './workflow-bundle';

async function main(): Promise<void> {
  const plain = await bundleWorkflows();
  await fs.writeFile(PREBUILT_BUNDLE_PATH, plain.code);
  const encrypted = await bundleWorkflows({ failureConverterPath: ENCODING_FAILURE_CONVERTER_PATH });
  await fs.writeFile(encryptedBundlePath(PREBUILT_BUNDLE_PATH), encrypted.code);
  for (const warning of new Set([...plain.warnings, ...encrypted.warnings])) console.warn(warning);
  console.log(`Workflow bundles written to ${PREBUILT_BUNDLE_PATH} and ${encryptedBundlePath(PREBUILT_BUNDLE_PATH)}`);
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
