// The indexer's git children get the hardened environment of every git child (src/git/run-git.ts):
// variables a parent process may have set that would point git at another repository are not
// passed on, and tracing stays off.
import fs from 'node:fs';
import path from 'node:path';
import { lsTree, resolveCommit } from '../../src/indexer/git';
import { Origin, tempDir } from './helpers';

const SAVED = { ...process.env };

afterEach(() => {
  for (const k of ['GIT_DIR', 'GIT_OBJECT_DIRECTORY', 'GIT_TRACE']) {
    if (SAVED[k] === undefined) delete process.env[k];
    else process.env[k] = SAVED[k];
  }
});

it('reads the repository it is given, whatever GIT_DIR / GIT_OBJECT_DIRECTORY / GIT_TRACE say', async () => {
  const origin = new Origin().write({ 'a.ts': 'export const a = 1;\n', 'dir/b.txt': 'b\n' });
  const commit = origin.commit();
  const clone = origin.clone({ bare: true });
  const decoy = new Origin().write({ 'decoy.txt': 'decoy\n' });
  decoy.commit();
  const trace = path.join(tempDir('trace'), 'trace.log');
  process.env.GIT_DIR = path.join(decoy.dir, '.git');
  process.env.GIT_OBJECT_DIRECTORY = path.join(decoy.dir, '.git', 'objects');
  process.env.GIT_TRACE = trace;

  expect(await resolveCommit(clone, commit)).toBe(commit);
  expect((await lsTree(clone, commit)).map((e) => e.path).sort()).toEqual(['a.ts', 'dir/b.txt']);
  expect(fs.existsSync(trace)).toBe(false);
});
