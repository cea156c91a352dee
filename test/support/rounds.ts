// One reconcile round as the reconciler runs it (snapshot, plan, intent
// journal, apply, settle the journal), without queue or status: for the
// property suite, on a model host.
import type { DesiredStore } from '../../src/desired/store.js';
import type { HostSnapshot } from '../../src/host/host.js';
import type { WorkKey } from '../../src/model/work-key.js';
import { applyPlan, type AppliedPlan } from '../../src/reconcile/apply-plan.js';
import { allKeys, createdNames, planRound, type PlanContext, type RoundPlan } from '../../src/plan/plan.js';
import { ownerOf } from '../../src/model/ownership.js';
import type { ModelHost } from './model-host.js';

export interface RoundRun {
  before: HostSnapshot;
  keys: WorkKey[];
  plan: RoundPlan;
  applied: AppliedPlan;
  after: HostSnapshot;
}

export interface Driver {
  host: ModelHost;
  store: DesiredStore;
  /** Intent journal: names created and not yet marked. */
  adoptable: Set<string>;
  /** Ports whose port-profile association holds. */
  associated: Set<string>;
}

export function contextOf(d: Driver): PlanContext {
  return { desired: d.store.view(), ownership: d.host.ownership, adoptable: d.adoptable, associated: d.associated };
}

/** Every key worth looking at, in the order `order` gives. */
export async function keysNow(d: Driver, order: (keys: WorkKey[]) => WorkKey[] = (k) => k): Promise<WorkKey[]> {
  const snapshot = await d.host.snapshot();
  return order([...allKeys(snapshot, contextOf(d))].sort());
}

export async function runRound(d: Driver, keys: WorkKey[]): Promise<RoundRun> {
  const context = contextOf(d);
  const before = await d.host.snapshot();
  const plan = planRound(keys, before, context);
  for (const name of createdNames(plan.linkActions)) d.adoptable.add(name);
  const applied = await applyPlan(d.host, plan, before);
  for (const name of applied.notCreated) d.adoptable.delete(name);
  const after = await d.host.snapshot();
  for (const name of [...d.adoptable]) {
    const link = after.links.links.get(name);
    if (!link || (link.group === d.host.ownership.group && link.alias !== undefined)) d.adoptable.delete(name);
  }
  return { before, keys, plan, applied, after };
}

/** What vifd owns right now (links by name, OVS rows marked vifd's). */
export function ownedNames(d: Driver, snapshot: HostSnapshot): string[] {
  const out: string[] = [];
  for (const link of snapshot.links.links.values()) if (ownerOf(link, d.host.ownership, d.adoptable).owned) out.push(link.name);
  return out.sort();
}
