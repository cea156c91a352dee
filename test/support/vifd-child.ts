// The real vifd, as a child process a harness can SIGKILL and restart, and
// whose helper processes it checks for strays after each kill. Its log goes
// to a file (runs are long); readiness comes from the API, not the log.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { VIFD_BIN } from '../helpers/vifd-process.js';
import { alive, cmdline, descendants, stateOf } from './procs.js';
import { waitServing } from './readiness.js';

export class VifdChild {
  private child: ChildProcess | undefined;
  private exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }> | undefined;
  starts = 0;
  kills = 0;
  /** Exits the harness did not cause (crashes): must stay 0. */
  unexpectedExits: string[] = [];
  /** Helper processes alive after vifd was SIGKILLed (2 s without a pending SIGKILL, else 10 s): must stay empty. */
  strayHelpers: string[] = [];
  /** Helper processes seen when vifd was killed (each checked afterwards). */
  helpersAtKill = 0;

  constructor(
    private readonly args: string[],
    private readonly logFile: string,
    private readonly env: Record<string, string> = {},
    /** Options for node itself, before the script (e.g. --expose-gc). */
    private readonly nodeArgs: string[] = [],
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    if (this.running) throw new Error('vifd already running');
    const fd = openSync(this.logFile, 'a');
    const child = spawn(process.execPath, [...this.nodeArgs, VIFD_BIN, ...this.args], {
      stdio: ['ignore', fd, fd],
      env: { ...process.env, VIFD_LOG_LEVEL: process.env['VIFD_LOG_LEVEL'] ?? 'info', ...this.env },
    });
    closeSync(fd);
    this.starts++;
    this.child = child;
    let expected = false;
    (child as ChildProcess & { expectedExit?: () => void }).expectedExit = () => (expected = true);
    this.exit = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        if (!expected) this.unexpectedExits.push(`pid ${child.pid} exited code=${code} signal=${signal}`);
        resolve({ code, signal });
      }),
    );
  }

  /** True once this run answers /readyz (its first round is starting); false if it exited or took over 20 s. */
  async waitServing(): Promise<boolean> {
    const at = this.args.indexOf('--state-dir');
    if (at < 0 || !this.args[at + 1]) throw new Error('vifd run without --state-dir: no API socket to ask');
    return waitServing(this.args[at + 1]!, { alive: () => this.running }).then(
      () => true,
      () => false,
    );
  }

  private markExpected(): void {
    (this.child as (ChildProcess & { expectedExit?: () => void }) | undefined)?.expectedExit?.();
  }

  /** SIGKILL, as a crash would; resolves once the process is gone. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.markExpected();
    const helpers = descendants(this.child!.pid!).map((pid) => ({ pid, cmd: cmdline(pid) }));
    this.child!.kill('SIGKILL');
    this.kills++;
    await this.exit;
    this.helpersAtKill += helpers.length;
    // Every helper (ip monitor, a batch in flight, vdptool, the netlink helper)
    // dies with vifd. One inside a syscall that holds it (state D, e.g. a
    // netlink request waiting for the RTNL lock) dies when the syscall ends:
    // its SIGKILL is pending. Those get 10 s; a helper alive without a
    // pending SIGKILL after 2 s is a stray.
    const deadline = Date.now() + 10_000;
    let left = helpers.filter((h) => alive(h.pid));
    while (left.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      left = left.filter((h) => alive(h.pid));
      if (Date.now() > deadline - 8000 && left.every((h) => !stateOf(h.pid)?.killPending)) break;
    }
    for (const h of left) {
      const st = stateOf(h.pid);
      this.strayHelpers.push(`${h.pid} ${h.cmd} (state ${st?.state ?? '?'}${st?.killPending ? ', SIGKILL pending' : ', no signal pending'})`);
      try {
        process.kill(h.pid, 'SIGKILL'); // do not let it linger past the run
      } catch {
        // gone
      }
    }
  }

  /** Kills vifd's helper processes (not vifd): returns what was killed. */
  killHelpers(match: (cmd: string) => boolean = () => true): string[] {
    if (!this.running) return [];
    const killed: string[] = [];
    for (const pid of descendants(this.child!.pid!)) {
      const cmd = cmdline(pid);
      if (!match(cmd)) continue;
      try {
        process.kill(pid, 'SIGKILL');
        killed.push(cmd);
      } catch {
        // gone
      }
    }
    return killed;
  }

  /** SIGTERM: vifd must finish its round and exit 0. Returns the exit code. */
  async stop(timeoutMs = 20_000): Promise<number | null> {
    if (!this.running) return null;
    this.markExpected();
    this.child!.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), timeoutMs);
    const { code } = await this.exit!;
    clearTimeout(timer);
    return code;
  }
}
