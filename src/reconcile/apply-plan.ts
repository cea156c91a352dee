// Executes a round's plan: the links as one `ip -batch`, then the OVS changes
// as one transaction (their ports need the kernel devices to exist first).
// Failures come back per work key.
import type { Host, HostSnapshot } from '../host/host.js';
import type { WorkKey } from './actions.js';
import type { RoundPlan } from './plan.js';

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
  if (plan.ovsChanges) {
    ovsTransactions = 1;
    try {
      await host.applyOvs(plan.ovsChanges, before.ovs);
    } catch (error) {
      // One transaction: all or nothing, so every key in it failed.
      const err = error instanceof Error ? error : new Error(String(error));
      for (const key of plan.ovsKeys) fail(key, err);
    }
  }
  return { failures, linesRun, ovsTransactions, notCreated };
}
