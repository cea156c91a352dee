// VLAN columns of an OVS port (tag, trunks, vlan_mode) as vifd plans them.
// Pure. Two cases only:
//  - isolate: the new Port row is inserted in Neutron's dead VLAN 4095; after
//    that vifd never writes these columns (an agent owns them);
//  - vlan: vifd owns the columns for that port: set on insert, repaired after.
// Neither: vifd never writes them.
import type { DesiredOvsPort, DesiredVlan } from '../desired/spec.js';
import type { OvsPort, PortVlan, UpdatePortVlan } from '../host/ovsdb/index.js';
import { DEAD_VLAN } from './readiness-gate.js';

const ISOLATED: PortVlan = { tag: DEAD_VLAN, trunks: [DEAD_VLAN], vlanMode: 'trunk' };

function columnsOf(vlan: DesiredVlan): PortVlan {
  return { tag: vlan.tag, trunks: vlan.trunks, vlanMode: vlan.mode };
}

/** The VLAN columns a newly inserted Port row gets, if any. */
export function newPortVlan(wanted: DesiredOvsPort): PortVlan | undefined {
  if (wanted.isolate) return ISOLATED;
  if (wanted.vlan) return columnsOf(wanted.vlan);
  return undefined;
}

/** The update that brings an existing port to its `vlan`, when vifd owns the
 * columns and they differ; undefined otherwise (isolate, no vlan, in line). */
export function vlanRepair(wanted: DesiredOvsPort, current: OvsPort): UpdatePortVlan | undefined {
  if (!wanted.vlan || wanted.isolate) return undefined;
  const want = columnsOf(wanted.vlan);
  const trunks = current.trunks ?? [];
  const same = (current.tag ?? null) === want.tag && (current.vlanMode ?? null) === want.vlanMode && trunks.length === want.trunks.length && trunks.every((t, i) => t === want.trunks[i]);
  return same ? undefined : { name: current.name, ...want };
}
