import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ServiceNotifier, statusText, watchdogFromEnv } from '../../src/cli/service-notify.js';
import type { NotifySink } from '../../src/host/sd-notify.js';

const logger = pino({ level: 'silent' });

class FakeSink implements NotifySink {
  readonly sent: string[][] = [];
  closed = false;
  send(assignments: readonly string[]): void {
    this.sent.push([...assignments]);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
  count(assignment: string): number {
    return this.sent.filter((m) => m.includes(assignment)).length;
  }
}

afterEach(() => vi.useRealTimers());

describe('watchdogFromEnv', () => {
  it('pings at half of WATCHDOG_USEC; a round is wedged after the whole of it', () => {
    expect(watchdogFromEnv({ WATCHDOG_USEC: '30000000' }, 42)).toEqual({ intervalMs: 15_000, stallMs: 30_000 });
  });
  it('honours WATCHDOG_PID: another process\'s watchdog is not ours', () => {
    expect(watchdogFromEnv({ WATCHDOG_USEC: '1000000', WATCHDOG_PID: '42' }, 42)).toEqual({ intervalMs: 500, stallMs: 1000 });
    expect(watchdogFromEnv({ WATCHDOG_USEC: '1000000', WATCHDOG_PID: '7' }, 42)).toBeUndefined();
  });
  it('no watchdog without a positive integer WATCHDOG_USEC', () => {
    for (const usec of [undefined, '', '0', '-5', 'x', '1.5']) expect(watchdogFromEnv(usec === undefined ? {} : { WATCHDOG_USEC: usec }, 1)).toBeUndefined();
  });
});

describe('statusText', () => {
  it('counts bindings by phase, in a fixed order, and names what is queued and a stale etcd', () => {
    expect(statusText('starting', undefined)).toBe('starting: loading sources');
    expect(statusText('running', { total: 0, rounds: 1, queued: 0 })).toBe('running: 0 bindings');
    expect(statusText('running', { total: 1, Ready: 1, rounds: 3, queued: 0 })).toBe('running: 1 binding (1 Ready)');
    expect(statusText('running', { total: 5, Failed: 1, Ready: 3, Pending: 1, queued: 2, etcdStale: 1 })).toBe(
      'running: 5 bindings (3 Ready, 1 Pending, 1 Failed); 2 queued; etcd unreachable: last known bindings kept',
    );
    expect(statusText('stopping', { total: 2, Ready: 2 })).toBe('stopping: 2 bindings (2 Ready)');
  });
});

describe('ServiceNotifier', () => {
  it('READY=1 once, with the status; STOPPING=1 later; a READY after STOPPING is not sent', async () => {
    const sink = new FakeSink();
    const n = new ServiceNotifier({ sink, watchdog: undefined, logger });
    n.attach({ busySince: () => undefined, summary: () => ({ total: 1, Ready: 1 }) });
    n.ready();
    n.stopping();
    n.ready();
    await n.close();
    expect(sink.sent).toEqual([
      ['STATUS=starting: loading sources'],
      ['READY=1', 'STATUS=running: 1 binding (1 Ready)'],
      ['STOPPING=1', 'STATUS=stopping: 1 binding (1 Ready)'],
    ]);
    expect(sink.closed).toBe(true);
  });

  it('pings every interval while no round runs longer than the stall limit, stops while one does, resumes after', async () => {
    vi.useFakeTimers();
    const sink = new FakeSink();
    let busySince: number | undefined;
    const n = new ServiceNotifier({ sink, watchdog: { intervalMs: 500, stallMs: 1000 }, logger, statusEveryMs: 60_000 });
    n.attach({ busySince: () => busySince, summary: () => ({ total: 0 }) });
    vi.advanceTimersByTime(2000);
    expect(sink.count('WATCHDOG=1')).toBe(4); // idle: alive
    busySince = Date.now(); // a round starts
    vi.advanceTimersByTime(500);
    expect(sink.count('WATCHDOG=1')).toBe(5); // running 500 ms: still fine
    vi.advanceTimersByTime(3000);
    expect(sink.count('WATCHDOG=1')).toBe(5); // running >= 1000 ms: wedged, no pings
    busySince = undefined; // it finished after all
    vi.advanceTimersByTime(500);
    expect(sink.count('WATCHDOG=1')).toBe(6);
    await n.close();
    vi.advanceTimersByTime(5000);
    expect(sink.count('WATCHDOG=1')).toBe(6); // closed: no timers left
  });

  it('sends STATUS= when the counts change, not on every tick', async () => {
    vi.useFakeTimers();
    const sink = new FakeSink();
    let summary: Record<string, number> = { total: 1, Pending: 1 };
    const n = new ServiceNotifier({ sink, watchdog: undefined, logger, statusEveryMs: 1000 });
    n.attach({ busySince: () => undefined, summary: () => summary });
    n.ready();
    vi.advanceTimersByTime(5000);
    summary = { total: 1, Ready: 1 };
    vi.advanceTimersByTime(5000);
    await n.close();
    expect(sink.sent.map((m) => m.find((l) => l.startsWith('STATUS='))).filter(Boolean)).toEqual([
      'STATUS=starting: loading sources',
      'STATUS=running: 1 binding (1 Pending)',
      'STATUS=running: 1 binding (1 Ready)',
    ]);
  });
});
