// What the planner is told besides the desired state and the host, resolved
// once from the options `vifd run` and `vifd plan` share (--ovs-datapath,
// --ready-when) and, for `vifd plan`, from a running vifd's state directory:
// one place, so `vifd plan` prints what the daemon would do.
import type { ReadyWhen } from '../desired/schema.js';
import type { DesiredView } from '../desired/store.js';
import { DEFAULT_OWNERSHIP, type OwnershipConfig } from '../model/ownership.js';
import type { PlanContext } from '../plan/plan.js';
import { AssociationStore } from '../state/association-store.js';
import { IntentJournal } from '../state/intent-journal.js';

export interface PlanningOptions {
  ovsDatapathType?: 'system' | 'netdev' | undefined;
  defaultReadyWhen?: ReadyWhen | undefined;
}

export interface Planning {
  ownership: OwnershipConfig;
  /** Defaults for bindings that name none (as PlanContext and ReconcilerOptions spell them). */
  defaults: Pick<PlanContext, 'defaultDatapathType' | 'defaultReadyWhen'>;
}

export function planningOf(o: PlanningOptions): Planning {
  return {
    ownership: DEFAULT_OWNERSHIP,
    defaults: { ...(o.ovsDatapathType ? { defaultDatapathType: o.ovsDatapathType } : {}), ...(o.defaultReadyWhen ? { defaultReadyWhen: o.defaultReadyWhen } : {}) },
  };
}

/** What a running vifd holds that the links do not show. */
export interface PlanningState {
  /** Names it is creating (the intent journal): unmarked links by these names are its. */
  adoptable: ReadonlySet<string>;
  /** Ports whose port-profile association holds (else their macvtaps would be planned down). */
  associated: ReadonlySet<string>;
}

/** The state a vifd using `stateDir` recorded (nothing without one). */
export async function readPlanningState(stateDir: string | undefined): Promise<PlanningState> {
  if (!stateDir) return { adoptable: new Set(), associated: new Set() };
  const adoptable = (await new IntentJournal(stateDir).pending()).names;
  const associated = new Set((await new AssociationStore(stateDir).read()).records.filter((r) => r.state === 'associated').map((r) => r.port));
  return { adoptable, associated };
}

/** The planning context of one pass over `desired`. */
export function planContextOf(planning: Planning, desired: DesiredView, state: PlanningState): PlanContext {
  return { desired, ownership: planning.ownership, adoptable: state.adoptable, associated: state.associated, ...planning.defaults };
}
