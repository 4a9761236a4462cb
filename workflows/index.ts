// The workflow bundle's entry: every workflow type the worker runs.
export { diagnostics } from './diagnostics';
export { installBitbucket } from './install-bitbucket';
export { repo } from './repo';
export { workspaceSync } from './workspace-sync';
