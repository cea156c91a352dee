// The real daemon (bin/vifd.js → dist/vifd.mjs) as a child process: started
// by the benchmark, stopped by its pid (SIGTERM, SIGKILL after 10 s), its
// helper processes (ip monitor, guard) checked and ended by pid afterwards.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { alive, cmdline, descendants } from '../../test/support/procs.js';
import { onCleanup, terminateSync } from './cleanup.js';
import { sleep } from './stats.js';

export const REPO = resolve(import.meta.dirname, '../../..');
const BIN = join(REPO, 'bin/vifd.js');

/** The line's own pino `time` (epoch ms) on the performance.now() clock; else its arrival. */
function loggedAt(line: string): number {
  const arrival = performance.now();
  try {
    const time = (JSON.parse(line) as { time?: unknown }).time;
    if (typeof time === 'number') return Math.min(arrival, time - (Date.now() - arrival));
  } catch {
    // not JSON
  }
  return arrival;
}

export interface DaemonOptions {
  root: string;
  desired: string;
  state: string;
  netns: string;
  resyncSeconds: number;
  ovsdb?: string;
}

export class Daemon {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly socket: string;
  /** performance.now() when it logged `vifd running` (its first resync was just queued, the resync timer started). */
  runningAt: number | undefined;
  private readonly tail: string[] = [];
  private readonly exited: Promise<void>;
  private readonly unregister: () => void;

  constructor(o: DaemonOptions) {
    const args = ['run', '--desired-dir', o.desired, '--state-dir', o.state, '--netns', o.netns, '--resync-seconds', String(o.resyncSeconds)];
    if (o.ovsdb) args.push('--ovsdb', o.ovsdb);
    this.child = spawn(process.execPath, [BIN, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      // The daemon's own default log level; the runtime dir (intent journal fallback) in the bench's temp space.
      env: { ...process.env, VIFD_LOG_LEVEL: 'info', RUNTIME_DIRECTORY: join(o.root, 'run') },
    });
    this.pid = this.child.pid!;
    this.socket = join(o.state, 'vifd.sock');
    const pid = this.pid;
    this.unregister = onCleanup(`vifd ${pid}`, () => {
      const helpers = alive(pid) ? descendants(pid).map((p) => ({ p, cmd: cmdline(p) })) : [];
      terminateSync(pid, 10_000);
      for (const h of helpers) if (alive(h.p) && cmdline(h.p) === h.cmd) terminateSync(h.p, 1000);
    });
    this.exited = new Promise((r) => this.child.once('exit', () => r()));
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => {
        if (this.runningAt === undefined && line.includes('"msg":"vifd running"')) this.runningAt = loggedAt(line);
        this.tail.push(line);
        if (this.tail.length > 40) this.tail.shift();
      });
    }
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  lastLines(): string {
    return this.tail.join('\n');
  }

  /** Waits for the API socket to answer (the daemon is past its start). */
  async waitSocket(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!existsSync(this.socket)) {
      if (!this.running) throw new Error(`vifd exited:\n${this.lastLines()}`);
      if (performance.now() > deadline) throw new Error(`vifd API socket not there after ${timeoutMs} ms`);
      await sleep(20);
    }
  }

  /** SIGTERM, SIGKILL after 10 s; then any helper still alive, by pid. */
  async stop(): Promise<void> {
    const helpers = this.running ? descendants(this.pid).map((p) => ({ p, cmd: cmdline(p) })) : [];
    if (this.running) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
    await sleep(100);
    for (const h of helpers) if (alive(h.p) && cmdline(h.p) === h.cmd) terminateSync(h.p, 1000);
    this.unregister(); // nothing left to do, but unregisters the step
  }
}
