// One replica of a compose service as a supervised process: its output in a log file, Docker's
// restart policy (`unless-stopped` and `always` restart it after a crash or a kill, with Docker's
// back-off: 100 ms doubling, reset after 10 s up), and a stop that gives it its grace period.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { stopPid, waitFor } from '../dev/processes';

export interface ProcessSpec {
  /** e.g. "worker-2": the log file's and the messages' name. */
  name: string;
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  logFile: string;
  uid?: number;
  gid?: number;
  restart: 'no' | 'always' | 'unless-stopped' | 'on-failure';
  stopGraceMs: number;
}

export class ServiceProcess {
  private child: ChildProcess | null = null;
  private stopped = false;
  private backoffMs = 100;
  private startedAt = 0;
  /** Exit codes, oldest first (signals as 128 + n, as Docker reports them). */
  readonly exits: number[] = [];
  restarts = 0;

  constructor(
    readonly spec: ProcessSpec,
    private readonly say: (line: string) => void,
  ) {}

  get pid(): number | null {
    return this.child?.pid && this.child.exitCode === null && this.child.signalCode === null ? this.child.pid : null;
  }

  start(): void {
    this.stopped = false;
    const log = fs.openSync(this.spec.logFile, 'a');
    if (this.spec.uid !== undefined) fs.fchownSync(log, this.spec.uid, this.spec.gid ?? this.spec.uid);
    const [cmd, ...args] = this.spec.argv;
    const child = spawn(cmd, args, { cwd: this.spec.cwd, env: this.spec.env, stdio: ['ignore', log, log], uid: this.spec.uid, gid: this.spec.gid });
    fs.closeSync(log);
    this.child = child;
    this.startedAt = Date.now();
    child.once('error', (err) => this.say(`  ${this.spec.name}: could not start ${cmd}: ${err.message}`));
    child.once('exit', (code, signal) => {
      const status = code ?? 128 + (signal ? (({ SIGKILL: 9, SIGTERM: 15, SIGINT: 2 }) as Record<string, number>)[signal] ?? 0 : 0);
      this.exits.push(status);
      if (this.child === child) this.child = null;
      if (this.stopped || this.spec.restart === 'no' || (this.spec.restart === 'on-failure' && status === 0)) return;
      if (Date.now() - this.startedAt > 10_000) this.backoffMs = 100;
      this.say(`  ${this.spec.name} exited (${signal ?? `code ${code}`}); restarting it in ${this.backoffMs} ms (restart: ${this.spec.restart})`);
      const delay = this.backoffMs;
      this.backoffMs = Math.min(this.backoffMs * 2, 60_000);
      setTimeout(() => {
        if (!this.stopped && !this.child) {
          this.restarts++;
          this.start();
        }
      }, delay).unref();
    });
  }

  /** For a one-shot job: its exit code. */
  async exited(timeoutMs: number): Promise<number | null> {
    const before = this.exits.length;
    if (this.child === null && before > 0) return this.exits[before - 1];
    await waitFor(() => this.exits.length > before || (this.child === null && this.exits.length > 0), timeoutMs, 100);
    return this.exits.length > 0 ? this.exits[this.exits.length - 1] : null;
  }

  /** A signal from outside (the tests' `kill -9`); the restart policy then applies. */
  kill(signal: NodeJS.Signals): void {
    if (this.pid) process.kill(this.pid, signal);
  }

  /** `docker compose stop`: SIGTERM, SIGKILL after the grace period; no restart. */
  async stop(): Promise<void> {
    this.stopped = true;
    const pid = this.pid;
    if (pid) await stopPid(pid, 'SIGTERM', this.spec.stopGraceMs);
  }
}
