// The OVS columns SDN agents write, as vifd reads them: Open_vSwitch
// external_ids (ovn-bridge, ovn-remote), Bridge controller / fail_mode, Port
// tag / trunks / vlan_mode, Interface ofport / external_ids; and a change of
// any of them names the port or interface, so the binding is queued.
import { describe, expect, it } from 'vitest';
import { applyTableUpdates, emptyRawTables, OVS_COLUMNS, parseOvsRows } from '../../src/host/ovsdb/parse-rows.js';
import { diffSnapshots } from '../../src/host/ovsdb/snapshot-diff.js';
import type { TableUpdates } from '../../src/host/ovsdb/types.js';

const initial: TableUpdates = {
  Open_vSwitch: { o1: { new: { bridges: ['uuid', 'b1'], external_ids: ['map', [['ovn-remote', 'unix:/x/sb.sock'], ['system-id', 'c1']]] } } },
  Bridge: { b1: { new: { name: 'br-int', ports: ['set', [['uuid', 'p1']]], datapath_type: 'netdev', external_ids: ['map', [['vifd-owner', 'vifd']]], controller: ['set', [['uuid', 'c9']]], fail_mode: 'secure' } } },
  Port: { p1: { new: { name: 'tap1', interfaces: ['uuid', 'i1'], external_ids: ['map', [['vifd-port', 'P']]], tag: 4095, trunks: ['set', [4095]], vlan_mode: 'trunk' } } },
  Interface: { i1: { new: { name: 'tap1', type: '', external_ids: ['map', [['iface-id', 'P']]], ofport: ['set', []], error: ['set', []] } } },
};

describe('agent-owned columns in the OVS snapshot', () => {
  it('the monitor asks for them', () => {
    expect(OVS_COLUMNS.Open_vSwitch).toContain('external_ids');
    expect(OVS_COLUMNS.Bridge).toEqual(expect.arrayContaining(['controller', 'fail_mode']));
    expect(OVS_COLUMNS.Port).toEqual(expect.arrayContaining(['tag', 'trunks', 'vlan_mode', 'external_ids']));
    expect(OVS_COLUMNS.Interface).toEqual(expect.arrayContaining(['ofport', 'external_ids']));
  });

  it('parses them', () => {
    const snap = parseOvsRows(applyTableUpdates(emptyRawTables(), initial));
    expect(snap.systemExternalIds).toEqual({ 'ovn-remote': 'unix:/x/sb.sock', 'system-id': 'c1' });
    expect(snap.bridges.get('br-int')).toMatchObject({ controllers: 1, failMode: 'secure' });
    expect(snap.ports.get('tap1')).toMatchObject({ tag: 4095, trunks: [4095], vlanMode: 'trunk' });
    expect(snap.interfaces.get('tap1')).toMatchObject({ ofport: null });
  });

  it('empty columns parse as unset', () => {
    const tables = applyTableUpdates(emptyRawTables(), initial);
    applyTableUpdates(tables, {
      Bridge: { b1: { new: { ...initial.Bridge!.b1!.new!, controller: ['set', []], fail_mode: ['set', []] } } },
      Port: { p1: { new: { ...initial.Port!.p1!.new!, tag: ['set', []], trunks: ['set', []], vlan_mode: ['set', []] } } },
    });
    const snap = parseOvsRows(tables);
    expect(snap.bridges.get('br-int')).toMatchObject({ controllers: 0, failMode: null });
    expect(snap.ports.get('tap1')).toMatchObject({ tag: null, trunks: [], vlanMode: null });
  });

  it('an agent setting the tag, ovn-controller setting ovn-installed, the ofport arriving: each names the row', () => {
    const tables = applyTableUpdates(emptyRawTables(), initial);
    const before = parseOvsRows(tables);
    applyTableUpdates(tables, { Port: { p1: { new: { ...initial.Port!.p1!.new!, tag: 5 } } } });
    const tagged = parseOvsRows(tables);
    expect(diffSnapshots(before, tagged)).toEqual({ bridges: [], ports: ['tap1'], interfaces: [] });
    applyTableUpdates(tables, { Interface: { i1: { new: { ...initial.Interface!.i1!.new!, ofport: 3, external_ids: ['map', [['iface-id', 'P'], ['ovn-installed', 'true']]] } } } });
    expect(diffSnapshots(tagged, parseOvsRows(tables))).toEqual({ bridges: [], ports: [], interfaces: ['tap1'] });
  });
});

describe('those changes queue the binding; the latencies reach /metrics', () => {
  it('a changed port or interface name maps to the vifd port that owns it', async () => {
    const { keysForOvsNames } = await import('../../src/plan/event-keys.js');
    const { DesiredStore } = await import('../../src/desired/store.js');
    const snap = parseOvsRows(applyTableUpdates(emptyRawTables(), initial));
    expect([...keysForOvsNames(['tap1'], new DesiredStore().view(), snap)]).toContain('P');
  });

  it('desired-to-plugged and desired-to-ready histograms', async () => {
    const { VifdMetrics } = await import('../../src/api/vifd-metrics.js');
    const m = new VifdMetrics({ statuses: () => [], queueDepth: () => 0, hostCommands: () => ({}), watchClients: () => 0, revision: () => 0 });
    m.onRound({ startedAt: 0, durationMs: 1, keys: 2, acted: [], errors: [], failed: false, pluggedSeconds: [0.02, 0.03], readySeconds: [0.2] });
    const text = m.render();
    expect(text).toMatch(/^vifd_desired_to_plugged_seconds_count 2$/mu);
    expect(text).toMatch(/^vifd_desired_to_ready_seconds_count 1$/mu);
    expect(text).toMatch(/^vifd_desired_to_ready_seconds_bucket\{le="0\.25"\} 1$/mu);
  });
});
