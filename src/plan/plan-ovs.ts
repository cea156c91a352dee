// The Open vSwitch half of the planner: desired OVS ports × the OVSDB
// snapshot → one set of changes for one transaction, per-key outcomes. Pure.
//
// Ownership lives in OVSDB itself: Interface and Port rows vifd adds carry
// external_ids:vifd-port=<port>; bridges it creates carry vifd-owner=vifd.
//
// Every decision about OVS rows is made here: is the port there, on the
// right bridge; do its Interface's external_ids need changing; its VLAN
// columns; which bridge goes. host/ovsdb/ovs-plan.ts only turns these
// changes into one transaction (may-exist against the snapshot it is given).
import type { DesiredView } from '../desired/store.js';
import type { DesiredOvsPort } from '../desired/spec.js';
import type { OvsChanges, OvsSnapshot } from '../host/ovsdb/index.js';
import { ovsBridgeKey, ovsBridgeOfKey, type WorkKey } from '../model/work-key.js';
import { OVS_OWNER_KEY, OVS_OWNER_VALUE, OVS_PORT_KEY } from '../model/ownership.js';
import type { KeyOutcome } from './plan-links.js';
import { bridgeClaim } from './ovs-claims.js';
import type { ReadyWhen } from '../desired/schema.js';
import { gatedOutcome } from './readiness-gate.js';
import { newPortVlan, vlanRepair } from './ovs-vlan.js';

/** external_ids keys vifd manages on an Interface (removed when no longer wanted). */
const MANAGED_IFACE_KEYS = ['iface-id', 'iface-status', 'attached-mac', 'vm-uuid', 'vifd-profile-id', OVS_PORT_KEY];

export interface OvsPlanInput {
  keys: Iterable<WorkKey>;
  desired: DesiredView;
  /** undefined: OVSDB is not reachable right now. */
  ovs: OvsSnapshot | undefined;
  /** What to say when `ovs` is missing (e.g. OVSDB is not answering). */
  ovsProblem?: string;
  /** Devices this round creates (anew). An OVS port on such a device is
   * removed first and added again in a later round: ovs-vswitchd keeps the
   * old device open otherwise (the userspace datapath never sees the new
   * one), so a recreated tap would carry no traffic. */
  recreating?: ReadonlySet<string>;
  defaultDatapathType?: 'system' | 'netdev';
  /** Keys whose kernel devices are in Conflict or blocked: no OVS work for
   * them (the device by the port's name may be someone else's). */
  hold?: ReadonlySet<WorkKey>;
  /** The readiness gate of bindings that name none (--ready-when). */
  defaultReadyWhen?: ReadyWhen;
}

export interface OvsRoundPlan {
  changes: OvsChanges;
  /** Keys with OVS work planned, or in trouble (only keys that involve OVS). */
  outcomes: Map<WorkKey, KeyOutcome>;
  followUps: Set<WorkKey>;
  /** Keys whose changes are in `changes` (a failed transaction fails them all). */
  keysInTransaction: Set<WorkKey>;
}

export function isEmptyOvsChanges(c: OvsChanges): boolean {
  return !c.ensureBridges?.length && !c.addPorts?.length && !c.updateIfaceExternalIds?.length && !c.deletePorts?.length && !c.deleteBridges?.length && !c.updatePortVlans?.length;
}

export function wantedIfaceIds(port: string, ovsPort: DesiredOvsPort): Record<string, string> {
  return { ...ovsPort.externalIds, [OVS_PORT_KEY]: port };
}

export function planOvs(input: OvsPlanInput): OvsRoundPlan {
  const { desired, ovs } = input;
  const changes: Required<OvsChanges> = { ensureBridges: [], addPorts: [], updateIfaceExternalIds: [], deletePorts: [], deleteBridges: [], updatePortVlans: [] };
  const outcomes = new Map<WorkKey, KeyOutcome>();
  const followUps = new Set<WorkKey>();
  const keysInTransaction = new Set<WorkKey>();
  const ensured = new Set<string>();
  const deleted = new Set<string>();

  // Owned interfaces by port, built once.
  const ownedByPort = new Map<string, string[]>();
  for (const iface of ovs?.interfaces.values() ?? []) {
    const owner = iface.externalIds[OVS_PORT_KEY];
    if (owner) ownedByPort.set(owner, [...(ownedByPort.get(owner) ?? []), iface.name]);
  }

  // Interface names desired bindings want: a port no longer desired leaves
  // such an interface to its new claimant (which re-marks it) instead of deleting it.
  // (An OVS port's name is one of its binding's claimed names: looked up, not
  // gathered from every binding each round.)
  const claimedIface = {
    get(name: string): string | undefined {
      const port = desired.claimedNames.get(name);
      return port !== undefined && desired.bindings.get(port)?.spec.ovsPort?.name === name ? port : undefined;
    },
  };

  const deletePortOf = (key: WorkKey, ifaceName: string) => {
    const iface = ovs!.interfaces.get(ifaceName);
    const port = iface?.port ? ovs!.ports.get(iface.port) : undefined;
    if (!port?.bridge || deleted.has(port.name)) return;
    deleted.add(port.name);
    changes.deletePorts.push({ bridge: port.bridge, name: port.name });
    keysInTransaction.add(key);
    if (ovs!.bridges.get(port.bridge)?.externalIds[OVS_OWNER_KEY] === OVS_OWNER_VALUE) followUps.add(ovsBridgeKey(port.bridge));
  };

  const planKey = (key: WorkKey): KeyOutcome | undefined => {
    if (input.hold?.has(key)) return undefined;
    const bridgeName = ovsBridgeOfKey(key);
    const binding = bridgeName === undefined ? desired.bindings.get(key) : undefined;
    const wanted = binding && !binding.conflict ? binding.spec.ovsPort : undefined;
    const involvesOvs = bridgeName !== undefined || wanted !== undefined || ownedByPort.has(key);
    if (!involvesOvs) return undefined;
    if (!ovs) return { state: 'blocked', message: input.ovsProblem ?? 'OVSDB is not reachable; waiting to reconnect' };
    if (bridgeName !== undefined) return planOwnedBridge(key, bridgeName);
    const before = keysInTransaction.has(key);
    for (const name of ownedByPort.get(key) ?? []) {
      const claimant = claimedIface.get(name);
      if (name !== wanted?.name && (claimant === undefined || claimant === key)) deletePortOf(key, name);
    }
    if (!wanted) return keysInTransaction.has(key) && !before ? { state: 'changing' } : { state: 'converged' };
    return planPort(key, wanted);
  };

  const planPort = (port: string, wanted: DesiredOvsPort): KeyOutcome => {
    const snapshot = ovs!;
    const bridge = snapshot.bridges.get(wanted.bridge);
    let changed = keysInTransaction.has(port);
    if (!bridge && !ensured.has(wanted.bridge)) {
      ensured.add(wanted.bridge);
      changes.ensureBridges.push({ name: wanted.bridge, datapathType: wanted.datapathType ?? input.defaultDatapathType ?? 'system', externalIds: { [OVS_OWNER_KEY]: OVS_OWNER_VALUE } });
      changed = true;
    }
    const ids = wantedIfaceIds(port, wanted);
    const iface = snapshot.interfaces.get(wanted.name);
    // VLAN columns go into the insert only: once the port exists they belong
    // to its agent (isolate), or are repaired below (vlan).
    const portVlan = newPortVlan(wanted);
    const add = { bridge: wanted.bridge, name: wanted.name, externalIds: ids, portExternalIds: { [OVS_PORT_KEY]: port }, ...(portVlan ? { portVlan } : {}) };
    if (iface) {
      const owner = iface.externalIds[OVS_PORT_KEY];
      // Another binding of vifd's holding it no longer claims it (this port
      // won the name in the desired state): it is this port's to re-mark.
      if (owner === undefined) {
        return { state: 'conflict', message: `OVS interface ${wanted.name} already exists, held by something vifd does not own; vifd leaves it alone` };
      }
      if (input.recreating?.has(wanted.name)) {
        // Its device is being recreated: remove the port now, add it back next round.
        deletePortOf(port, wanted.name);
        followUps.add(port);
        return { state: 'changing' };
      }
      const current = iface.port ? snapshot.ports.get(iface.port) : undefined;
      if (current?.bridge !== wanted.bridge) {
        changes.addPorts.push(add);
        changed = true;
      }
      const repair = current ? vlanRepair(wanted, current) : undefined;
      if (repair) {
        changes.updatePortVlans.push(repair);
        changed = true;
      }
      const stale = MANAGED_IFACE_KEYS.filter((k) => iface.externalIds[k] !== undefined && ids[k] === undefined);
      const differs = Object.entries(ids).some(([k, v]) => iface.externalIds[k] !== v);
      if (differs || stale.length > 0) {
        changes.updateIfaceExternalIds.push({ name: wanted.name, externalIds: ids, mode: 'merge', ...(stale.length ? { removeKeys: stale } : {}) });
        changed = true;
      }
      if (!changed && iface.error) {
        // The hypervisor makes this tap when the VM starts: until then OVS cannot open it, as expected.
        if (desired.bindings.get(port)?.spec.hypervisorTap === wanted.name) return { state: 'converged', message: `waiting for the hypervisor to create ${wanted.name}` };
        return { state: 'blocked', message: `OVS reports interface ${wanted.name}: ${iface.error}` };
      }
      if (!changed) return gatedOutcome(wanted, input.defaultReadyWhen, iface, current);
    } else {
      changes.addPorts.push(add);
      changed = true;
    }
    if (changed) keysInTransaction.add(port);
    return changed ? { state: 'changing' } : { state: 'converged' };
  };

  const planOwnedBridge = (key: WorkKey, name: string): KeyOutcome => {
    const bridge = ovs!.bridges.get(name);
    if (!bridge || bridge.externalIds[OVS_OWNER_KEY] !== OVS_OWNER_VALUE) return { state: 'converged' };
    if (desired.bridgeUsers.has(name)) return { state: 'converged' };
    // Never delete a bridge another controller has taken over (docs/design.md §4).
    const claim = bridgeClaim(bridge, ovs!.systemExternalIds, [OVS_OWNER_KEY]);
    if (claim) return { state: 'converged', message: `unused OVS bridge ${name} kept: ${claim}` };
    const foreign = bridge.ports.filter((p) => {
      if (p === name || deleted.has(p)) return false; // its own internal port, or going now
      const port = ovs!.ports.get(p);
      return port?.externalIds[OVS_PORT_KEY] === undefined;
    });
    if (foreign.length > 0) return { state: 'blocked', message: `unused OVS bridge ${name} kept: it has ports vifd does not own (${foreign.join(', ')})` };
    changes.deleteBridges.push(name);
    keysInTransaction.add(key);
    return { state: 'changing' };
  };

  for (const key of input.keys) {
    const outcome = planKey(key);
    if (outcome) outcomes.set(key, outcome);
  }
  for (const key of [...followUps]) {
    if (outcomes.has(key)) continue;
    const outcome = planKey(key);
    if (outcome) outcomes.set(key, outcome);
  }
  return { changes, outcomes, followUps, keysInTransaction };
}
