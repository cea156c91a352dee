import { describe, expect, it } from 'vitest';
import { b64, decodeKv, normalisePrefix, parseEndpoints, prefixRangeEnd, unb64 } from '../../src/sources/etcd/codec.js';
import { parseEtcdValue, portOfKey } from '../../src/sources/etcd/document.js';
import { parseHostKey, statusKey } from '../../src/sources/etcd/keys.js';
import { fleetTable, fleetTotals } from '../../src/sources/etcd/fleet.js';

const port = '3f2a8c71-5b0e-4d2a-9c3e-7a1b2c3d4e5f';
const doc = (p = port) => JSON.stringify({ apiVersion: 'vifd/v1', kind: 'PortBinding', port: p, mac: 'fa:16:3e:5d:12:7a', vif: { type: 'bridge', bridge: 'br0' } });

describe('etcd codec', () => {
  it('computes the prefix range end', () => {
    expect(unb64(prefixRangeEnd('/a/'))).toBe('/a0');
    expect([...Buffer.from(prefixRangeEnd('aÿ'), 'base64')]).toEqual([0x61, 0xc3, 0xc0]);
    expect(unb64(b64('/vifd/v1/é'))).toBe('/vifd/v1/é');
  });
  it('decodes key-values with 64-bit strings', () => {
    expect(decodeKv({ key: b64('/k'), value: b64('v'), mod_revision: '42' })).toEqual({ key: '/k', value: 'v', modRevision: 42 });
    expect(decodeKv({ key: b64('/k') })).toEqual({ key: '/k', value: '', modRevision: 0 });
  });
  it('parses endpoints and prefixes', () => {
    expect(parseEndpoints('http://127.0.0.1:2379/, 10.0.0.2:2379')).toEqual(['http://127.0.0.1:2379', 'http://10.0.0.2:2379']);
    expect(parseEndpoints('https://x:1')).toEqual(['https://x:1']);
    expect(() => parseEndpoints('ftp://x:1')).toThrow(/only http/u);
    expect(() => parseEndpoints('https://x:1,http://y:2')).toThrow(/mix/u);
    expect(() => parseEndpoints(' , ')).toThrow();
    expect(normalisePrefix('vifd/x')).toBe('/vifd/x/');
  });
});

describe('etcd documents', () => {
  it('takes the port from the key', () => {
    expect(portOfKey(`/vifd/v1/hosts/h/bindings/${port.toUpperCase()}`)).toBe(port);
    expect(parseEtcdValue(`/p/${port}`, doc()).ok).toBe(true);
  });
  it('makes a port mismatch Invalid on the key port', () => {
    const r = parseEtcdValue(`/p/${port}`, doc('00000000-0000-4000-8000-000000000001'));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.problems[0]!.path).toBe('port');
      expect(r.ports).toEqual([port]);
    }
  });
  it('reports bad JSON on the key port', () => {
    const r = parseEtcdValue(`/p/${port}`, '{');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.ports).toContain(port);
  });
  it('refuses a list', () => {
    const list = JSON.stringify({ apiVersion: 'vifd/v1', kind: 'PortBindingList', items: [JSON.parse(doc())] });
    expect(parseEtcdValue(`/p/${port}`, list).ok).toBe(false);
  });
});

describe('etcd keys and fleet', () => {
  it('classifies host keys', () => {
    expect(parseHostKey('/vifd/v1/hosts/h1/alive')).toEqual({ host: 'h1', kind: 'alive' });
    expect(parseHostKey(statusKey('h1', port))).toEqual({ host: 'h1', kind: 'status', port });
    expect(parseHostKey(`/vifd/v1/hosts/h1/bindings/${port}`)).toEqual({ host: 'h1', kind: 'binding', port });
    expect(parseHostKey('/vifd/v1/hosts/h1/other/x/y')).toBeUndefined();
  });
  it('prints the fleet', () => {
    const out = fleetTable([
      { host: 'a', alive: true, desired: 2, phases: { Ready: 2 }, statuses: 2 },
      { host: 'b', alive: false, desired: 1, phases: {}, statuses: 0 },
    ]);
    expect(out).toMatch(/a\s+alive\s+2\s+2 Ready/u);
    expect(out).toMatch(/b\s+DOWN\s+1\s+-/u);
    expect(out).toContain('2 host(s), 1 alive, 1 DOWN (lease expired: b)');
    expect(out).toContain('3 binding(s) desired; statuses: 2 Ready');
    const t = fleetTotals([
      { host: 'a', alive: true, desired: 3, phases: { Ready: 1, Failed: 1 }, statuses: 2 },
      { host: 'c', alive: true, desired: 1, phases: { Ready: 1 }, statuses: 1 },
    ]);
    expect(t).toEqual({ hosts: 2, alive: 2, down: [], desired: 4, phases: { Ready: 2, Failed: 1 }, unreported: 1 });
  });
});
