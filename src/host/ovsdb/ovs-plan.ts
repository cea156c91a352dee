// Plans one OVSDB transaction that brings OVS from a snapshot to the
// requested changes: bridges ensured/deleted, ports added/moved/deleted,
// interface external_ids updated. Pure: no node:* imports, no I/O.
//
// It decides nothing about what vifd wants (plan/plan-ovs.ts does: which
// bridges and ports, which external_ids, which VLAN columns); it turns those
// changes into operations against the rows of the snapshot it is handed.
//
// "may-exist" semantics: what the snapshot already has is not inserted again,
// and each insert is guarded by `wait` ops (timeout 0) asserting that no row of
// that name exists, so if the snapshot was stale the transaction fails as a
// whole (OVSDB_WAIT_FAILED) instead of inserting a duplicate; the caller then
// re-snapshots and re-plans.
import { namedUuid, ovsMap, ovsSet, uuid } from './datum.js';
import { OvsChangesError } from './errors.js';
import type { OvsSnapshot } from './parse-rows.js';
import type { OvsdbValue } from './types.js';
import { commentOp, eq, insertOp, mutateOp, selectOp, updateOp, waitOp, whereUuid, type Operation } from './transact.js';

export interface EnsureBridge {
  name: string;
  /** Default "" (the system datapath); vifd tests use "netdev". */
  datapathType?: string;
  externalIds?: Record<string, string>;
}

export interface AddPort {
  bridge: string;
  name: string;
  /** Interface type ("" = system device, "internal", ...). Default "". */
  ifaceType?: string;
  /** Interface external_ids (iface-id, attached-mac, vm-uuid, ...), written
   * when the row is inserted; an existing Interface's are changed only by
   * updateIfaceExternalIds. */
  externalIds?: Record<string, string>;
  portExternalIds?: Record<string, string>;
  /** VLAN columns of the new Port row: written only when the row is inserted
   * (a port that exists, or is moved, keeps its own). */
  portVlan?: PortVlan;
}

/** A Port's tag / trunks / vlan_mode (null: the column left empty). */
export interface PortVlan {
  tag: number | null;
  trunks: number[];
  vlanMode: string | null;
}

/** Sets a Port's VLAN columns (for bindings that make vifd own them). */
export interface UpdatePortVlan extends PortVlan {
  name: string;
}

export interface UpdateIfaceExternalIds {
  name: string;
  externalIds: Record<string, string>;
  /** merge (default): set these keys, keep others; replace: the whole map. */
  mode?: 'merge' | 'replace';
  /** Keys to remove (merge mode). */
  removeKeys?: string[];
}

export interface DeletePort {
  bridge: string;
  name: string;
}

export interface OvsChanges {
  ensureBridges?: EnsureBridge[];
  addPorts?: AddPort[];
  updateIfaceExternalIds?: UpdateIfaceExternalIds[];
  deletePorts?: DeletePort[];
  deleteBridges?: string[];
  updatePortVlans?: UpdatePortVlan[];
}

export interface OvsPlan {
  ops: Operation[];
  /** Index of the `select next_cfg` op, when next_cfg is bumped. */
  nextCfgOp: number | undefined;
  /** Index of each interface-update op (to read its `count`). */
  updateOps: Map<string, number>;
  createdBridges: string[];
  deletedBridges: string[];
  addedPorts: string[];
  /** Requested ports that already were on the right bridge (not inserted). */
  existingPorts: string[];
  /** Requested ports found on another bridge, moved. */
  movedPorts: string[];
  deletedPorts: string[];
  /** Ports asked to be deleted that are not on that bridge (nothing to do). */
  missingPorts: string[];
}

export interface PlanOptions {
  /** Bump Open_vSwitch.next_cfg (so ovs-vswitchd reconfigures). Default true. */
  bumpNextCfg?: boolean;
  /** Guard inserts with `wait` ops. Default true. */
  guards?: boolean;
  comment?: string;
}

const absent = (table: string, name: string): Operation => waitOp(table, [eq('name', name)], { columns: [], until: '==', rows: [], timeoutMs: 0 });
const present = (table: string, name: string): Operation => waitOp(table, [eq('name', name)], { columns: [], until: '!=', rows: [], timeoutMs: 0 });

function validate(snapshot: OvsSnapshot, c: Required<OvsChanges>): void {
  const problems: string[] = [];
  const ensured = new Set(c.ensureBridges.map((b) => b.name));
  const deletedBridges = new Set(c.deleteBridges);
  const seen = new Set<string>();
  for (const b of c.ensureBridges) if (deletedBridges.has(b.name)) problems.push(`bridge ${b.name} is both ensured and deleted`);
  const deleted = new Set(c.deletePorts.map((p) => p.name));
  for (const p of c.addPorts) {
    if (seen.has(p.name)) problems.push(`port ${p.name} is added twice`);
    seen.add(p.name);
    if (deleted.has(p.name)) problems.push(`port ${p.name} is both added and deleted`);
    if (ensured.has(p.name) || (snapshot.bridges.has(p.name) && p.bridge !== p.name)) problems.push(`port ${p.name} has the name of a bridge`);
    if (deletedBridges.has(p.bridge)) problems.push(`port ${p.name} is added to bridge ${p.bridge}, which is deleted`);
    else if (!ensured.has(p.bridge) && !snapshot.bridges.has(p.bridge)) problems.push(`port ${p.name} is added to bridge ${p.bridge}, which does not exist`);
  }
  if (problems.length > 0) throw new OvsChangesError(problems);
}

function vlanColumns(v: PortVlan): Record<string, OvsdbValue> {
  return { tag: v.tag === null ? ovsSet([]) : v.tag, trunks: ovsSet(v.trunks), vlan_mode: v.vlanMode === null ? ovsSet([]) : v.vlanMode };
}

function mapMutation(u: UpdateIfaceExternalIds): Operation {
  const where = [eq('name', u.name)];
  if (u.mode === 'replace') return updateOp('Interface', where, { external_ids: ovsMap(u.externalIds) });
  const drop = [...new Set([...Object.keys(u.externalIds), ...(u.removeKeys ?? [])])];
  return mutateOp('Interface', where, [
    ['external_ids', 'delete', ovsSet(drop)],
    ['external_ids', 'insert', ovsMap(u.externalIds)],
  ]);
}

/** Builds the operations. Throws OvsChangesError on contradictory changes. */
export function planOvsTransaction(snapshot: OvsSnapshot, changes: OvsChanges, options: PlanOptions = {}): OvsPlan {
  const c: Required<OvsChanges> = { ensureBridges: [], addPorts: [], updateIfaceExternalIds: [], deletePorts: [], deleteBridges: [], updatePortVlans: [], ...changes };
  validate(snapshot, c);
  const guards = options.guards ?? true;
  const waits: Operation[] = [];
  const ops: Operation[] = [];
  const plan: OvsPlan = { ops: [], nextCfgOp: undefined, updateOps: new Map(), createdBridges: [], deletedBridges: [], addedPorts: [], existingPorts: [], movedPorts: [], deletedPorts: [], missingPorts: [] };
  let n = 0;
  const fresh = (kind: string): string => `${kind}${n++}`;

  // Bridges to delete: drop them from the root set; their ports go with them.
  const deletedBridges = new Set<string>();
  const dropBridges: string[] = [];
  for (const name of c.deleteBridges) {
    const b = snapshot.bridges.get(name);
    if (!b || deletedBridges.has(name)) continue;
    deletedBridges.add(name);
    dropBridges.push(b.uuid);
    plan.deletedBridges.push(name);
  }

  // Bridges to create: local internal port + Bridge row + root reference.
  const newBridges: string[] = [];
  for (const b of c.ensureBridges) {
    if (snapshot.bridges.has(b.name) || plan.createdBridges.includes(b.name)) continue;
    if (guards) waits.push(absent('Bridge', b.name), absent('Port', b.name), absent('Interface', b.name));
    const i = fresh('i');
    const p = fresh('p');
    const br = fresh('b');
    ops.push(insertOp('Interface', { name: b.name, type: 'internal' }, i));
    ops.push(insertOp('Port', { name: b.name, interfaces: namedUuid(i) }, p));
    ops.push(insertOp('Bridge', { name: b.name, datapath_type: b.datapathType ?? '', external_ids: ovsMap(b.externalIds ?? {}), ports: namedUuid(p) }, br));
    newBridges.push(br);
    plan.createdBridges.push(b.name);
  }
  if (newBridges.length > 0 || dropBridges.length > 0) {
    const mutations: [string, 'insert' | 'delete', ReturnType<typeof ovsSet>][] = [];
    if (dropBridges.length > 0) mutations.push(['bridges', 'delete', ovsSet(dropBridges.map(uuid))]);
    if (newBridges.length > 0) mutations.push(['bridges', 'insert', ovsSet(newBridges.map(namedUuid))]);
    ops.push(mutateOp('Open_vSwitch', [], mutations));
  }

  // Port membership changes, collected per bridge: one mutate per bridge.
  const inserts = new Map<string, ReturnType<typeof uuid | typeof namedUuid>[]>();
  const removals = new Map<string, ReturnType<typeof uuid>[]>();
  const push = <T>(m: Map<string, T[]>, key: string, v: T): void => {
    const list = m.get(key);
    if (list) list.push(v);
    else m.set(key, [v]);
  };

  for (const d of c.deletePorts) {
    const port = snapshot.ports.get(d.name);
    if (!port || port.bridge !== d.bridge) {
      plan.missingPorts.push(d.name);
      continue;
    }
    if (!deletedBridges.has(d.bridge)) push(removals, d.bridge, uuid(port.uuid));
    plan.deletedPorts.push(d.name);
  }

  for (const a of c.addPorts) {
    const port = snapshot.ports.get(a.name);
    if (port) {
      if (port.bridge === a.bridge) plan.existingPorts.push(a.name);
      else {
        if (port.bridge !== null && !deletedBridges.has(port.bridge)) push(removals, port.bridge, uuid(port.uuid));
        push(inserts, a.bridge, uuid(port.uuid));
        plan.movedPorts.push(a.name);
      }
      // Its Interface's external_ids are not compared here: whether they need
      // changing is the planner's decision (updateIfaceExternalIds).
      continue;
    }
    if (guards) waits.push(absent('Port', a.name), absent('Interface', a.name));
    const i = fresh('i');
    const p = fresh('p');
    ops.push(insertOp('Interface', { name: a.name, type: a.ifaceType ?? '', external_ids: ovsMap(a.externalIds ?? {}) }, i));
    ops.push(insertOp('Port', { name: a.name, interfaces: namedUuid(i), external_ids: ovsMap(a.portExternalIds ?? {}), ...(a.portVlan ? vlanColumns(a.portVlan) : {}) }, p));
    push(inserts, a.bridge, namedUuid(p));
    plan.addedPorts.push(a.name);
  }

  for (const bridge of new Set([...removals.keys(), ...inserts.keys()])) {
    const mutations: [string, 'insert' | 'delete', ReturnType<typeof ovsSet>][] = [];
    const out = removals.get(bridge);
    const into = inserts.get(bridge);
    if (out) mutations.push(['ports', 'delete', ovsSet(out)]);
    if (into) mutations.push(['ports', 'insert', ovsSet(into)]);
    const existing = snapshot.bridges.get(bridge);
    // A bridge from the snapshot must still be there: else the new ports would be orphans.
    if (guards && existing && into) waits.push(present('Bridge', bridge));
    ops.push(mutateOp('Bridge', existing && !plan.createdBridges.includes(bridge) ? whereUuid(existing.uuid) : [eq('name', bridge)], mutations));
  }

  for (const u of c.updateIfaceExternalIds) {
    plan.updateOps.set(u.name, ops.length);
    ops.push(mapMutation(u));
  }

  const inserted = new Set(plan.addedPorts);
  for (const v of c.updatePortVlans) {
    if (inserted.has(v.name)) continue; // the insert carries its own columns
    ops.push(updateOp('Port', [eq('name', v.name)], vlanColumns(v)));
  }

  if (ops.length === 0) return plan;
  plan.ops = [...waits, ...(options.comment ? [commentOp(options.comment)] : []), ...ops];
  if (options.bumpNextCfg ?? true) {
    plan.ops.push(mutateOp('Open_vSwitch', [], [['next_cfg', '+=', 1]]));
    plan.nextCfgOp = plan.ops.length;
    plan.ops.push(selectOp('Open_vSwitch', [], ['next_cfg']));
  }
  const shift = plan.ops.length - ops.length - (plan.nextCfgOp === undefined ? 0 : 2);
  for (const [k, v] of plan.updateOps) plan.updateOps.set(k, v + shift);
  return plan;
}
