// Runs the git CLI without a shell. Output and errors are returned as text with any URL
// credentials and auth headers removed, so a failing command cannot leak them.
//
// `execGit` is the full-featured runner (stdout and stderr, timeout vs. cancellation told apart,
// the whole process group killed, literal secrets scrubbed); `runGit` is the simple form.
import { spawn } from 'node:child_process';

/** Why a git command did not succeed. */
export type GitFailureReason = 'exit' | 'timeout' | 'cancelled' | 'spawn' | 'output_too_large' | 'too_large';

export class GitError extends Error {
  override name = 'GitError';
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly reason: GitFailureReason = 'exit',
    /** The command's stderr, scrubbed (full text, for classification). */
    readonly stderr: string = '',
    /** For `too_large`: the size measured when git was stopped. */
    readonly bytesOnDisk: number | null = null,
  ) {
    super(message);
  }
}

const CREDENTIALS_IN_URL = /(\b[a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi;
const AUTH_HEADER = /(authorization:\s*(basic|bearer)\s+)[A-Za-z0-9+/=._~-]+/gi;

export function scrubGitOutput(text: string): string {
  return text.replace(CREDENTIALS_IN_URL, '$1[redacted]@').replace(AUTH_HEADER, '$1[redacted]');
}

/** scrubGitOutput, plus every literal occurrence of each secret (tokens, passwords, header values). */
export function scrubSecrets(text: string, secrets: readonly string[] = []): string {
  let out = text;
  // Longest first, so a secret containing another is cut whole.
  for (const s of [...secrets].filter((x) => x.length >= 4).sort((a, b) => b.length - a.length)) {
    out = out.split(s).join('[redacted]');
  }
  return scrubGitOutput(out);
}

export interface RunGitOptions {
  cwd?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
  signal?: AbortSignal;
  maxBuffer?: number;
  /** Literal values (tokens, passwords, header values) cut out of any error text. */
  secrets?: readonly string[];
  /** Each stderr chunk as it arrives, scrubbed (for progress reporting). */
  onStderr?: (text: string) => void;
  /**
   * A cap on what the command may write to disk: while git runs, `measure()` (bytes on disk) is
   * called every `intervalMs` (default 200); once it passes `maxBytes` the process group is killed
   * and the command fails with reason `too_large`. The caller checks once more after a success
   * (a fast transfer can finish between two measurements) and removes what git wrote.
   */
  sizeLimit?: { maxBytes: number; measure: () => Promise<number>; intervalMs?: number };
}

export interface GitResult {
  stdout: string;
  stderr: string;
}

// Variables that would point git at another repository or inject config (`git rev-parse
// --local-env-vars`); a parent process (a git hook, a test runner) may have set them.
const INHERITED_GIT_VARS = [
  'GIT_ALTERNATE_OBJECT_DIRECTORIES', 'GIT_CONFIG', 'GIT_CONFIG_PARAMETERS', 'GIT_CONFIG_COUNT', 'GIT_OBJECT_DIRECTORY',
  'GIT_DIR', 'GIT_WORK_TREE', 'GIT_IMPLICIT_WORK_TREE', 'GIT_GRAFT_FILE', 'GIT_INDEX_FILE', 'GIT_NO_REPLACE_OBJECTS',
  'GIT_REPLACE_REF_BASE', 'GIT_PREFIX', 'GIT_INTERNAL_SUPER_PREFIX', 'GIT_SHALLOW_FILE', 'GIT_COMMON_DIR', 'GIT_NAMESPACE',
];

// Tracing could write headers and URLs to stderr (and so to logs). Some are on when merely set
// (GIT_CURL_VERBOSE), so they are removed, never set to "".
const TRACE_VAR = /^GIT_(TRACE|CURL_VERBOSE|REDACT_COOKIES)/;

/**
 * The environment every git child gets (this module's and the indexer's): never prompt, no
 * tracing, no variables that redirect git to another repository or config, stable (English) messages.
 */
export function childEnv(extra?: Record<string, string>): NodeJS.ProcessEnv {
  const inherited: NodeJS.ProcessEnv = { ...process.env };
  for (const k of INHERITED_GIT_VARS) delete inherited[k];
  for (const k of Object.keys(inherited)) if (TRACE_VAR.test(k)) delete inherited[k];
  return {
    ...inherited,
    GIT_TERMINAL_PROMPT: '0',
    // Empty (not unset): git then uses neither core.askPass nor SSH_ASKPASS and fails at once.
    GIT_ASKPASS: '',
    SSH_ASKPASS: '',
    LC_ALL: 'C',
    LANGUAGE: '',
    // A transfer below 1 KB/s for a minute is a stalled server: git gives up and the activity
    // retries, rather than hanging until the command's overall timeout. The environment may say otherwise.
    GIT_HTTP_LOW_SPEED_LIMIT: inherited.GIT_HTTP_LOW_SPEED_LIMIT ?? '1000',
    GIT_HTTP_LOW_SPEED_TIME: inherited.GIT_HTTP_LOW_SPEED_TIME ?? '60',
    ...extra,
  };
}

function lastLines(text: string, n: number): string {
  return text.trim().split('\n').map((l) => l.trim()).filter(Boolean).slice(-n).join(' ');
}

/**
 * Runs `git <args>`. Resolves with stdout and stderr on exit 0; otherwise rejects with a
 * GitError whose `reason` tells a non-zero exit from a timeout or a cancellation. On timeout
 * or abort the whole process group (git and its helpers such as git-remote-https) is killed.
 */
export function execGit(args: string[], opts: RunGitOptions = {}): Promise<GitResult> {
  const secrets = opts.secrets ?? [];
  const scrub = (t: string) => scrubSecrets(t, secrets);
  const what = `git ${args[0] ?? ''}`.trim();
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) {
      reject(new GitError(`${what} was cancelled`, null, 'cancelled'));
      return;
    }
    const maxBuffer = opts.maxBuffer ?? 64 * 1024 * 1024;
    const child = spawn('git', args, {
      cwd: opts.cwd,
      env: childEnv(opts.env),
      stdio: ['ignore', 'pipe', 'pipe'],
      // Its own process group, so a kill reaches git's helpers too.
      detached: true,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outLen = 0;
    let errLen = 0;
    let killedFor: GitFailureReason | null = null;
    let settled = false;

    const killGroup = (why: GitFailureReason) => {
      if (killedFor) return;
      killedFor = why;
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
        else child.kill('SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const timer = setTimeout(() => killGroup('timeout'), opts.timeoutMs ?? 10 * 60_000);
    const onAbort = () => killGroup('cancelled');
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    let measured: number | null = null;
    let sizeTimer: NodeJS.Timeout | undefined;
    const limit = opts.sizeLimit;
    if (limit && limit.maxBytes > 0) {
      let measuring = false;
      sizeTimer = setInterval(() => {
        if (measuring || killedFor || settled) return;
        measuring = true;
        limit.measure().then(
          (bytes) => {
            measuring = false;
            if (settled || killedFor) return;
            measured = bytes;
            if (bytes > limit.maxBytes) killGroup('too_large');
          },
          () => {
            measuring = false; // a file that vanished mid-walk: the next tick measures again
          },
        );
      }, limit.intervalMs ?? 200);
    }
    const done = () => {
      settled = true;
      clearTimeout(timer);
      if (sizeTimer) clearInterval(sizeTimer);
      opts.signal?.removeEventListener('abort', onAbort);
    };

    child.stdout.on('data', (d: Buffer) => {
      outLen += d.length;
      if (outLen > maxBuffer) killGroup('output_too_large');
      else out.push(d);
    });
    child.stderr.on('data', (d: Buffer) => {
      if (errLen < 1024 * 1024) {
        err.push(d);
        errLen += d.length;
      }
      if (opts.onStderr) {
        try {
          opts.onStderr(scrub(d.toString('utf8')));
        } catch {
          /* a progress callback must not break the command */
        }
      }
    });
    child.on('error', (e) => {
      if (settled) return;
      done();
      reject(new GitError(`${what} could not be started: ${scrub(e.message)}`, null, 'spawn'));
    });
    child.on('close', (code) => {
      if (settled) return;
      done();
      const stdout = Buffer.concat(out).toString('utf8');
      const stderr = scrub(Buffer.concat(err).toString('utf8'));
      if (killedFor === 'timeout') {
        reject(new GitError(`${what} timed out after ${opts.timeoutMs ?? 600_000} ms`, null, 'timeout', stderr));
      } else if (killedFor === 'cancelled') {
        reject(new GitError(`${what} was cancelled`, null, 'cancelled', stderr));
      } else if (killedFor === 'too_large') {
        reject(new GitError(`${what} was stopped: it wrote more than ${limit?.maxBytes} bytes to disk`, null, 'too_large', stderr, measured));
      } else if (killedFor === 'output_too_large') {
        reject(new GitError(`${what} failed: its output exceeded ${maxBuffer} bytes`, null, 'output_too_large', stderr));
      } else if (code === 0) {
        resolve({ stdout, stderr });
      } else {
        reject(new GitError(`${what} failed: ${lastLines(stderr, 3) || `exit ${code}`}`, code, 'exit', stderr));
      }
    });
  });
}

export async function runGit(args: string[], opts: RunGitOptions = {}): Promise<string> {
  return (await execGit(args, opts)).stdout;
}

export async function gitVersion(): Promise<string> {
  return (await runGit(['--version'], { timeoutMs: 10_000 })).trim();
}
