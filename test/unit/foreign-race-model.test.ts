// Issue 18 §5 on the model host: a foreign agent creates a device by the name
// vifd is creating between vifd's snapshot and its batch (tap, veth end,
// per-port bridge). The foreign device gets none of vifd's settings, and the
// name leaves the intent journal (else the next round adopts it).
import { describe, expect, it } from 'vitest';
import { defaultDeviceName } from '../../src/desired/names.js';
import type { ModelKind } from '../support/model-kernel.js';
import { ModelHost } from '../support/model-host.js';
import { keysNow, runRound, type Driver } from '../support/rounds.js';
import { bindingOf, PORTS, storeOf } from '../property/cases.js';

const port = PORTS[0]!;

async function race(kind: 'ovs-hybrid' | 'ovs' | 'bridge', name: string, foreignKind: ModelKind) {
  const host = new ModelHost();
  host.ovsdb.addBridge('br-int');
  host.kernel.add({ name: 'brL0', kind: 'bridge', up: true });
  const d: Driver = { host, store: storeOf([{ port: 0, kind, tap: 0, bridge: 0, mtu: 0, mode: 0 }]), adoptable: new Set(), associated: new Set() };
  let raced = false;
  host.kernel.beforeBatch = (k) => {
    if (raced) return;
    raced = true;
    k.add({ name, kind: foreignKind, ...(foreignKind === 'veth' ? { link: 'opPeer' } : {}) });
    if (foreignKind === 'veth') k.add({ name: 'opPeer', kind: 'veth', link: name });
  };
  const before = () => JSON.stringify(host.kernel.links.get(name));
  const r = await runRound(d, await keysNow(d));
  const foreign = before();
  expect(raced).toBe(true);
  expect(JSON.parse(foreign)).toMatchObject({ group: 0, up: false });
  expect(JSON.parse(foreign).alias).toBeUndefined();
  expect(JSON.parse(foreign).master).toBeUndefined();
  expect(d.adoptable.has(name)).toBe(false);
  expect([...r.applied.failures.keys()]).toEqual([port]);
  // Later rounds leave it alone too, and report Conflict.
  const again = await runRound(d, await keysNow(d));
  expect(before()).toBe(foreign);
  expect(again.plan.outcomes.get(port)?.state).toBe('conflict');
  // Nor is the foreign device made an OVS port with vifd's external_ids.
  expect(host.ovsdb.snapshot().interfaces.has(name)).toBe(false);
  void bindingOf;
}

describe('a foreign device created between snapshot and batch', () => {
  it('tap', () => race('bridge', defaultDeviceName('tap', port), 'tap'));
  it('tap of a plain OVS binding (no OVS port for it either)', () => race('ovs', defaultDeviceName('tap', port), 'tap'));
  it('veth end (qvo)', () => race('ovs-hybrid', defaultDeviceName('qvo', port), 'veth'));
  it('per-port bridge (qbr)', () => race('ovs-hybrid', defaultDeviceName('qbr', port), 'bridge'));
});
