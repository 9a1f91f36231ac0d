// A child process of the example (KMS, daemon, gst-launch pipeline): its output kept for the
// caller to read, its exit status recorded, and a stop() that always finishes (the given signal,
// then SIGKILL after a grace period) so a run never leaves a process behind.
import { spawn, type ChildProcess } from 'node:child_process';

export class Child {
  out = '';
  err = '';
  /** exit code (null when killed by a signal); undefined while running */
  exited: number | null | undefined;
  /** the signal that ended it, if one did */
  signal: NodeJS.Signals | null = null;
  private exit: Promise<void>;
  private proc: ChildProcess;

  constructor(
    command: string,
    args: string[],
    private readonly stopSignal: NodeJS.Signals = 'SIGTERM',
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.proc = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    this.exit = new Promise((res) => this.proc.once('exit', (c, sig) => ((this.exited = c), (this.signal = sig), res())));
    this.proc.stdout!.setEncoding('utf8').on('data', (s: string) => (this.out += s));
    this.proc.stderr!.setEncoding('utf8').on('data', (s: string) => (this.err += s));
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  async stop(graceMs = 5000): Promise<void> {
    if (this.exited !== undefined) return;
    this.proc.kill(this.stopSignal);
    const t = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
    await this.exit;
    clearTimeout(t);
  }
}
