// Executes a round's plan: the links as one `ip -batch`, then the OVS changes
// as one transaction (their ports need the kernel devices to exist first).
// Failures come back per work key.
import type { Host, HostSnapshot } from '../host/host.js';
import type { WorkKey } from '../model/work-key.js';
import type { OvsChanges } from '../host/ovsdb/index.js';
import type { RoundPlan } from '../plan/plan.js';
import { isEmptyOvsChanges } from '../plan/plan-ovs.js';

export interface AppliedPlan {
  failures: Map<WorkKey, Error[]>;
  linesRun: number;
  ovsTransactions: number;
  /** Devices whose creation failed (another agent may hold the name now). */
  notCreated: string[];
}

export function planHasWork(plan: RoundPlan): boolean {
  return plan.linkActions.length > 0 || plan.ovsChanges !== undefined;
}

export async function applyPlan(host: Host, plan: RoundPlan, before: HostSnapshot): Promise<AppliedPlan> {
  const failures = new Map<WorkKey, Error[]>();
  const fail = (key: WorkKey, error: Error) => failures.set(key, [...(failures.get(key) ?? []), error]);
  let linesRun = 0;
  let notCreated: string[] = [];
  if (plan.linkActions.length > 0) {
    const result = await host.applyLinks(plan.linkActions);
    linesRun = result.linesRun;
    notCreated = result.notCreated;
    for (const [key, errors] of result.failures) for (const error of errors) fail(key, error);
  }
  let ovsTransactions = 0;
  const ovsChanges = plan.ovsChanges && withoutDevices(plan.ovsChanges, new Set(notCreated));
  if (ovsChanges) {
    ovsTransactions = 1;
    try {
      await host.applyOvs(ovsChanges, before.ovs);
    } catch (error) {
      // One transaction: all or nothing, so every key in it failed.
      const err = error instanceof Error ? error : new Error(String(error));
      for (const key of plan.ovsKeys) fail(key, err);
    }
  }
  return { failures, linesRun, ovsTransactions, notCreated };
}

/** The OVS changes minus ports and interface updates for devices whose
 * creation just failed: the device by that name is someone else's, and
 * making it an OVS port with vifd's external_ids would be taking it over. */
function withoutDevices(changes: OvsChanges, notCreated: ReadonlySet<string>): OvsChanges | undefined {
  if (notCreated.size === 0) return changes;
  const out: OvsChanges = {
    ...changes,
    addPorts: (changes.addPorts ?? []).filter((p) => !notCreated.has(p.name)),
    updateIfaceExternalIds: (changes.updateIfaceExternalIds ?? []).filter((u) => !notCreated.has(u.name)),
  };
  return isEmptyOvsChanges(out) ? undefined : out;
}
