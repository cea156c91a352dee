// The whole planner: desired × snapshot → actions and per-key outcomes. Pure;
// `vifd plan` prints its result and `vifd run` executes it.
import type { DesiredView } from '../desired/store.js';
import type { HostSnapshot } from '../host/host.js';
import { linkKey, type Action, type LinkAction, type WorkKey } from './actions.js';
import { ownerOf, type OwnershipConfig } from './ownership.js';
import { planLinks, type KeyOutcome } from './plan-links.js';

export interface RoundPlan {
  linkActions: LinkAction[];
  outcomes: Map<WorkKey, KeyOutcome>;
  followUps: Set<WorkKey>;
}

export interface PlanContext {
  desired: DesiredView;
  ownership: OwnershipConfig;
  adoptable?: ReadonlySet<string>;
  associated?: ReadonlySet<string>;
}

export function planRound(keys: Iterable<WorkKey>, snapshot: HostSnapshot, context: PlanContext): RoundPlan {
  const links = planLinks({ keys, links: snapshot.links, ...context });
  return { linkActions: links.actions, outcomes: links.outcomes, followUps: links.followUps };
}

export function allActions(plan: RoundPlan): Action[] {
  return [...plan.linkActions];
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
