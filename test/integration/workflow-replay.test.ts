// Determinism guard: histories recorded from real runs (install, a repo's life with pushes,
// needs_reauth, reconnect and delete, diagnostics, a workspace sync's first cycle and its stop) must replay against the current workflow code.
// A change that would break running workflows fails here; guard it with patched() instead.
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';

const DIR = path.resolve(__dirname, '../fixtures/histories');
const fixtures = fs.readdirSync(DIR).filter((f) => f.endsWith('.json'));

it('has fixtures for every workflow type', () => {
  const types = fixtures.map((f) => f.split(/[-.]/)[0]);
  expect(new Set(types)).toEqual(new Set(['diagnostics', 'install', 'repo', 'workspace']));
});

it.each(fixtures)('replays %s against the current workflow code', async (file) => {
  const { workflowId, history } = JSON.parse(fs.readFileSync(path.join(DIR, file), 'utf8'));
  await Worker.runReplayHistory({ workflowBundle: { codePath: process.env.TEST_WORKFLOW_BUNDLE! } }, history, workflowId);
});
