// The OVS planner next to SDN agents (OVN, the Neutron OVS agent): claimed
// bridges are never deleted, readiness gates, isolate / vlan ownership of the
// Port's VLAN columns, merged Interface external_ids.
import { describe, expect, it } from 'vitest';
import { parseDocumentValue } from '../../src/desired/parse.js';
import { DesiredStore } from '../../src/desired/store.js';
import type { OvsBridge, OvsInterface, OvsPort, OvsSnapshot } from '../../src/host/ovsdb/index.js';
import { planOvsTransaction } from '../../src/host/ovsdb/ovs-plan.js';
import { planOvs } from '../../src/plan/plan-ovs.js';
import { ovsBridgeKey } from '../../src/model/work-key.js';
import { OVS_OWNER_KEY, OVS_OWNER_VALUE, OVS_PORT_KEY } from '../../src/model/ownership.js';
import { bridgeClaim, ovnIntegrationBridge } from '../../src/plan/ovs-claims.js';
import { isGateWait, nextReadinessTimes } from '../../src/plan/readiness-gate.js';
import { phaseOf } from '../../src/plan/phase.js';

const P1 = '11111111-1111-4111-8111-111111111111';
const P2 = '22222222-2222-4222-8222-222222222222';
const TAP1 = 'tap11111111-11';
const MAC1 = 'fa:16:3e:00:00:11';
const OWNED = { [OVS_OWNER_KEY]: OVS_OWNER_VALUE };

function ovsDoc(port: string, vif: Record<string, unknown> = {}, mac = MAC1) {
  return { apiVersion: 'vifd/v1', kind: 'PortBinding', port, mac, vif: { type: 'ovs', bridge: 'br-int', profile: {}, ...vif } };
}

function desired(...docs: unknown[]) {
  const store = new DesiredStore();
  docs.forEach((doc, i) => {
    const parsed = parseDocumentValue(doc);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
    store.set(`d${i}`, parsed);
  });
  return store.view();
}

const bridge = (name: string, ports: string[], extra: Partial<OvsBridge> = {}): OvsBridge => ({ uuid: `u-${name}`, name, datapathType: 'netdev', externalIds: { ...OWNED }, ports, controllers: 0, failMode: null, ...extra });
const port = (name: string, br: string, extra: Partial<OvsPort> = {}): OvsPort => ({ uuid: `u-p-${name}`, name, bridge: br, interfaces: [name], externalIds: {}, tag: null, trunks: [], vlanMode: null, ...extra });
const iface = (name: string, extra: Partial<OvsInterface> = {}): OvsInterface => ({ uuid: `u-i-${name}`, name, type: '', externalIds: {}, ofport: 1, error: null, port: name, ...extra });

function snapshot(parts: { bridges?: OvsBridge[]; ports?: OvsPort[]; interfaces?: OvsInterface[]; system?: Record<string, string> }): OvsSnapshot {
  return {
    bridges: new Map((parts.bridges ?? []).map((b) => [b.name, b])),
    ports: new Map((parts.ports ?? []).map((p) => [p.name, p])),
    interfaces: new Map((parts.interfaces ?? []).map((i) => [i.name, i])),
    systemExternalIds: parts.system ?? {},
  };
}

/** The Interface external_ids vifd writes for P1 (plain, br-int, no instance). */
const ids1 = { 'iface-id': P1, 'iface-status': 'active', 'attached-mac': MAC1, [OVS_PORT_KEY]: P1 };
/** A host where vifd's P1 is plugged on br-int (a bridge vifd created). */
function plugged(extra: { iface?: Partial<OvsInterface>; port?: Partial<OvsPort>; bridge?: Partial<OvsBridge>; system?: Record<string, string> } = {}): OvsSnapshot {
  return snapshot({
    bridges: [bridge('br-int', ['br-int', TAP1], extra.bridge)],
    ports: [port('br-int', 'br-int'), port(TAP1, 'br-int', { externalIds: { [OVS_PORT_KEY]: P1 }, ...extra.port })],
    interfaces: [iface('br-int', { type: 'internal' }), iface(TAP1, { externalIds: { ...ids1 }, ...extra.iface })],
    ...(extra.system ? { system: extra.system } : {}),
  });
}

describe('claimed bridges: vifd never deletes a bridge another controller took', () => {
  const unused = (b: Partial<OvsBridge>, system: Record<string, string> = {}, name = 'br-int') =>
    planOvs({ keys: [ovsBridgeKey(name)], desired: desired(), ovs: snapshot({ bridges: [bridge(name, [name], b)], ports: [port(name, name)], interfaces: [iface(name, { type: 'internal' })], system }) });

  it('deletes an unused bridge it created that nobody claimed', () => {
    const plan = unused({});
    expect(plan.changes.deleteBridges).toEqual(['br-int']);
    expect(plan.outcomes.get(ovsBridgeKey('br-int'))).toEqual({ state: 'changing' });
  });

  const claimed: Array<[string, Partial<OvsBridge>, Record<string, string>, string, RegExp]> = [
    ['br-int while ovn-remote is set', {}, { 'ovn-remote': 'unix:/run/ovn/ovnsb_db.sock' }, 'br-int', /OVN's integration bridge .*ovn-remote/],
    ['the bridge external_ids:ovn-bridge names', {}, { 'ovn-remote': 'tcp:1.2.3.4:6642', 'ovn-bridge': 'br-ovn' }, 'br-ovn', /ovn-bridge names it/],
    ['a bridge with a controller', { controllers: 1 }, {}, 'br-x', /controller/],
    ['a bridge whose fail_mode was set', { failMode: 'secure' }, {}, 'br-x', /fail_mode .*secure/],
    ['a bridge whose external_ids another client wrote', { externalIds: { ...OWNED, 'ct-zone-foo': '3' } }, {}, 'br-x', /external_ids \(ct-zone-foo\)/],
  ];
  for (const [what, b, system, name, reason] of claimed) {
    it(`keeps ${what}, with a message that says why`, () => {
      const plan = unused(b, system, name);
      expect(plan.changes.deleteBridges).toEqual([]);
      const outcome = plan.outcomes.get(ovsBridgeKey(name));
      expect(outcome?.state).toBe('converged');
      expect(outcome?.message).toMatch(new RegExp(`unused OVS bridge ${name} kept: `));
      expect(outcome?.message).toMatch(reason);
    });
  }

  it('ovn-remote without ovn-bridge claims br-int only', () => {
    expect(ovnIntegrationBridge({ 'ovn-remote': 'unix:x' })).toBe('br-int');
    expect(ovnIntegrationBridge({ 'ovn-bridge': 'br-o' })).toBe('br-o');
    expect(ovnIntegrationBridge({})).toBeUndefined();
    expect(unused({}, { 'ovn-remote': 'unix:x' }, 'br-other').changes.deleteBridges).toEqual(['br-other']);
    expect(bridgeClaim(bridge('br-a', []), { 'ovn-remote': 'unix:x' }, [OVS_OWNER_KEY])).toBeUndefined();
  });

  it('the last unplug deletes the port but keeps br-int once OVN uses it', () => {
    const plan = planOvs({ keys: [P1], desired: desired(), ovs: plugged({ system: { 'ovn-remote': 'unix:sb', 'system-id': 'c1' }, bridge: { failMode: 'secure' } }) });
    expect(plan.changes.deletePorts).toEqual([{ bridge: 'br-int', name: TAP1 }]);
    expect(plan.changes.deleteBridges).toEqual([]);
    expect(plan.outcomes.get(ovsBridgeKey('br-int'))?.message).toMatch(/kept/);
  });

  it('the last unplug still deletes an unclaimed bridge it created', () => {
    const plan = planOvs({ keys: [P1], desired: desired(), ovs: plugged() });
    expect(plan.changes.deletePorts).toEqual([{ bridge: 'br-int', name: TAP1 }]);
    expect(plan.changes.deleteBridges).toEqual(['br-int']);
  });
});

describe('readiness gates', () => {
  const outcome = (doc: unknown, snap: OvsSnapshot, defaultReadyWhen?: 'plugged' | 'ovn-installed' | 'ofport') =>
    planOvs({ keys: [P1], desired: desired(doc), ovs: snap, ...(defaultReadyWhen ? { defaultReadyWhen } : {}) }).outcomes.get(P1);

  it('plugged (the default): Ready as soon as the port is there', () => {
    expect(outcome(ovsDoc(P1), plugged({ iface: { ofport: null } }))).toEqual({ state: 'converged' });
  });

  it('ovn-installed: Pending, saying what it waits for, until ovn-controller sets the key; Pending again if lost', () => {
    const waiting = outcome(ovsDoc(P1, { readyWhen: 'ovn-installed' }), plugged());
    expect(waiting?.state).toBe('waiting');
    expect(isGateWait(waiting)).toBe(true);
    expect(waiting?.message).toMatch(/ovn-installed=true on OVS interface tap11111111-11/);
    expect(phaseOf({ desired: true, outcome: waiting!, failures: [] })).toMatchObject({ phase: 'Pending', retry: 'done' });
    expect(outcome(ovsDoc(P1, { readyWhen: 'ovn-installed' }), plugged({ iface: { externalIds: { ...ids1, 'ovn-installed': 'true' } } }))).toEqual({ state: 'converged' });
    expect(outcome(ovsDoc(P1, { readyWhen: 'ovn-installed' }), plugged({ iface: { externalIds: { ...ids1, 'ovn-installed': 'false' } } }))?.state).toBe('waiting');
  });

  it('the daemon-wide default applies to bindings that name no gate; a binding that names one wins', () => {
    expect(outcome(ovsDoc(P1), plugged(), 'ovn-installed')?.state).toBe('waiting');
    expect(outcome(ovsDoc(P1, { readyWhen: 'plugged' }), plugged(), 'ovn-installed')).toEqual({ state: 'converged' });
  });

  it('ofport: a valid ofport; for an isolated port also a tag other than 4095', () => {
    expect(outcome(ovsDoc(P1, { readyWhen: 'ofport' }), plugged({ iface: { ofport: null } }))?.message).toMatch(/valid ofport .*none yet/);
    expect(outcome(ovsDoc(P1, { readyWhen: 'ofport' }), plugged({ iface: { ofport: -1 } }))?.message).toMatch(/valid ofport .*-1/);
    expect(outcome(ovsDoc(P1, { readyWhen: 'ofport' }), plugged({ iface: { ofport: 7 } }))).toEqual({ state: 'converged' });
    const isolated = ovsDoc(P1, { readyWhen: 'ofport', isolate: true });
    expect(outcome(isolated, plugged({ iface: { ofport: 7 }, port: { tag: 4095, trunks: [4095], vlanMode: 'trunk' } }))?.message).toMatch(/out of VLAN 4095/);
    expect(outcome(isolated, plugged({ iface: { ofport: 7 }, port: { tag: 5, trunks: [4095], vlanMode: 'trunk' } }))).toEqual({ state: 'converged' });
  });

  it('pluggedAt and readyAt: kept while they hold for one generation, dropped when lost, reset by a new generation', () => {
    const t1 = '2026-01-01T00:00:01.000Z';
    const t2 = '2026-01-01T00:00:02.000Z';
    const first = nextReadinessTimes(undefined, 7, true, false, t1);
    expect(first).toEqual({ pluggedAt: t1 });
    const ready = nextReadinessTimes({ ...first, observedGeneration: 7 }, 7, true, true, t2);
    expect(ready).toEqual({ pluggedAt: t1, readyAt: t2 });
    expect(nextReadinessTimes({ ...ready, observedGeneration: 7 }, 7, true, false, t2)).toEqual({ pluggedAt: t1 });
    expect(nextReadinessTimes({ ...ready, observedGeneration: 7 }, 8, true, true, t2)).toEqual({ pluggedAt: t2, readyAt: t2 });
    expect(nextReadinessTimes({ ...ready, observedGeneration: 7 }, 7, false, false, t2)).toEqual({});
  });
});

describe('isolate and vlan: who owns a port\'s VLAN columns', () => {
  const empty = () => snapshot({ bridges: [bridge('br-int', ['br-int'])], ports: [port('br-int', 'br-int')], interfaces: [iface('br-int', { type: 'internal' })] });

  it('isolate: the new port is inserted in VLAN 4095 in the same transaction that adds it', () => {
    const plan = planOvs({ keys: [P1], desired: desired(ovsDoc(P1, { isolate: true })), ovs: empty() });
    expect(plan.changes.addPorts).toEqual([expect.objectContaining({ name: TAP1, portVlan: { tag: 4095, trunks: [4095], vlanMode: 'trunk' } })]);
    const tx = planOvsTransaction(empty(), plan.changes);
    const insert = tx.ops.find((o) => o.op === 'insert' && 'table' in o && o.table === 'Port');
    expect(insert).toMatchObject({ row: { name: TAP1, tag: 4095, trunks: ['set', [4095]], vlan_mode: 'trunk' } });
    expect(tx.ops.filter((o) => o.op === 'update')).toEqual([]);
  });

  it('isolate: an existing port keeps whatever VLAN an agent gave it (restart, resync)', () => {
    for (const agent of [{ tag: 5, trunks: [], vlanMode: null }, { tag: 4095, trunks: [4095], vlanMode: 'trunk' }, { tag: null, trunks: [], vlanMode: null }]) {
      const plan = planOvs({ keys: [P1], desired: desired(ovsDoc(P1, { isolate: true })), ovs: plugged({ port: agent }) });
      expect(plan.changes.updatePortVlans).toEqual([]);
      expect(plan.changes.addPorts).toEqual([]);
      expect(plan.outcomes.get(P1)).toEqual({ state: 'converged' });
    }
  });

  it('no isolate, no vlan: vifd neither sets nor repairs VLAN columns', () => {
    const created = planOvs({ keys: [P1], desired: desired(ovsDoc(P1)), ovs: empty() });
    expect(created.changes.addPorts?.[0]).not.toHaveProperty('portVlan');
    const existing = planOvs({ keys: [P1], desired: desired(ovsDoc(P1)), ovs: plugged({ port: { tag: 9, trunks: [1, 2], vlanMode: 'native-tagged' } }) });
    expect(existing.changes.updatePortVlans).toEqual([]);
    expect(existing.outcomes.get(P1)).toEqual({ state: 'converged' });
  });

  it('vlan: set on insert, repaired when changed, left alone when in line', () => {
    const doc = ovsDoc(P1, { vlan: { tag: 100 } });
    const created = planOvs({ keys: [P1], desired: desired(doc), ovs: empty() });
    expect(created.changes.addPorts?.[0]?.portVlan).toEqual({ tag: 100, trunks: [], vlanMode: 'access' });
    const drifted = planOvs({ keys: [P1], desired: desired(doc), ovs: plugged({ port: { tag: 5 } }) });
    expect(drifted.changes.updatePortVlans).toEqual([{ name: TAP1, tag: 100, trunks: [], vlanMode: 'access' }]);
    expect(drifted.outcomes.get(P1)).toEqual({ state: 'changing' });
    const tx = planOvsTransaction(plugged({ port: { tag: 5 } }), drifted.changes);
    expect(tx.ops.find((o) => o.op === 'update')).toMatchObject({ table: 'Port', where: [['name', '==', TAP1]], row: { tag: 100, trunks: ['set', []], vlan_mode: 'access' } });
    const fine = planOvs({ keys: [P1], desired: desired(doc), ovs: plugged({ port: { tag: 100, trunks: [], vlanMode: 'access' } }) });
    expect(fine.outcomes.get(P1)).toEqual({ state: 'converged' });
    const trunk = planOvs({ keys: [P1], desired: desired(ovsDoc(P1, { vlan: { trunks: [30, 20, 20], mode: 'native-untagged', tag: 10 } })), ovs: empty() });
    expect(trunk.changes.addPorts?.[0]?.portVlan).toEqual({ tag: 10, trunks: [20, 30], vlanMode: 'native-untagged' });
  });

  const invalid: Array<[string, Record<string, unknown>, string, RegExp]> = [
    ['isolate with vlan', { isolate: true, vlan: { tag: 5 } }, 'vif.vlan', /cannot be combined with isolate/],
    ['vlan without tag or trunks', { vlan: {} }, 'vif.vlan', /needs tag and\/or trunks/],
    ['tag 4095', { vlan: { tag: 4095 } }, 'vif.vlan.tag', /4094|<=/],
    ['tag 0', { vlan: { tag: 0 } }, 'vif.vlan.tag', /1|>=/],
    ['trunk mode with a tag', { vlan: { tag: 5, trunks: [6], mode: 'trunk' } }, 'vif.vlan.tag', /trunk mode carries no native VLAN/],
    ['native mode without a tag', { vlan: { trunks: [6], mode: 'native-tagged' } }, 'vif.vlan.tag', /needs tag/],
    ['tag and trunks without mode', { vlan: { tag: 5, trunks: [6] } }, 'vif.vlan.mode', /native-tagged or native-untagged/],
    ['unknown readyWhen', { readyWhen: 'soon' }, 'vif.readyWhen', /plugged|option/i],
  ];
  for (const [what, vif, path, message] of invalid) {
    it(`Invalid: ${what} (${path})`, () => {
      const parsed = parseDocumentValue(ovsDoc(P1, vif));
      expect(parsed.ok).toBe(false);
      if (parsed.ok) return;
      expect(parsed.problems).toContainEqual({ path, message: expect.stringMatching(message) });
    });
  }
});

describe('Interface external_ids: merged, never taking a key from another client', () => {
  it('keys ovn-controller and others wrote are neither removed nor rewritten', () => {
    const foreign = { 'ovn-installed': 'true', 'ovn-installed-ts': '123', 'neutron-agent': 'x' };
    const snap = plugged({ iface: { externalIds: { ...ids1, ...foreign, 'attached-mac': 'fa:16:3e:99:99:99' } } });
    const plan = planOvs({ keys: [P1], desired: desired(ovsDoc(P1)), ovs: snap });
    const [update] = plan.changes.updateIfaceExternalIds ?? [];
    expect(update).toBeDefined();
    expect(update?.mode).toBe('merge');
    for (const key of Object.keys(foreign)) {
      expect(update?.externalIds).not.toHaveProperty(key);
      expect(update?.removeKeys ?? []).not.toContain(key);
    }
    const tx = planOvsTransaction(snap, plan.changes);
    const mutate = tx.ops.find((o) => o.op === 'mutate' && 'table' in o && o.table === 'Interface') as { mutations: [string, string, unknown][] };
    const deleted = mutate.mutations.find((m) => m[1] === 'delete')?.[2] as ['set', string[]];
    for (const key of Object.keys(foreign)) expect(deleted[1]).not.toContain(key);
  });

  it('a plugged port with foreign keys needs no transaction at all', () => {
    const snap = plugged({ iface: { externalIds: { ...ids1, 'ovn-installed': 'true' } } });
    const plan = planOvs({ keys: [P1, P2], desired: desired(ovsDoc(P1)), ovs: snap });
    expect(plan.keysInTransaction.size).toBe(0);
    expect(plan.outcomes.get(P1)).toEqual({ state: 'converged' });
  });
});

describe('planRound keeps the OVS planner\'s note on a bridge key', () => {
  it('the kept-bridge message survives the merge with the link planner\'s outcome', async () => {
    const { planRound } = await import('../../src/plan/plan.js');
    const { DEFAULT_OWNERSHIP } = await import('../../src/model/ownership.js');
    const ovs = snapshot({ bridges: [bridge('br-int', ['br-int'], { failMode: 'secure' })], ports: [port('br-int', 'br-int')], interfaces: [iface('br-int', { type: 'internal' })], system: { 'ovn-remote': 'unix:sb' } });
    const plan = planRound([ovsBridgeKey('br-int')], { links: { links: new Map() }, ovs, takenAt: 0 }, { desired: desired(), ownership: DEFAULT_OWNERSHIP });
    expect(plan.outcomes.get(ovsBridgeKey('br-int'))?.message).toMatch(/unused OVS bridge br-int kept: it is OVN's integration bridge/);
    expect(plan.ovsChanges).toBeUndefined();
  });
});
