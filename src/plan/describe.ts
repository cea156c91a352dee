// Planned changes in words, one line each, for `vifd plan`. Pure.
import type { OvsChanges } from '../host/ovsdb/index.js';
import type { Action } from '../model/actions.js';

/** One line per OVS change, for `vifd plan`. */
export function describeOvsChanges(c: OvsChanges | undefined): string[] {
  if (!c) return [];
  return [
    ...(c.ensureBridges ?? []).map((b) => `create OVS bridge ${b.name} (datapath ${b.datapathType || 'system'})`),
    ...(c.addPorts ?? []).map((p) => `add port ${p.name} to ${p.bridge} (iface-id ${p.externalIds?.['iface-id'] ?? '-'})`),
    ...(c.updateIfaceExternalIds ?? []).map((u) => `update external_ids of ${u.name}`),
    ...(c.deletePorts ?? []).map((p) => `delete port ${p.name} from ${p.bridge}`),
    ...(c.deleteBridges ?? []).map((b) => `delete OVS bridge ${b}`),
    ...(c.updatePortVlans ?? []).map((v) => `set VLAN of port ${v.name} (tag ${v.tag ?? '-'}, trunks [${v.trunks.join(',')}], vlan_mode ${v.vlanMode ?? '-'})`),
  ];
}

export function describeAction(action: Action): string {
  switch (action.op) {
    case 'create-bridge':
      return `create ${action.perPort ? 'per-port ' : ''}bridge ${action.name}`;
    case 'create-tap':
      return `create tap ${action.name}`;
    case 'create-veth':
      return `create veth ${action.name} <-> ${action.peer}`;
    case 'create-macvtap':
      return `create macvtap ${action.name} on ${action.lower} mode ${action.mode}`;
    case 'set-link': {
      const s = action.settings;
      const parts = Object.entries(s).map(([k, v]) => `${k}=${v === null ? 'none' : String(v)}`);
      return `set ${action.name} ${parts.join(' ')} (${action.why})`;
    }
    case 'delete-link':
      return `delete ${action.name} (${action.why})`;
    case 'undoom-link':
      return `keep ${action.name} (out of the doomed group before the bulk delete)`;
  }
}
