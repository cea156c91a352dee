// planOvs (the OVS half of the planner) and planRound's merge of both halves,
// on snapshots of the model ovsdb-server.
import { describe, expect, it } from 'vitest';
import type { PortBinding } from '../../src/desired/schema.js';
import { DesiredStore } from '../../src/desired/store.js';
import { DEFAULT_OWNERSHIP } from '../../src/model/ownership.js';
import { planOvs } from '../../src/plan/plan-ovs.js';
import { planOvsTransaction } from '../../src/host/ovsdb/ovs-plan.js';
import { ovsBridgeKey } from '../../src/model/work-key.js';
import { planRound } from '../../src/plan/plan.js';
import { ModelHost } from '../support/model-host.js';

const P1 = '11111111-1111-4111-8111-111111111111';
const P2 = '22222222-2222-4222-8222-222222222222';
const TAP1 = 'tap11111111-11';

function ovsBinding(port: string, bridge: string, extra: Partial<{ tap: string; instance: string }> = {}): PortBinding {
  return { apiVersion: 'vifd/v1', kind: 'PortBinding', port, mac: 'fa:16:3e:00:00:01', ...(extra.instance ? { instance: extra.instance } : {}), vif: { type: 'ovs', bridge, datapathType: 'netdev', ...(extra.tap ? { tap: extra.tap } : {}), profile: {} } };
}

function storeWith(...bindings: PortBinding[]): DesiredStore {
  const store = new DesiredStore();
  bindings.forEach((b, i) => store.set(`f${i}`, { ok: true, bindings: [b] }));
  return store;
}

function host(): ModelHost {
  const h = new ModelHost();
  h.ovsdb.addBridge('br-int');
  return h;
}

describe('planOvs', () => {
  it('adds a port with the ids agents read, marked vifd-port', () => {
    const h = host();
    const plan = planOvs({ keys: [P1], desired: storeWith(ovsBinding(P1, 'br-int')).view(), ovs: h.ovsdb.snapshot() });
    expect(plan.outcomes.get(P1)).toEqual({ state: 'changing' });
    expect(plan.changes.addPorts).toEqual([{ bridge: 'br-int', name: TAP1, externalIds: { 'iface-id': P1, 'iface-status': 'active', 'attached-mac': 'fa:16:3e:00:00:01', 'vifd-port': P1 }, portExternalIds: { 'vifd-port': P1 } }]);
    expect(plan.changes.ensureBridges).toEqual([]);
    expect([...plan.keysInTransaction]).toEqual([P1]);
  });

  it('creates a missing bridge once for all its users, owned by vifd', () => {
    const h = host();
    const plan = planOvs({ keys: [P1, P2], desired: storeWith(ovsBinding(P1, 'br-new'), ovsBinding(P2, 'br-new')).view(), ovs: h.ovsdb.snapshot() });
    expect(plan.changes.ensureBridges).toEqual([{ name: 'br-new', datapathType: 'netdev', externalIds: { 'vifd-owner': 'vifd' } }]);
    expect(plan.changes.addPorts?.map((p) => p.bridge)).toEqual(['br-new', 'br-new']);
  });

  it('an interface of the same name that vifd does not own is Conflict, untouched', () => {
    const h = host();
    h.ovsdb.addPort('br-int', TAP1, { 'iface-id': 'someone' });
    const plan = planOvs({ keys: [P1], desired: storeWith(ovsBinding(P1, 'br-int')).view(), ovs: h.ovsdb.snapshot() });
    expect(plan.outcomes.get(P1)?.state).toBe('conflict');
    expect(plan.changes.addPorts).toEqual([]);
    expect(plan.changes.updateIfaceExternalIds).toEqual([]);
  });

  it('OVSDB not reachable: blocked, nothing planned; a binding without OVS is not its concern', () => {
    const desired = storeWith(ovsBinding(P1, 'br-int')).view();
    const plan = planOvs({ keys: [P1, P2], desired, ovs: undefined });
    expect(plan.outcomes.get(P1)?.state).toBe('blocked');
    expect(plan.outcomes.has(P2)).toBe(false);
  });

  it('a converged port plans nothing; a stale managed key is removed', async () => {
    const h = host();
    h.kernel.add({ name: TAP1, kind: 'tap' }); // else OVS reports the device missing (blocked)
    const store = storeWith(ovsBinding(P1, 'br-int', { instance: '33333333-3333-4333-8333-333333333333' }));
    const first = planOvs({ keys: [P1], desired: store.view(), ovs: h.ovsdb.snapshot() });
    await h.applyOvs(first.changes, h.ovsdb.snapshot());
    expect(planOvs({ keys: [P1], desired: store.view(), ovs: h.ovsdb.snapshot() }).outcomes.get(P1)).toEqual({ state: 'converged' });
    const without = storeWith(ovsBinding(P1, 'br-int'));
    const plan = planOvs({ keys: [P1], desired: without.view(), ovs: h.ovsdb.snapshot() });
    expect(plan.changes.updateIfaceExternalIds).toEqual([expect.objectContaining({ name: TAP1, removeKeys: ['vm-uuid'] })]);
  });

  it('a port of vifd\'s on the wrong bridge with stale ids: moved, and its ids changed by one Interface update in the transaction', async () => {
    const h = host();
    h.ovsdb.addBridge('br-old');
    h.kernel.add({ name: TAP1, kind: 'tap' });
    h.ovsdb.addPort('br-old', TAP1, { 'iface-id': 'stale', 'vifd-port': P1 }, { 'vifd-port': P1 });
    const snapshot = h.ovsdb.snapshot();
    const plan = planOvs({ keys: [P1], desired: storeWith(ovsBinding(P1, 'br-int')).view(), ovs: snapshot });
    expect(plan.changes.addPorts?.map((p) => p.bridge)).toEqual(['br-int']);
    expect(plan.changes.updateIfaceExternalIds).toEqual([expect.objectContaining({ name: TAP1, mode: 'merge', externalIds: expect.objectContaining({ 'iface-id': P1 }) })]);
    const tx = planOvsTransaction(snapshot, plan.changes);
    expect(tx.movedPorts).toEqual([TAP1]);
    expect(tx.ops.filter((o) => o.op === 'mutate' && 'table' in o && o.table === 'Interface')).toHaveLength(1);
    await h.applyOvs(plan.changes, snapshot);
    const after = h.ovsdb.snapshot();
    expect(after.ports.get(TAP1)?.bridge).toBe('br-int');
    expect(after.interfaces.get(TAP1)?.externalIds['iface-id']).toBe(P1);
    expect(planOvs({ keys: [P1], desired: storeWith(ovsBinding(P1, 'br-int')).view(), ovs: after }).outcomes.get(P1)).toEqual({ state: 'converged' });
  });

  it('removal deletes the port; its owned bridge follows in the same transaction unless it holds a foreign port', async () => {
    const h = host();
    const store = storeWith(ovsBinding(P1, 'br-new'));
    await h.applyOvs(planOvs({ keys: [P1], desired: store.view(), ovs: h.ovsdb.snapshot() }).changes, h.ovsdb.snapshot());
    const empty = new DesiredStore().view();
    const plan = planOvs({ keys: [P1], desired: empty, ovs: h.ovsdb.snapshot() });
    expect(plan.changes.deletePorts).toEqual([{ bridge: 'br-new', name: TAP1 }]);
    expect(plan.changes.deleteBridges).toEqual(['br-new']);
    expect(plan.outcomes.get(ovsBridgeKey('br-new'))).toEqual({ state: 'changing' });

    h.ovsdb.addPort('br-new', 'opP');
    const kept = planOvs({ keys: [P1], desired: empty, ovs: h.ovsdb.snapshot() });
    expect(kept.changes.deleteBridges).toEqual([]);
    expect(kept.outcomes.get(ovsBridgeKey('br-new'))).toMatchObject({ state: 'blocked', message: expect.stringContaining('opP') });
  });

  it('an interface a removed binding leaves to the binding that now claims its name is handed over, not deleted', async () => {
    const h = host();
    await h.applyOvs(planOvs({ keys: [P1], desired: storeWith(ovsBinding(P1, 'br-int', { tap: 'tapX' })).view(), ovs: h.ovsdb.snapshot() }).changes, h.ovsdb.snapshot());
    const next = storeWith(ovsBinding(P2, 'br-int', { tap: 'tapX' })).view();
    for (const keys of [[P1, P2], [P2, P1]]) {
      const plan = planOvs({ keys, desired: next, ovs: h.ovsdb.snapshot() });
      expect(plan.changes.deletePorts).toEqual([]);
      expect(plan.changes.updateIfaceExternalIds).toEqual([expect.objectContaining({ name: 'tapX', externalIds: expect.objectContaining({ 'vifd-port': P2 }) })]);
      expect(plan.outcomes.get(P2)?.state).toBe('changing');
    }
  });
});

describe('planRound', () => {
  it('a key gets the worse outcome of its link and OVS halves', async () => {
    const h = host();
    h.kernel.add({ name: TAP1, kind: 'tap' }); // a foreign tap by the binding's name
    const store = storeWith(ovsBinding(P1, 'br-int'));
    const snapshot = await h.snapshot();
    const plan = planRound([P1], snapshot, { desired: store.view(), ownership: DEFAULT_OWNERSHIP });
    expect(plan.outcomes.get(P1)?.state).toBe('conflict');
    expect(plan.linkActions).toEqual([]);
  });

  it('OVS changes ride in one transaction and their keys are listed', async () => {
    const h = host();
    const store = storeWith(ovsBinding(P1, 'br-int'), ovsBinding(P2, 'br-int'));
    const plan = planRound([P1, P2], await h.snapshot(), { desired: store.view(), ownership: DEFAULT_OWNERSHIP });
    expect(plan.ovsChanges?.addPorts).toHaveLength(2);
    expect([...plan.ovsKeys].sort()).toEqual([P1, P2]);
    expect(plan.linkActions.filter((a) => a.op === 'create-tap')).toHaveLength(2);
  });
});
