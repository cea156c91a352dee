// Watches a namespace's links with `ip -n NS monitor link` (one process,
// started before what it times; no polling, no process per check) and keeps
// the last state the kernel reported for each name: master, UP flag, netdev
// group. Times are performance.now() at the arrival of the event's line.
//
// iproute2 6.1 prints text: `3: tap0: <...,UP> mtu 1450 qdisc ... master br0
// state DOWN ... group 4242`, `Deleted 3: tap0: ...`; the bridge layer's own
// notifications have a `master` but no `group` (the group stays as last seen).
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { onCleanup, terminateSync } from './cleanup.js';

export interface LinkState {
  master: string | undefined;
  up: boolean;
  group: string | undefined;
}

type Waiter = { name: string; test: (s: LinkState | undefined, deleted: boolean) => boolean; resolve: (t: number) => void };

/** Parses one header line; undefined for continuation lines. */
export function parseMonitorLine(line: string): { name: string; deleted: boolean; master?: string; up: boolean; group?: string } | undefined {
  const m = /^(Deleted )?\d+: ([^:@\s]+)(?:@[^:\s]+)?: <([^>]*)>(.*)$/u.exec(line);
  if (!m) return undefined;
  const rest = m[4]!;
  const master = / master (\S+)/u.exec(rest)?.[1];
  const group = / group (\S+)/u.exec(rest)?.[1];
  return { name: m[2]!, deleted: m[1] !== undefined, up: m[3]!.split(',').includes('UP'), ...(master ? { master } : {}), ...(group ? { group } : {}) };
}

export class LinkWatch {
  private readonly child: ChildProcess;
  private readonly states = new Map<string, LinkState>();
  private waiters: Waiter[] = [];
  private readonly stopNow: () => void;
  readonly ready: Promise<void>;
  lines = 0;

  constructor(netns: string) {
    this.child = spawn('ip', ['-n', netns, 'monitor', 'link'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const pid = this.child.pid!;
    this.stopNow = onCleanup(`ip monitor ${pid}`, () => terminateSync(pid, 1000));
    this.ready = new Promise((resolve, reject) => {
      this.child.once('spawn', () => setTimeout(resolve, 50)); // it has subscribed once it runs
      this.child.once('error', reject);
    });
    const rl = createInterface({ input: this.child.stdout! });
    rl.on('line', (line) => this.onLine(line));
  }

  /** Seeds the state from one `ip -j link show` (the kernel's view before the watch). */
  seed(links: Array<{ ifname: string; master?: string; flags: string[]; group?: string }>): void {
    for (const l of links) this.states.set(l.ifname, { master: l.master, up: l.flags.includes('UP'), group: l.group });
  }

  state(name: string): LinkState | undefined {
    return this.states.get(name);
  }

  private onLine(line: string): void {
    const ev = parseMonitorLine(line);
    if (!ev) return;
    this.lines++;
    const at = performance.now();
    if (ev.deleted) {
      this.states.delete(ev.name);
    } else {
      const prev = this.states.get(ev.name);
      this.states.set(ev.name, { master: ev.master, up: ev.up, group: ev.group ?? prev?.group });
    }
    this.onChange?.(ev.name, at);
    if (this.waiters.length === 0) return;
    const state = this.states.get(ev.name);
    this.waiters = this.waiters.filter((w) => {
      if (w.name !== ev.name || !w.test(state, ev.deleted)) return true;
      w.resolve(at);
      return false;
    });
  }

  /** Called for every reported change, after the state is updated. */
  onChange: ((name: string, at: number) => void) | undefined;

  /** Resolves at the next event for `name` that satisfies `test` (checked on events only). */
  next(name: string, test: (s: LinkState | undefined, deleted: boolean) => boolean, timeoutMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`${name}: no matching link event within ${timeoutMs} ms (last state ${JSON.stringify(this.states.get(name) ?? null)})`));
      }, timeoutMs);
      const waiter: Waiter = {
        name,
        test,
        resolve: (t) => {
          clearTimeout(timer);
          resolve(t);
        },
      };
      this.waiters.push(waiter);
    });
  }

  stop(): void {
    this.stopNow();
  }
}
