// When the desired directory cannot be watched (inotify limits: EMFILE,
// ENOSPC — shared by every process of the user), the directory source polls
// the directory until a retried watch works: changes are seen late, never
// lost.
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { WatchFactory } from '../../src/sources/directory-watch.js';
import { DesiredStore } from '../../src/desired/store.js';
import { DirectorySource } from '../../src/sources/directory-source.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const P1 = '11111111-1111-4111-8111-111111111111';
const P2 = '22222222-2222-4222-8222-222222222222';
const doc = (port: string) => JSON.stringify({ apiVersion: 'vifd/v1', kind: 'PortBinding', port, mac: 'fa:16:3e:00:00:01', vif: { type: 'bridge', bridge: 'br1' } });

/** A directory watch stand-in whose set-up fails with EMFILE, `failures` times. */
function failingWatch(failures: number): { factory: WatchFactory; calls: () => number } {
  let calls = 0;
  const factory = (() => {
    calls++;
    const fake = new EventEmitter() as EventEmitter & { close: () => Promise<void> };
    fake.close = async () => undefined;
    const failing = calls <= failures;
    setImmediate(() => (failing ? fake.emit('error', Object.assign(new Error('EMFILE: too many open files, watch'), { code: 'EMFILE' })) : fake.emit('ready')));
    return fake;
  }) as unknown as WatchFactory;
  return { factory, calls: () => calls };
}

async function until(check: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('directory source without a watch', () => {
  it('polls the directory while the watch fails, and watches again once it can', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vifd-dirpoll-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'a.json'), doc(P1));
    const store = new DesiredStore();
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(l) });
    const watcher = failingWatch(2);
    const source = new DirectorySource({ dir, store, logger, onChange: () => undefined, pollMs: 50, retryWatchMs: 300, watchFactory: watcher.factory });
    await source.start();
    expect(store.view().bindings.has(P1)).toBe(true);
    // No watch: a new file and a removal are still seen, by polling.
    writeFileSync(join(dir, 'b.json'), doc(P2));
    await until(() => store.view().bindings.has(P2), 3000);
    unlinkSync(join(dir, 'a.json'));
    await until(() => !store.view().bindings.has(P1), 3000);
    expect(lines.filter((l) => l.includes('polling the directory until the watch can be set up again'))).toHaveLength(1);
    // The third try works: polling stops.
    await until(() => lines.some((l) => l.includes('watched again: polling stopped')), 5000);
    expect(watcher.calls()).toBe(3);
    await source.stop();
  });
});
