import { describe, expect, it } from 'vitest';
import type { BindingStatus } from '../../src/model/status.js';
import { WatchHub, type WatchEvent } from '../../src/api/watch-hub.js';

const status = (port: string, phase: BindingStatus['phase'] = 'Ready'): BindingStatus =>
  ({ port, phase, message: '', attempts: 0, lastTransitionTime: '', source: 'api', type: 'bridge', devices: [], libvirt: undefined }) as BindingStatus;

function hubWith(ring: number) {
  const current = new Map<string, BindingStatus>();
  const hub = new WatchHub(() => [...current.values()], ring, 1000);
  const set = (port: string, phase?: BindingStatus['phase']) => {
    if (phase) current.set(port, status(port, phase));
    else current.delete(port);
    hub.publish(port, current.get(port));
  };
  return { hub, set };
}

describe('WatchHub', () => {
  it('numbers changes, ADDED then MODIFIED then DELETED, and fans them out live', () => {
    const { hub, set } = hubWith(10);
    const seen: WatchEvent[] = [];
    const start = hub.subscribe({ send: (e) => seen.push(...e) }, undefined);
    expect(start.initial).toEqual([{ type: 'BOOKMARK', revision: 1000 }]);
    set('a', 'Pending');
    set('a', 'Ready');
    set('a');
    expect(seen.map((e) => [e.type, e.revision])).toEqual([['ADDED', 1001], ['MODIFIED', 1002], ['DELETED', 1003]]);
    start.unsubscribe();
    set('b', 'Ready');
    expect(seen).toHaveLength(3);
    expect(hub.clients).toBe(0);
  });

  it('replays from the ring after a revision, without a snapshot', () => {
    const { hub, set } = hubWith(10);
    set('a', 'Pending');
    set('b', 'Pending');
    set('a', 'Ready');
    const start = hub.subscribe({ send: () => undefined }, 1001);
    expect(start.reset).toBe(false);
    expect(start.initial.map((e) => e.type === 'BOOKMARK' ? 'BOOKMARK' : `${e.type}:${(e as { port: string }).port}`)).toEqual(['ADDED:b', 'MODIFIED:a', 'BOOKMARK']);
    expect(hub.subscribe({ send: () => undefined }, 1003).initial).toEqual([{ type: 'BOOKMARK', revision: 1003 }]);
  });

  it('a revision older than the ring, or newer than the hub (another run), gets RESET and a snapshot', () => {
    const { hub, set } = hubWith(3);
    for (let i = 0; i < 6; i++) set(`p${i % 2}`, i % 2 ? 'Ready' : 'Pending');
    expect(hub.oldestResumable).toBe(1003);
    expect(hub.subscribe({ send: () => undefined }, 1003).reset).toBe(false);
    for (const since of [1002, 1, 99_999]) {
      const start = hub.subscribe({ send: () => undefined }, since);
      expect(start.reset).toBe(true);
      expect(start.initial.map((e) => e.type)).toEqual(['RESET', 'ADDED', 'ADDED', 'BOOKMARK']);
      expect(start.initial.every((e) => e.revision === 1006)).toBe(true);
    }
  });

  it('keeps the ring bounded over many changes', () => {
    const { hub, set } = hubWith(100);
    for (let i = 0; i < 5000; i++) set(`p${i % 7}`, 'Ready');
    expect(hub.revision).toBe(6000);
    expect(hub.oldestResumable).toBe(5900);
    expect(hub.subscribe({ send: () => undefined }, 5900).initial).toHaveLength(101);
  });

  it('drops changes older than maxAgeMs (also while idle, at the heartbeat): a client behind them gets RESET', () => {
    const clock = { t: 0 };
    const current = new Map<string, BindingStatus>();
    const hub = new WatchHub(() => [...current.values()], 100, 1000, { maxAgeMs: 60_000, now: () => clock.t });
    const set = (port: string) => {
      current.set(port, status(port));
      hub.publish(port, current.get(port));
    };
    set('a'); // 1001 at t=0
    clock.t = 30_000;
    set('b'); // 1002 at t=30 s
    expect(hub.historySize).toBe(2);
    clock.t = 60_001;
    hub.bookmark(); // the heartbeat prunes with no change published
    expect(hub.historySize).toBe(1);
    expect(hub.oldestResumable).toBe(1001);
    expect(hub.subscribe({ send: () => undefined }, 1001).initial.map((e) => e.type)).toEqual(['ADDED', 'BOOKMARK']);
    expect(hub.subscribe({ send: () => undefined }, 1000).reset).toBe(true);
    clock.t = 90_001;
    hub.bookmark();
    expect(hub.historySize).toBe(0);
    expect(hub.oldestResumable).toBe(1002);
    // Caught up: nothing to replay, no RESET; one revision behind: RESET and the snapshot.
    expect(hub.subscribe({ send: () => undefined }, 1002)).toMatchObject({ reset: false, initial: [{ type: 'BOOKMARK', revision: 1002 }] });
    const behind = hub.subscribe({ send: () => undefined }, 1001);
    expect(behind.reset).toBe(true);
    expect(behind.initial.map((e) => e.type)).toEqual(['RESET', 'ADDED', 'ADDED', 'BOOKMARK']);
  });

  it('history and known ports stay bounded by the count and by the ports that exist, over many distinct ports', () => {
    const current = new Map<string, BindingStatus>();
    const hub = new WatchHub(() => [...current.values()], 500, 1000);
    for (let i = 0; i < 20_000; i++) {
      const port = `p${i}`;
      current.set(port, status(port, 'Pending'));
      hub.publish(port, current.get(port));
      if (i >= 10) {
        const gone = `p${i - 10}`;
        current.delete(gone);
        hub.publish(gone, undefined);
      }
      expect(hub.historySize).toBeLessThanOrEqual(500);
    }
    expect(hub.knownPorts).toBe(10);
  });
});
