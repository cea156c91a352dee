// Parsing of rows captured from a real ovsdb-server (openvswitch 3.1):
// test/fixtures/ovsdb-monitor-capture.json is a `monitor` reply plus two
// `update` notifications (ovs-vsctl del-port br-test tapb, then
// set interface tapa external_ids:iface-status=active);
// test/fixtures/ovsdb-select-capture.json is the reply of a transact of
// select ops on the same database (after those changes).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { applyTableUpdates, emptyRawTables, parseOvsRows, rawTablesFromSelect, type OvsSnapshot } from '../../src/host/ovsdb/parse-rows.js';
import { diffSnapshots } from '../../src/host/ovsdb/snapshot-diff.js';
import type { OvsdbRow, TableUpdates } from '../../src/host/ovsdb/types.js';

const fixture = (name: string): unknown => JSON.parse(readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8'));
const capture = fixture('ovsdb-monitor-capture.json') as { initial: TableUpdates; updates: TableUpdates[] };
const selected = fixture('ovsdb-select-capture.json') as { rows: OvsdbRow[] }[];

function fromMonitor(updates = 0): OvsSnapshot {
  const tables = applyTableUpdates(emptyRawTables(), capture.initial);
  for (const u of capture.updates.slice(0, updates)) applyTableUpdates(tables, u);
  return parseOvsRows(tables);
}

describe('parseOvsRows on a captured monitor reply', () => {
  const snap = fromMonitor();

  it('resolves bridges → port names', () => {
    expect([...snap.bridges.keys()].sort()).toEqual(['br-test', 'br-two']);
    const br = snap.bridges.get('br-test')!;
    expect(br).toMatchObject({ name: 'br-test', datapathType: 'netdev', externalIds: { 'vifd-owned': 'true' }, ports: ['br-test', 'tapa', 'tapb'] });
    expect(br.uuid).toMatch(/^[0-9a-f-]{36}$/u);
    expect(snap.bridges.get('br-two')!.ports).toEqual(['bond0', 'br-two']);
  });

  it('resolves ports → bridge and interface names', () => {
    expect(snap.ports.get('bond0')).toMatchObject({ bridge: 'br-two', interfaces: ['tapc', 'tapd'], externalIds: {} });
    expect(snap.ports.get('tapa')).toMatchObject({ bridge: 'br-test', interfaces: ['tapa'] });
  });

  it('decodes interface columns: type, external_ids map, ofport, optional error', () => {
    expect(snap.interfaces.get('tapa')).toMatchObject({
      name: 'tapa',
      type: 'internal',
      externalIds: { 'attached-mac': 'fa:16:3e:00:00:01', 'iface-id': 'aaa' },
      ofport: 1,
      error: null,
      port: 'tapa',
    });
    expect(snap.interfaces.get('tapb')).toMatchObject({ type: '', ofport: -1, error: 'could not open network device tapb (No such device)', port: 'tapb' });
    expect(snap.interfaces.get('br-test')).toMatchObject({ type: 'internal', ofport: 65534 });
  });

  it('applies a captured del-port update (Port and Interface rows gone, bridge modified)', () => {
    const after = fromMonitor(1);
    expect(after.ports.has('tapb')).toBe(false);
    expect(after.interfaces.has('tapb')).toBe(false);
    expect(after.bridges.get('br-test')!.ports).toEqual(['br-test', 'tapa']);
    expect(diffSnapshots(snap, after)).toEqual({ bridges: ['br-test'], ports: ['tapb'], interfaces: ['tapb'] });
  });

  it('applies a captured external_ids update', () => {
    const before = fromMonitor(1);
    const after = fromMonitor(2);
    expect(after.interfaces.get('tapa')!.externalIds['iface-status']).toBe('active');
    expect(diffSnapshots(before, after)).toEqual({ bridges: [], ports: [], interfaces: ['tapa'] });
  });
});

describe('parseOvsRows on a captured select reply', () => {
  const tables = rawTablesFromSelect({
    Open_vSwitch: selected[0]!.rows,
    Bridge: selected[1]!.rows,
    Port: selected[2]!.rows,
    Interface: selected[3]!.rows,
  });
  const snap = parseOvsRows(tables);

  it('gives the same view as the monitor after the same changes', () => {
    expect(diffSnapshots(fromMonitor(2), snap)).toEqual({ bridges: [], ports: [], interfaces: [] });
  });

  it('rejects select rows without _uuid', () => {
    expect(() => rawTablesFromSelect({ Port: [{ name: 'x' }] })).toThrow(/_uuid/u);
  });
});

describe('parseOvsRows edge cases', () => {
  it('skips dangling references and leaves unreferenced ports without a bridge', () => {
    const tables = applyTableUpdates(emptyRawTables(), {
      Bridge: { b1: { new: { name: 'br0', ports: ['set', [['uuid', 'p1'], ['uuid', 'nope']]], datapath_type: '', external_ids: ['map', []] } } },
      Port: {
        p1: { new: { name: 'p1', interfaces: ['uuid', 'i1'], external_ids: ['map', [['k', 'v']]] } },
        p2: { new: { name: 'p2', interfaces: ['set', []], external_ids: ['map', []] } },
      },
      Interface: { i1: { new: { name: 'p1', type: '', external_ids: ['map', []], ofport: ['set', []], error: ['set', []] } } },
    });
    const snap = parseOvsRows(tables);
    expect(snap.bridges.get('br0')!.ports).toEqual(['p1']);
    expect(snap.ports.get('p2')).toMatchObject({ bridge: null, interfaces: [] });
    expect(snap.interfaces.get('p1')).toMatchObject({ ofport: null, error: null });
  });
});
