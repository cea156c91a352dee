// planOvsTransaction: one transaction, may-exist semantics, guards.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { OvsChangesError } from '../../src/host/ovsdb/errors.js';
import { planOvsTransaction } from '../../src/host/ovsdb/ovs-plan.js';
import { applyTableUpdates, emptyRawTables, parseOvsRows } from '../../src/host/ovsdb/parse-rows.js';
import type { Operation } from '../../src/host/ovsdb/transact.js';
import type { TableUpdates } from '../../src/host/ovsdb/types.js';

const capture = JSON.parse(readFileSync(new URL('../fixtures/ovsdb-monitor-capture.json', import.meta.url), 'utf8')) as { initial: TableUpdates };
// br-test: br-test, tapa, tapb; br-two: br-two, bond0 (tapc, tapd)
const snap = parseOvsRows(applyTableUpdates(emptyRawTables(), capture.initial));

const opsOf = (ops: Operation[], kind: string, table?: string): Operation[] => ops.filter((o) => o.op === kind && (table === undefined || ('table' in o && o.table === table)));

describe('planOvsTransaction', () => {
  it('creates a bridge with its local port and many ports on it, one bridge mutate, next_cfg bumped', () => {
    const plan = planOvsTransaction(snap, {
      ensureBridges: [{ name: 'br-new', datapathType: 'netdev', externalIds: { 'vifd-owned': 'yes' } }],
      addPorts: [
        { bridge: 'br-new', name: 'tap1', externalIds: { 'iface-id': 'a' } },
        { bridge: 'br-new', name: 'tap2', ifaceType: 'internal', portExternalIds: { x: 'y' } },
      ],
    });
    expect(plan.createdBridges).toEqual(['br-new']);
    expect(plan.addedPorts).toEqual(['tap1', 'tap2']);
    expect(opsOf(plan.ops, 'insert', 'Bridge')).toEqual([
      { op: 'insert', table: 'Bridge', 'uuid-name': 'b2', row: { name: 'br-new', datapath_type: 'netdev', external_ids: ['map', [['vifd-owned', 'yes']]], ports: ['named-uuid', 'p1'] } },
    ]);
    expect(opsOf(plan.ops, 'insert', 'Interface')).toContainEqual({ op: 'insert', table: 'Interface', 'uuid-name': 'i3', row: { name: 'tap1', type: '', external_ids: ['map', [['iface-id', 'a']]] } });
    expect(opsOf(plan.ops, 'mutate', 'Bridge')).toEqual([
      { op: 'mutate', table: 'Bridge', where: [['name', '==', 'br-new']], mutations: [['ports', 'insert', ['set', [['named-uuid', 'p4'], ['named-uuid', 'p6']]]]] },
    ]);
    expect(opsOf(plan.ops, 'mutate', 'Open_vSwitch')).toEqual([
      { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', 'insert', ['set', [['named-uuid', 'b2']]]]] },
      { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['next_cfg', '+=', 1]] },
    ]);
    expect(plan.ops[plan.nextCfgOp!]).toEqual({ op: 'select', table: 'Open_vSwitch', where: [], columns: ['next_cfg'] });
    // guards first: the bridge and both ports must not exist yet
    const waits = opsOf(plan.ops, 'wait');
    expect(waits).toHaveLength(3 + 4);
    expect(plan.ops.slice(0, waits.length).every((o) => o.op === 'wait')).toBe(true);
  });

  it('does not insert a port that exists on the bridge (may-exist); its external_ids change only when asked (updateIfaceExternalIds)', () => {
    const plan = planOvsTransaction(snap, {
      addPorts: [
        { bridge: 'br-test', name: 'tapa', externalIds: { 'iface-id': 'aaa' } },
        { bridge: 'br-test', name: 'tapb', externalIds: { 'iface-id': 'changed' } },
      ],
    });
    expect(plan.existingPorts).toEqual(['tapa', 'tapb']);
    expect(plan.ops).toEqual([]);
    const asked = planOvsTransaction(snap, {
      addPorts: [{ bridge: 'br-test', name: 'tapb', externalIds: { 'iface-id': 'changed' } }],
      updateIfaceExternalIds: [{ name: 'tapb', externalIds: { 'iface-id': 'changed' } }],
    });
    expect(opsOf(asked.ops, 'insert')).toEqual([]);
    expect(opsOf(asked.ops, 'mutate', 'Interface')).toEqual([
      { op: 'mutate', table: 'Interface', where: [['name', '==', 'tapb']], mutations: [['external_ids', 'delete', ['set', ['iface-id']]], ['external_ids', 'insert', ['map', [['iface-id', 'changed']]]]] },
    ]);
    expect(asked.ops[asked.updateOps.get('tapb')!]).toMatchObject({ op: 'mutate', table: 'Interface' });
  });

  it('returns no ops when everything already exists', () => {
    const plan = planOvsTransaction(snap, { ensureBridges: [{ name: 'br-test' }], addPorts: [{ bridge: 'br-test', name: 'tapa' }] });
    expect(plan.ops).toEqual([]);
  });

  it('moves a port found on another bridge instead of inserting a duplicate', () => {
    const plan = planOvsTransaction(snap, { addPorts: [{ bridge: 'br-two', name: 'tapa' }] });
    expect(plan.movedPorts).toEqual(['tapa']);
    const tapa = snap.ports.get('tapa')!.uuid;
    const muts = opsOf(plan.ops, 'mutate', 'Bridge');
    expect(muts).toHaveLength(2);
    expect(muts).toContainEqual({ op: 'mutate', table: 'Bridge', where: [['_uuid', '==', ['uuid', snap.bridges.get('br-test')!.uuid]]], mutations: [['ports', 'delete', ['set', [['uuid', tapa]]]]] });
    expect(muts).toContainEqual({ op: 'mutate', table: 'Bridge', where: [['_uuid', '==', ['uuid', snap.bridges.get('br-two')!.uuid]]], mutations: [['ports', 'insert', ['set', [['uuid', tapa]]]]] });
  });

  it('deletes ports by removing them from the bridge, skips missing ones, deletes bridges from the root set', () => {
    const plan = planOvsTransaction(snap, { deletePorts: [{ bridge: 'br-test', name: 'tapb' }, { bridge: 'br-test', name: 'ghost' }, { bridge: 'br-two', name: 'bond0' }], deleteBridges: ['br-two', 'nope'] });
    expect(plan.deletedPorts).toEqual(['tapb', 'bond0']);
    expect(plan.missingPorts).toEqual(['ghost']);
    expect(plan.deletedBridges).toEqual(['br-two']);
    expect(opsOf(plan.ops, 'delete')).toEqual([]);
    expect(opsOf(plan.ops, 'mutate', 'Bridge')).toEqual([
      { op: 'mutate', table: 'Bridge', where: [['_uuid', '==', ['uuid', snap.bridges.get('br-test')!.uuid]]], mutations: [['ports', 'delete', ['set', [['uuid', snap.ports.get('tapb')!.uuid]]]]] },
    ]);
    expect(opsOf(plan.ops, 'mutate', 'Open_vSwitch')[0]).toEqual({
      op: 'mutate',
      table: 'Open_vSwitch',
      where: [],
      mutations: [['bridges', 'delete', ['set', [['uuid', snap.bridges.get('br-two')!.uuid]]]]],
    });
  });

  it('replace mode sets the whole map; no next_cfg bump when asked', () => {
    const plan = planOvsTransaction(snap, { updateIfaceExternalIds: [{ name: 'tapa', externalIds: { a: 'b' }, mode: 'replace' }] }, { bumpNextCfg: false, comment: 'vifd: test' });
    expect(plan.ops).toEqual([
      { op: 'comment', comment: 'vifd: test' },
      { op: 'update', table: 'Interface', where: [['name', '==', 'tapa']], row: { external_ids: ['map', [['a', 'b']]] } },
    ]);
    expect(plan.updateOps.get('tapa')).toBe(1);
    expect(plan.nextCfgOp).toBeUndefined();
  });

  it('rejects contradictory changes before sending anything', () => {
    expect(() => planOvsTransaction(snap, { addPorts: [{ bridge: 'br-missing', name: 'x' }] })).toThrow(OvsChangesError);
    expect(() => planOvsTransaction(snap, { addPorts: [{ bridge: 'br-test', name: 'x' }, { bridge: 'br-test', name: 'x' }] })).toThrow(/added twice/u);
    expect(() => planOvsTransaction(snap, { ensureBridges: [{ name: 'b' }], deleteBridges: ['b'] })).toThrow(/both ensured and deleted/u);
    try {
      planOvsTransaction(snap, { addPorts: [{ bridge: 'br-test', name: 'y' }], deletePorts: [{ bridge: 'br-test', name: 'y' }] });
    } catch (e) {
      expect(e).toMatchObject({ code: 'OVS_INVALID_CHANGES', problems: ['port y is both added and deleted'] });
    }
  });
});
