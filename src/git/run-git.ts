// Runs the git CLI without a shell. Output and errors are returned as text with any URL
// credentials and auth headers removed, so a failing command cannot leak them.
import { execFile } from 'node:child_process';

export class GitError extends Error {
  override name = 'GitError';
  constructor(message: string, readonly exitCode: number | null) {
    super(message);
  }
}

const CREDENTIALS_IN_URL = /(\b[a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi;
const AUTH_HEADER = /(authorization:\s*(basic|bearer)\s+)[A-Za-z0-9+/=._~-]+/gi;

export function scrubGitOutput(text: string): string {
  return text.replace(CREDENTIALS_IN_URL, '$1[redacted]@').replace(AUTH_HEADER, '$1[redacted]');
}

export interface RunGitOptions {
  cwd?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
  signal?: AbortSignal;
  maxBuffer?: number;
}

export function runGit(args: string[], opts: RunGitOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      args,
      {
        cwd: opts.cwd,
        env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_ASKPASS: 'echo', ...opts.env },
        timeout: opts.timeoutMs ?? 10 * 60_000,
        signal: opts.signal,
        maxBuffer: opts.maxBuffer ?? 64 * 1024 * 1024,
        encoding: 'utf8',
      },
      (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        const code = typeof (err as NodeJS.ErrnoException).code === 'number' ? ((err as unknown as { code: number }).code) : null;
        const why = (err as { killed?: boolean }).killed ? 'timed out or was cancelled' : scrubGitOutput(stderr.trim().split('\n').slice(-3).join(' '));
        reject(new GitError(`git ${args[0]} failed: ${why || 'exit ' + code}`, code));
      },
    );
  });
}

export async function gitVersion(): Promise<string> {
  return (await runGit(['--version'], { timeoutMs: 10_000 })).trim();
}
