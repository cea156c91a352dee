// The incremental store must say exactly what a rebuild from scratch says
// (the reference model: the store as it was before), after any sequence of
// upserts, removals, invalid versions and lists; its views must not move
// once taken; and one change must cost the same however many bindings there
// are (counted in bindings re-checked and view entries rebuilt, not in time).
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseDocumentValue } from '../../src/desired/parse.js';
import { DesiredStore, type DesiredView } from '../../src/desired/store.js';
import { ReferenceDesiredStore, type ReferenceView } from '../support/reference-desired-store.js';

afterEach(() => vi.restoreAllMocks());

const PORTS = [1, 2, 3, 4, 5, 6].map((i) => `${String(i).repeat(8)}-1111-4111-8111-111111111111`);
// Few names, often shared between taps and bridges: conflicts chain.
const NAMES = ['br1', 'tapx', 'tapy'];
const SOURCES = ['file:a.json', 'file:b.json', 'file:c.json', 'file:d.json', 'api:e'];
const BRIDGES = ['br1', 'tapx', 'tapy', 'br-int'];

const binding = fc.oneof(
  fc.record({ port: fc.constantFrom(...PORTS), bridge: fc.constantFrom(...BRIDGES), tap: fc.option(fc.constantFrom(...NAMES), { nil: undefined }) }).map(({ port, bridge, tap }) => ({
    apiVersion: 'vifd/v1', kind: 'PortBinding', port, mac: 'fa:16:3e:00:00:01', vif: { type: 'bridge', bridge, ...(tap ? { tap } : {}) },
  })),
  fc.record({ port: fc.constantFrom(...PORTS), bridge: fc.constantFrom(...BRIDGES), hybrid: fc.boolean() }).map(({ port, bridge, hybrid }) => ({
    apiVersion: 'vifd/v1', kind: 'PortBinding', port, mac: 'fa:16:3e:00:00:02', vif: { type: 'ovs', bridge, hybrid, profile: {} },
  })),
  fc.record({ port: fc.constantFrom(...PORTS), device: fc.constantFrom('eth1', 'eth2'), mode: fc.constantFrom('passthrough', 'vepa', 'bridge'), macvtap: fc.option(fc.constantFrom(...NAMES), { nil: undefined }) }).map(
    ({ port, device, mode, macvtap }) => ({
      apiVersion: 'vifd/v1', kind: 'PortBinding', port, mac: 'fa:16:3e:00:00:03', vif: { type: '802.1qbh', device, mode, ...(macvtap ? { macvtap } : {}), profile: { profileId: 'p1' } },
    }),
  ),
);
/** An item a schema refuses: with a readable port, or none. */
const broken = fc.oneof(
  fc.constantFrom(...PORTS).map((port) => ({ apiVersion: 'vifd/v1', kind: 'PortBinding', port, mac: 'not-a-mac', vif: { type: 'bridge', bridge: 'br1' } })),
  fc.constant({ apiVersion: 'vifd/v1', kind: 'PortBinding', mac: 'fa:16:3e:00:00:09', vif: { type: 'bridge', bridge: 'br1' } }),
);
const document = fc.oneof(
  binding,
  broken,
  fc.array(fc.oneof(binding, binding, broken), { maxLength: 4 }).map((items) => ({ apiVersion: 'vifd/v1', kind: 'PortBindingList', items })),
  fc.constant('not json at all' as unknown),
);
const op = fc.oneof(
  fc.record({ source: fc.constantFrom(...SOURCES), document }),
  fc.record({ source: fc.constantFrom(...SOURCES), remove: fc.constant(true) }),
);

/** A view as plain data, comparable across the two stores. */
function normal(view: DesiredView | ReferenceView): unknown {
  const bridgeUsers = (name: string): string[] => {
    const users = view.bridgeUsers.get(name);
    return users ? [...new Set(users)].sort() : [];
  };
  const sorted = <V>(map: ReadonlyMap<string, V>, f: (v: V) => unknown) => [...map].map(([k, v]) => [k, f(v)]).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
  return {
    bindings: sorted(view.bindings, (b) => ({ binding: b.spec.binding, source: b.source, shadowed: b.shadowed, conflict: b.conflict, invalid: b.invalid, generation: b.generation, kind: b.documentKind })),
    invalidOnly: sorted(view.invalidOnly, (v) => v),
    invalidSources: sorted(view.invalidSources, (v) => v),
    claimedNames: sorted(view.claimedNames, (v) => v),
    bridgeUsers: [...BRIDGES, ...NAMES].map((name) => [name, bridgeUsers(name), view.bridgeUsers.has(name)]),
    size: view.bindings.size,
  };
}

describe('incremental desired store', () => {
  it('equals a rebuild from scratch after any sequence of changes, and a view never moves once taken', () => {
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 30 }), (ops) => {
        vi.spyOn(Date, 'now').mockReturnValue(1_000);
        const store = new DesiredStore();
        const reference = new ReferenceDesiredStore();
        const taken: Array<{ view: DesiredView; as: unknown }> = [];
        for (const o of ops) {
          const a = 'remove' in o ? store.delete(o.source) : store.set(o.source, typeof o.document === 'string' ? { ok: false, problems: [{ path: '(document)', message: 'not valid JSON' }], ports: [] } : parseDocumentValue(o.document));
          const b = 'remove' in o ? reference.delete(o.source) : reference.set(o.source, typeof o.document === 'string' ? { ok: false, problems: [{ path: '(document)', message: 'not valid JSON' }], ports: [] } : parseDocumentValue(o.document));
          expect([...a].sort()).toEqual([...b].sort());
          const view = store.view();
          const as = normal(view);
          expect(as).toEqual(normal(reference.view()));
          for (const port of PORTS) expect(store.generationOf(port)).toBe(reference.generationOf(port));
          taken.push({ view, as });
        }
        for (const { view, as } of taken) expect(normal(view)).toEqual(as);
        // Nothing is held once no source is.
        for (const source of SOURCES) store.delete(source);
        expect(Object.entries(store.sizes()).filter(([, n]) => n > 0)).toEqual([]);
        vi.restoreAllMocks();
      }),
      { numRuns: 600, seed: 1813 },
    );
  });

  it('one change re-checks and rebuilds the same few bindings at 100 and at 5000 bindings on one bridge', () => {
    const work = (n: number) => {
      const store = new DesiredStore();
      const port = (i: number) => `${i.toString(16).padStart(8, '0')}-2222-4222-8222-222222222222`;
      const doc = (i: number, mtu: number) => parseDocumentValue({ apiVersion: 'vifd/v1', kind: 'PortBinding', port: port(i), mac: 'fa:16:3e:00:00:01', mtu, vif: { type: 'ovs', bridge: 'br-int', profile: {} } });
      for (let i = 0; i < n; i++) store.set(`file:${i}.json`, doc(i, 1400));
      store.view();
      const counts: number[] = [];
      for (const i of [0, Math.floor(n / 2), n - 1]) {
        store.set(`file:${i}.json`, doc(i, 1500));
        counts.push(store.lastChecked, store.lastRebuilt);
        expect(store.view().bindings.get(port(i))?.spec.binding.mtu).toBe(1500);
      }
      store.delete('file:1.json');
      counts.push(store.lastChecked, store.lastRebuilt);
      expect(store.view().bridgeUsers.get('br-int')?.size).toBe(n - 1);
      return counts;
    };
    const small = work(100);
    expect(small.every((c) => c <= 2)).toBe(true);
    expect(work(5000)).toEqual(small);
  });
});
