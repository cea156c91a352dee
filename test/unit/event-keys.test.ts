// Host events name devices; the work queue wants keys (event-keys.ts).
import { describe, expect, it } from 'vitest';
import { DesiredStore } from '../../src/desired/store.js';
import { linkKey } from '../../src/model/work-key.js';
import { keysForLinkNames, keysForOvsNames } from '../../src/plan/event-keys.js';
import { DEFAULT_OWNERSHIP, portAlias } from '../../src/model/ownership.js';
import { ovsBridgeKey } from '../../src/model/work-key.js';
import { ModelHost } from '../support/model-host.js';
import { bindingOf, PORTS } from '../property/cases.js';

const [P0, P1, P2] = PORTS as [string, string, string];
const G = DEFAULT_OWNERSHIP.group;

function view() {
  const store = new DesiredStore();
  store.set('a', { ok: true, bindings: [bindingOf({ port: 0, kind: 'bridge', tap: 2 /* tapA */, bridge: 0 /* brL0 */, mtu: 0, mode: 0 })] });
  store.set('b', { ok: true, bindings: [bindingOf({ port: 1, kind: 'ovs', tap: 3 /* tapB */, bridge: 0 /* br-int */, mtu: 0, mode: 0 })] });
  return store.view();
}

describe('keysForLinkNames', () => {
  const h = new ModelHost();
  h.kernel.add({ name: 'brL0', kind: 'bridge' });
  h.kernel.add({ name: 'tapOld', kind: 'tap', group: G, alias: portAlias(P2) });
  h.kernel.add({ name: 'brV', kind: 'bridge', group: G, alias: 'vifd:bridge' });
  h.kernel.add({ name: 'half', kind: 'tap' });
  h.kernel.add({ name: 'opX', kind: 'tap', master: 'brV' });
  h.kernel.add({ name: 'opY', kind: 'tap', master: 'brL0' });
  const last = h.kernel.snapshot();
  const keys = (...names: string[]) => [...keysForLinkNames(names, view(), last, DEFAULT_OWNERSHIP, new Set(['half']))].sort();

  it('a name a binding claims: that binding', () => expect(keys('tapA')).toEqual([P0]));
  it('a bridge: its users (Linux or OVS)', () => {
    expect(keys('brL0')).toEqual([P0]);
    expect(keys('br-int')).toEqual([P1]);
  });
  it('a device of vifd as last seen (even once deleted): its owner', () => expect(keys('tapOld')).toEqual([P2]));
  it('a shared bridge of vifd or a half-made device: its link key', () => expect(keys('brV', 'half')).toEqual([linkKey('brV'), linkKey('half')].sort()));
  it('a foreign device in a vifd bridge: the bridge; in an operator bridge: nothing', () => {
    expect(keys('opX')).toEqual([linkKey('brV')]);
    expect(keys('opY')).toEqual([]);
  });
  it('an unknown name: nothing', () => expect(keys('nobody')).toEqual([]));
  it('a bridge that only changed (the host knows it now, same ifindex): not its users, who have their own events', () => {
    const brL0 = last.links.get('brL0')!;
    const keysNow = (now: (name: string) => ReturnType<typeof last.links.get> | null) => [...keysForLinkNames(['brL0'], view(), last, DEFAULT_OWNERSHIP, new Set(), now)].sort();
    expect(keysNow(() => ({ ...brL0, up: !brL0.up }))).toEqual([]);
    expect(keysNow(() => undefined)).toEqual([P0]); // gone
    expect(keysNow(() => ({ ...brL0, ifindex: brL0.ifindex + 100 }))).toEqual([P0]); // recreated
    expect(keysNow(() => null)).toEqual([P0]); // the host cannot tell: as before
    // vifd's own shared bridge set down (or its alias taken): its own key sets it right, not every user.
    const shared = { ...brL0, group: G, alias: 'vifd:bridge', up: true };
    expect(keysNow(() => shared)).toEqual([]);
    expect(keysNow(() => ({ ...shared, up: false }))).toEqual([linkKey('brL0')]);
    expect(keysNow(() => ({ ...shared, alias: undefined }))).toEqual([linkKey('brL0')]);
    const fresh = new ModelHost().kernel.snapshot(); // never seen before, there now: it appeared
    expect([...keysForLinkNames(['brL0'], view(), fresh, DEFAULT_OWNERSHIP, new Set(), () => brL0)]).toEqual([P0]);
  });
});

describe('keysForOvsNames', () => {
  it('maps interfaces and ports by their vifd-port mark, bridges by name and users', () => {
    const h = new ModelHost();
    h.ovsdb.addBridge('br-int');
    h.ovsdb.addPort('br-int', 'tapOld', { 'vifd-port': P2 }, { 'vifd-port': P2 });
    h.ovsdb.addPort('br-int', 'fport', {});
    const last = h.ovsdb.snapshot();
    const keys = (...names: string[]) => [...keysForOvsNames(names, view(), last)].sort();
    expect(keys('tapOld')).toEqual([P2]);
    expect(keys('tapB')).toEqual([P1]); // claimed, not there yet
    expect(keys('br-int')).toEqual([P1, ovsBridgeKey('br-int')].sort());
    expect(keys('fport')).toEqual([]);
  });
});

describe('event keys follow the store incrementally', () => {
  it('a binding moved to another bridge: the new view maps both names anew, a view taken before still maps them the old way', () => {
    const store = new DesiredStore();
    store.set('a', { ok: true, bindings: [bindingOf({ port: 0, kind: 'bridge', tap: 2, bridge: 0, mtu: 0, mode: 0 })] });
    store.set('b', { ok: true, bindings: [bindingOf({ port: 1, kind: 'bridge', tap: 3, bridge: 0, mtu: 0, mode: 0 })] });
    const before = store.view();
    store.set('a', { ok: true, bindings: [bindingOf({ port: 0, kind: 'bridge', tap: 2, bridge: 1, mtu: 0, mode: 0 })] });
    const keys = (v: typeof before, name: string) => [...keysForLinkNames([name], v, undefined, DEFAULT_OWNERSHIP, new Set())].sort();
    const oldBridge = before.bindings.get(P0)!.spec.sharedBridge!;
    const newBridge = store.view().bindings.get(P0)!.spec.sharedBridge!;
    expect(newBridge).not.toBe(oldBridge);
    expect(keys(store.view(), oldBridge)).toEqual([P1]);
    expect(keys(store.view(), newBridge)).toEqual([P0]);
    expect(keys(before, oldBridge)).toEqual([P0, P1].sort());
    expect(keys(before, newBridge)).toEqual([]);
    store.delete('b');
    expect(keys(store.view(), oldBridge)).toEqual([]);
    expect(keys(before, oldBridge)).toEqual([P0, P1].sort());
  });
});
