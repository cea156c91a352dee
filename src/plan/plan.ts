// The whole planner: desired × snapshot → actions and per-key outcomes. Pure;
// `vifd plan` prints its result and `vifd run` executes it.
import type { DesiredView } from '../desired/store.js';
import type { HostSnapshot } from '../host/host.js';
import { type LinkAction } from '../model/actions.js';
import { linkKey, linkNameOfKey, type WorkKey } from '../model/work-key.js';
import { ownerOf, type OwnershipConfig } from '../model/ownership.js';
import { planLinks, type KeyOutcome } from './plan-links.js';
import { isEmptyOvsChanges, planOvs } from './plan-ovs.js';
import { ovsBridgeKey } from '../model/work-key.js';
import { OVS_OWNER_KEY, OVS_OWNER_VALUE, OVS_PORT_KEY } from '../model/ownership.js';
import type { OvsChanges } from '../host/ovsdb/index.js';
import type { AssociationView } from '../model/association.js';
import type { ReadyWhen } from '../desired/schema.js';

export interface RoundPlan {
  linkActions: LinkAction[];
  ovsChanges: OvsChanges | undefined;
  /** Keys whose OVS changes ride in the round's one transaction. */
  ovsKeys: Set<WorkKey>;
  outcomes: Map<WorkKey, KeyOutcome>;
  followUps: Set<WorkKey>;
}

export interface PlanContext {
  desired: DesiredView;
  ownership: OwnershipConfig;
  adoptable?: ReadonlySet<string>;
  associated?: ReadonlySet<string>;
  associations?: ReadonlyMap<string, AssociationView>;
  /** Datapath for OVS bridges vifd creates when a binding names none. */
  defaultDatapathType?: 'system' | 'netdev';
  /** Readiness gate of OVS bindings that name none (--ready-when). */
  defaultReadyWhen?: ReadyWhen;
}

const SEVERITY: Record<KeyOutcome['state'], number> = { converged: 0, waiting: 0.5, changing: 1, blocked: 2, conflict: 3 };

/** The worse of two outcomes for one key (a conflict beats a pending change). */
function worse(a: KeyOutcome | undefined, b: KeyOutcome | undefined): KeyOutcome {
  if (!a) return b ?? { state: 'converged' };
  if (!b) return a;
  if (SEVERITY[b.state] !== SEVERITY[a.state]) return SEVERITY[b.state] > SEVERITY[a.state] ? b : a;
  return !a.message && b.message ? b : a; // equal: the one that says something (a kept bridge)
}

export function planRound(keys: Iterable<WorkKey>, snapshot: HostSnapshot, context: PlanContext): RoundPlan {
  const keyList = [...keys];
  const links = planLinks({ keys: keyList, links: snapshot.links, ...context });
  // A port whose kernel device is in Conflict (the name is someone else's
  // device) or blocked must not get that device plugged into OVS.
  // (A removal is never held: its OVS rows go whatever its kernel devices do.)
  const hold = new Set([...links.outcomes].filter(([key, o]) => !linkNameOfKey(key) && context.desired.bindings.has(key) && (o.state === 'conflict' || o.state === 'blocked')).map(([key]) => key));
  const ovs = planOvs({
    keys: keyList,
    desired: context.desired,
    ovs: snapshot.ovs,
    hold,
    recreating: new Set(createdNames(links.actions)),
    ...(snapshot.ovsProblem ? { ovsProblem: snapshot.ovsProblem } : {}),
    ...(context.defaultDatapathType ? { defaultDatapathType: context.defaultDatapathType } : {}),
  });
  const outcomes = new Map(links.outcomes);
  for (const [key, outcome] of ovs.outcomes) outcomes.set(key, worse(outcomes.get(key), outcome));
  return {
    linkActions: links.actions,
    ovsChanges: isEmptyOvsChanges(ovs.changes) ? undefined : ovs.changes,
    ovsKeys: ovs.keysInTransaction,
    outcomes,
    followUps: new Set([...links.followUps, ...ovs.followUps]),
  };
}

/** Every key worth looking at: desired ports, ports named only by invalid
 * documents, and whatever vifd owns on the host. */
export function allKeys(snapshot: HostSnapshot, context: PlanContext): Set<WorkKey> {
  const keys = new Set<WorkKey>([...context.desired.bindings.keys(), ...context.desired.invalidOnly.keys()]);
  for (const link of snapshot.links.links.values()) {
    const owner = ownerOf(link, context.ownership, context.adoptable);
    if (!owner.owned) continue;
    keys.add(owner.port ?? linkKey(link.name));
  }
  for (const iface of snapshot.ovs?.interfaces.values() ?? []) {
    const port = iface.externalIds[OVS_PORT_KEY];
    if (port) keys.add(port);
  }
  for (const bridge of snapshot.ovs?.bridges.values() ?? []) {
    if (bridge.externalIds[OVS_OWNER_KEY] === OVS_OWNER_VALUE) keys.add(ovsBridgeKey(bridge.name));
  }
  return keys;
}

/** Names of links the actions create (for the intent journal). */
export function createdNames(actions: readonly LinkAction[]): string[] {
  return actions.flatMap((a) => {
    switch (a.op) {
      case 'create-bridge':
      case 'create-tap':
      case 'create-macvtap':
        return [a.name];
      case 'create-veth':
        return [a.name, a.peer];
      default:
        return [];
    }
  });
}
