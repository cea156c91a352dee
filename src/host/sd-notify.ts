// sd_notify(3) for a Node daemon: messages go through native/vifd-notify (a
// long-lived child that owns the AF_UNIX datagram socket Node lacks). One
// helper for the daemon's whole life, so systemd can always attribute its
// messages to vifd's cgroup (systemd-notify(1) exits too soon for that).
// The unit needs NotifyAccess=all: the sender is vifd's child, not its main PID.
import { spawn, type ChildProcess } from 'node:child_process';
import { nativeHelperPath } from './native-path.js';

export interface NotifySink {
  /** Sends one message: `VAR=value` assignments, one datagram. */
  send(assignments: readonly string[]): void;
  close(): Promise<void>;
}

export interface NotifyHelperOptions {
  socket: string;
  helperPath?: string;
  onError?: (error: Error) => void;
}

export class NotifyHelper implements NotifySink {
  private readonly child: ChildProcess;
  private broken = false;

  constructor(private readonly o: NotifyHelperOptions) {
    // Only NOTIFY_SOCKET: the helper needs nothing else from vifd's environment.
    this.child = spawn(o.helperPath ?? nativeHelperPath('vifd-notify', 'VIFD_NOTIFY_HELPER'), [], {
      stdio: ['pipe', 'ignore', 'inherit'],
      env: { NOTIFY_SOCKET: o.socket },
    });
    this.child.on('error', (error) => this.fail(error));
    this.child.stdin!.on('error', (error) => this.fail(error));
    this.child.on('exit', (code, signal) => {
      if (code !== 0 || signal !== null) this.fail(new Error(`vifd-notify exited (${signal ?? `code ${code}`})`));
    });
    // It must not keep vifd alive: close() ends it on the way out.
    this.child.unref();
    (this.child.stdin as unknown as { unref?: () => void }).unref?.();
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  send(assignments: readonly string[]): void {
    if (this.broken || assignments.length === 0) return;
    const lines = assignments.map((a) => a.replace(/\n/g, ' ')).join('\n');
    this.child.stdin!.write(`${lines}\n\n`);
  }

  /** Ends the helper (end of input; SIGKILL if it has not gone within 2 s). */
  async close(): Promise<void> {
    if (this.broken || this.child.pid === undefined || this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.stdin!.end();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.child.kill('SIGKILL');
        resolve();
      }, 2000);
    });
    await Promise.race([exited, late]);
    clearTimeout(timer);
  }

  private fail(error: Error): void {
    if (this.broken) return;
    this.broken = true;
    this.o.onError?.(error);
  }
}
