// The etcd cache: a snapshot plus a journal, so one watch event appends a
// line instead of rewriting every value; what a restart loads is what was
// recorded, whatever a crash tore.
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EtcdCache, type EtcdCacheContent } from '../../src/sources/etcd/cache.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const P = '/vifd/v1/hosts/h/bindings/';

function setUp() {
  const dir = mkdtempSync(join(tmpdir(), 'vifd-etcdcache-'));
  dirs.push(dir);
  const errors: unknown[] = [];
  const values = new Map<string, string>();
  let revision = 0;
  const content = (): EtcdCacheContent => ({ prefix: P, revision, values: Object.fromEntries(values) });
  const cache = new EtcdCache(dir, (e) => void errors.push(e));
  const event = (key: string, value: string | undefined) => {
    revision++;
    if (value === undefined) values.delete(key);
    else values.set(key, value);
    cache.record(P, revision, [{ key, value }], content, 0);
  };
  return { dir, cache, content, event, errors, values };
}

describe('etcd cache', () => {
  it('a watch event appends one line; a restart loads snapshot + journal; a torn line and other prefixes are ignored', async () => {
    const { dir, cache, content, event, errors, values } = setUp();
    for (let i = 0; i < 100; i++) values.set(`k${i}`, `v${i}`);
    cache.replace(content, 0);
    await cache.flush(content);
    await new Promise((r) => setTimeout(r, 20));
    const snapshotBefore = readFileSync(cache.path, 'utf8');
    event('k1', 'changed');
    await new Promise((r) => setTimeout(r, 20));
    event('k2', undefined);
    await new Promise((r) => setTimeout(r, 20));
    await cache.flush(content);
    expect(readFileSync(cache.path, 'utf8')).toBe(snapshotBefore); // not rewritten
    expect(readFileSync(cache.journalPath, 'utf8').trim().split('\n')).toHaveLength(2);
    appendFileSync(cache.journalPath, JSON.stringify({ p: '/other/', r: 99, k: 'k3', v: 'foreign' }) + '\n{"p":"' + P + '","r":100,"k":"k4","v":"to');
    const loaded = await new EtcdCache(dir, () => undefined).load(P);
    expect(loaded?.values['k1']).toBe('changed');
    expect(loaded?.values['k2']).toBeUndefined();
    expect(loaded?.values['k3']).toBe('v3');
    expect(loaded?.values['k4']).toBe('v4');
    expect(loaded?.revision).toBe(2);
    expect(errors).toEqual([]);
  });

  it('folds the journal into a new snapshot once it is as long as the snapshot, and skips lines the snapshot holds', async () => {
    const { dir, cache, content, event, errors } = setUp();
    cache.replace(content, 0);
    await cache.flush(content);
    for (let i = 0; i < 1100; i++) {
      event(`k${i}`, `v${i}`);
      if (i % 100 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    await new Promise((r) => setTimeout(r, 20));
    await cache.flush(content);
    const journal = readFileSync(cache.journalPath, 'utf8').trim();
    expect(journal.split('\n').filter(Boolean).length).toBeLessThan(1024);
    const snapshot = JSON.parse(readFileSync(cache.path, 'utf8')) as EtcdCacheContent;
    expect(Object.keys(snapshot.values).length).toBeGreaterThan(1000);
    // A crash between the new snapshot and the journal's truncation: old lines are replayed onto it, and skipped.
    appendFileSync(cache.journalPath, JSON.stringify({ p: P, r: 1, k: 'k0', v: 'stale' }) + '\n');
    const loaded = await new EtcdCache(dir, () => undefined).load(P);
    expect(loaded?.values['k0']).toBe('v0');
    expect(Object.keys(loaded!.values)).toHaveLength(1100);
    expect(errors).toEqual([]);
  });
});
