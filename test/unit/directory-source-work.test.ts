// What the directory source reads: an event reads the one file it names, a
// resync of an unchanged directory reads and parses nothing (one stat per
// file), and a resync after a missed change reads just that file. Counted in
// documents put into the store, not in time.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DesiredStore } from '../../src/desired/store.js';
import { DirectorySource } from '../../src/sources/directory-source.js';
import type { WatchFactory } from '../../src/sources/directory-watch.js';
import { EventEmitter } from 'node:events';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const port = (i: number) => `${(i + 1).toString(16).padStart(8, '0')}-3333-4333-8333-333333333333`;
const doc = (i: number, mtu = 1400) => JSON.stringify({ apiVersion: 'vifd/v1', kind: 'PortBinding', port: port(i), mac: 'fa:16:3e:00:00:01', mtu, vif: { type: 'bridge', bridge: `br${i % 5}` } });

async function until(check: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A watch that reports nothing: events are "lost", only resync() sees changes. */
const deafWatch: WatchFactory = () => {
  const fake = new EventEmitter() as ReturnType<WatchFactory>;
  fake.close = async () => undefined;
  setImmediate(() => fake.emit('ready'));
  return fake;
};

function setUp(n: number, watchFactory?: WatchFactory) {
  const dir = mkdtempSync(join(tmpdir(), 'vifd-dirwork-'));
  dirs.push(dir);
  for (let i = 0; i < n; i++) writeFileSync(join(dir, `p${i}.json`), doc(i));
  const store = new DesiredStore();
  const changes: Array<Set<string>> = [];
  const source = new DirectorySource({ dir, store, logger: pino({ level: 'silent' }), quietMs: 5, recheckMs: 20, onChange: (ports) => void changes.push(ports), ...(watchFactory ? { watchFactory } : {}) });
  return { dir, store, source, changes };
}

describe('directory source: work per change', () => {
  it('an event reads only the file it names', async () => {
    const { dir, store, source, changes } = setUp(300);
    await source.start();
    await source.resync();
    const set = vi.spyOn(store, 'set');
    const seen = changes.length;
    writeFileSync(join(dir, 'p7.json'), doc(7, 1500));
    await until(() => changes.slice(seen).some((c) => c.has(port(7))));
    await new Promise((r) => setTimeout(r, 60)); // the re-check
    expect(set.mock.calls.map(([id]) => id)).toEqual(['file:p7.json']);
    expect(store.view().bindings.get(port(7))?.spec.binding.mtu).toBe(1500);
    await source.stop();
  });

  it('a resync of an unchanged directory parses nothing; after a missed write it reads that file alone', async () => {
    const { dir, store, source } = setUp(300, deafWatch);
    await source.start();
    const set = vi.spyOn(store, 'set');
    const before = source.resyncCounters().desiredResyncs;
    await source.resync();
    expect(set).not.toHaveBeenCalled();
    writeFileSync(join(dir, 'p9.json'), doc(9, 1600));
    await source.resync();
    expect(set.mock.calls.map(([id]) => id)).toEqual(['file:p9.json']);
    expect(store.view().bindings.get(port(9))?.spec.binding.mtu).toBe(1600);
    expect(source.resyncCounters().desiredResyncs).toBe(before + 2);
    await source.stop();
  });
});

describe('directory source: a burst of events', () => {
  it('is followed by a resync, which finds a change whose event the kernel dropped', async () => {
    let fake: (EventEmitter & { close: () => Promise<void> }) | undefined;
    const factory: WatchFactory = () => {
      fake = new EventEmitter() as ReturnType<WatchFactory>;
      fake.close = async () => undefined;
      setImmediate(() => fake!.emit('ready'));
      return fake as ReturnType<WatchFactory>;
    };
    const dir = mkdtempSync(join(tmpdir(), 'vifd-dirburst-'));
    dirs.push(dir);
    for (let i = 0; i < 20; i++) writeFileSync(join(dir, `p${i}.json`), doc(i));
    const store = new DesiredStore();
    const source = new DirectorySource({ dir, store, logger: pino({ level: 'silent' }), quietMs: 5, burstEvents: 50, onChange: () => undefined, watchFactory: factory });
    await source.start();
    await until(() => fake !== undefined && source.resyncCounters().desiredResyncs >= 1);
    const resyncs = source.resyncCounters().desiredResyncs;
    // 49 events for one file: no resync. p3 changes without an event (dropped).
    writeFileSync(join(dir, 'p3.json'), doc(3, 1555));
    for (let i = 0; i < 49; i++) fake!.emit('entry', 'p1.json');
    await new Promise((r) => setTimeout(r, 100));
    expect(source.resyncCounters().desiredResyncs).toBe(resyncs);
    expect(store.view().bindings.get(port(3))?.spec.binding.mtu).toBe(1400);
    // 50: the burst is followed by a resync, which reads p3.
    for (let i = 0; i < 50; i++) fake!.emit('entry', 'p1.json');
    await until(() => store.view().bindings.get(port(3))?.spec.binding.mtu === 1555);
    expect(source.resyncCounters().desiredResyncs).toBe(resyncs + 1);
    await source.stop();
  });
});
