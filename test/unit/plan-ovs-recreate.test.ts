// A tap that is an OVS port, recreated: the planner removes the OVS port in
// the round that recreates the device and adds it back in the next, so
// ovs-vswitchd opens the new device (the userspace datapath kept the old one
// open, and the recreated tap carried no traffic).
import { describe, expect, it } from 'vitest';
import { parseDocumentValue } from '../../src/desired/parse.js';
import { DesiredStore } from '../../src/desired/store.js';
import type { HostSnapshot } from '../../src/host/host.js';
import type { OvsSnapshot } from '../../src/host/ovsdb/index.js';
import type { ObservedLink } from '../../src/observed/links.js';
import { DEFAULT_OWNERSHIP, portAlias } from '../../src/model/ownership.js';
import { planRound } from '../../src/plan/plan.js';

const P = '11111111-1111-4111-8111-111111111111';
const TAP = 'tap11111111-11';
const doc = { apiVersion: 'vifd/v1', kind: 'PortBinding', port: P, mac: 'fa:16:3e:00:00:11', vif: { type: 'ovs', bridge: 'br-int', datapathType: 'netdev', profile: {} } };

function ovsWithPort(): OvsSnapshot {
  return {
    bridges: new Map([['br-int', { uuid: 'b', name: 'br-int', datapathType: 'netdev', externalIds: {}, ports: ['br-int', TAP] }]]),
    ports: new Map([[TAP, { uuid: 'p', name: TAP, bridge: 'br-int', interfaces: [TAP], externalIds: { 'vifd-port': P } }]]),
    interfaces: new Map([[TAP, { uuid: 'i', name: TAP, type: '', externalIds: { 'iface-id': P, 'iface-status': 'active', 'attached-mac': 'fa:16:3e:00:00:11', 'vifd-port': P }, ofport: 1, error: null, port: TAP }]]),
  };
}
const tap: ObservedLink = {
  ifindex: 7, name: TAP, kind: 'tap', rawKind: 'tun', mtu: 1500, mac: 'fe:16:3e:00:00:11', up: true, master: 'ovs-netdev',
  group: DEFAULT_OWNERSHIP.group, alias: portAlias(P), link: undefined, macvtapMode: undefined, persistent: true,
};

describe('planner: a recreated tap that is an OVS port', () => {
  const store = new DesiredStore();
  store.set('file:a.json', parseDocumentValue(doc));
  const context = { desired: store.view(), ownership: DEFAULT_OWNERSHIP, adoptable: new Set<string>() };

  it('tap gone, OVS port still there: create the tap and remove the stale OVS port, with a follow-up', () => {
    const snapshot: HostSnapshot = { links: { links: new Map() }, ovs: ovsWithPort(), takenAt: 0 };
    const plan = planRound([P], snapshot, context);
    expect(plan.linkActions.map((a) => `${a.op} ${a.name}`)).toContain(`create-tap ${TAP}`);
    expect(plan.ovsChanges?.deletePorts).toEqual([{ bridge: 'br-int', name: TAP }]);
    expect(plan.ovsChanges?.addPorts ?? []).toEqual([]);
    expect(plan.followUps.has(P)).toBe(true);
    expect(plan.outcomes.get(P)?.state).toBe('changing');
  });

  it('next round (tap back, port gone): the port is added again', () => {
    const ovs = ovsWithPort();
    ovs.ports.delete(TAP);
    ovs.interfaces.delete(TAP);
    ovs.bridges.get('br-int')!.ports = ['br-int'];
    const plan = planRound([P], { links: { links: new Map([[TAP, tap]]) }, ovs, takenAt: 0 }, context);
    expect(plan.linkActions).toEqual([]);
    expect(plan.ovsChanges?.addPorts?.map((p) => p.name)).toEqual([TAP]);
  });

  it('tap and port both there: nothing is removed', () => {
    const plan = planRound([P], { links: { links: new Map([[TAP, tap]]) }, ovs: ovsWithPort(), takenAt: 0 }, context);
    expect(plan.ovsChanges?.deletePorts ?? []).toEqual([]);
    expect(plan.outcomes.get(P)?.state).toBe('converged');
  });
});
