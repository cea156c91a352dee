// The fallback source of kernel link events, used only when the netlink
// stream helper cannot run (link-observer.ts): `ip monitor link` in the
// managed namespace, turned into link names. Restarted with backoff if the
// monitor process dies.
import { backoffDelay } from '../lib/backoff.js';
import type { ResultPromise } from 'execa';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';
import { childGuard, execaGuarded } from './run.js';

/** `3: tap0: <...>`, `Deleted 3: tap0@if4: <...>`. iproute2 6.1 has no JSON here. */
export function linkNameOfMonitorLine(line: string): string | undefined {
  const match = /^(?:Deleted )?\d+: ([^:@\s]+)(?:@[^:\s]+)?:/u.exec(line.trim());
  return match?.[1];
}

export class LinkMonitor {
  private child: ResultPromise | undefined;
  private stopped = false;
  private restarts = 0;
  private startedAt = 0;

  constructor(
    private readonly netns: string | undefined,
    private readonly onNames: (names: string[]) => void,
    private readonly logger: Logger,
    /** Called after a restart: events were lost while the monitor was down. */
    private readonly onGap: () => void = () => undefined,
  ) {}

  start(): void {
    if (this.stopped) return;
    const restart = this.startedAt > 0;
    this.startedAt = Date.now();
    const args = this.netns ? ['-n', this.netns, 'monitor', 'link'] : ['monitor', 'link'];
    if (this.restarts === 0 && childGuard().kind === 'none') this.logger.warn('neither native/build/vifd-guard nor setpriv found: helper processes may outlive vifd');
    // Through the guard: a SIGKILLed vifd must not leave its monitor behind.
    const child = execaGuarded('ip', args, { reject: false, stdin: 'ignore', stderr: 'ignore', buffer: false });
    this.child = child;
    const lines = createInterface({ input: child.stdout! });
    let pending = new Set<string>();
    let flush: NodeJS.Immediate | undefined;
    lines.on('line', (line) => {
      const name = linkNameOfMonitorLine(line);
      if (!name) return;
      pending.add(name);
      flush ??= setImmediate(() => {
        flush = undefined;
        const names = [...pending];
        pending = new Set();
        this.onNames(names);
      });
    });
    if (restart) child.once('spawn', () => this.onGap());
    void child.then(() => {
      if (this.stopped) return;
      // A monitor that ran a while was healthy: start the backoff over.
      if (Date.now() - this.startedAt > 30_000) this.restarts = 0;
      const delay = backoffDelay(++this.restarts, { baseMs: 100, maxMs: 5000 });
      this.logger.warn({ delayMs: delay }, 'ip monitor exited; restarting');
      setTimeout(() => this.start(), delay).unref();
    });
  }

  stop(): void {
    this.stopped = true;
    this.child?.kill();
  }
}
