// One reconcile round over a set of keys: snapshot, plan, act in one batch,
// verify against a second snapshot, record each binding's status. Level-based:
// it reads desired and observed state afresh and trusts nothing it was told.
import type { Logger } from 'pino';
import type { Host, HostSnapshot } from '../host/host.js';
import type { LinkAction } from '../model/actions.js';
import type { AssociationControl, AssociationView } from '../model/association.js';
import { OVS_PORT_KEY } from '../model/ownership.js';
import { parseWorkKey, type WorkKey } from '../model/work-key.js';
import { attachmentOf, heldTapOf, TAP_DELETED, type DetachedPorts } from '../plan/attachment.js';
import { phaseOf } from '../plan/phase.js';
import { createdNames, planRound, type PlanContext } from '../plan/plan.js';
import { vanishedUnderRound } from '../plan/vanished.js';
import type { Adoption } from './adoption.js';
import { applyPlan, planHasWork } from './apply-plan.js';
import type { ReadinessClock } from './readiness-clock.js';
import type { OwnEvents } from './own-events.js';
import type { RemovalHolds } from './removal-holds.js';
import type { RoundReports } from './round-report.js';
import type { StandingNotes } from './standing-notes.js';
import type { StatusBook } from './status-book.js';
import type { RoundResult } from './work-queue.js';

export interface RoundDeps {
  host: Host;
  logger: Logger;
  associator: AssociationControl | undefined;
  adoption: Adoption;
  book: StatusBook;
  detached: DetachedPorts;
  notes: StandingNotes;
  clock: ReadinessClock;
  reports: RoundReports;
  holds: RemovalHolds;
  ownEvents: OwnEvents;
  /** The planning context of now (desired view, ownership, adoptable names). */
  context(): PlanContext;
  /** The last OVS state any round saw (rounds that involve no OVS do not read it). */
  lastOvs(): HostSnapshot['ovs'];
  /** The round ends with this state of the host. */
  observed(snapshot: HostSnapshot): void;
  /** A follow-up the round did not settle. */
  requeue(key: WorkKey): void;
  /** Rounds in a row that have failed this key before this one. */
  failuresInARow(key: WorkKey): number;
  /** Writes the statuses the round staged and the summary (one syncfs).
   * The round waits for it: a status a round decides is on disk before the
   * next round can replace it (written behind the rounds, the store kept
   * only the latest per port, and a Detached lasting one round was never
   * seen: the hypervisor tests caught it). */
  persist(at: string): Promise<void>;
}

export async function runRound(deps: RoundDeps, queued: WorkKey[]): Promise<RoundResult> {
  const context = deps.context();
  const keys = deps.holds.admit(queued, context.desired);
  if (keys.length === 0) return new Map();
  const { host, logger, adoption } = deps;
  const snapshotOptions = { ovs: needsOvs(keys, context, deps.lastOvs()) };
  const before = await host.snapshot(snapshotOptions);
  const planContext = withAssociations(deps.associator, keys, before, context);
  const plan = planRound(keys, before, planContext);
  let after = before;
  let verify = plan;
  let failures = new Map<WorkKey, Error[]>();
  if (planHasWork(plan)) {
    noteRecreatedTaps(deps, plan.linkActions, context, before);
    await adoption.creating(createdNames(plan.linkActions));
    const started = Date.now();
    deps.ownEvents.open(keys);
    let result: Awaited<ReturnType<typeof applyPlan>>;
    try {
      result = await applyPlan(host, plan, before);
      after = await host.snapshot(snapshotOptions);
    } finally {
      deps.ownEvents.close();
    }
    await adoption.notCreated(result.notCreated);
    failures = result.failures;
    deps.reports.note.errors = [...failures.values()].flat();
    verify = planRound(keys, after, planContext);
    logger.debug({ keys: keys.length, lines: result.linesRun, ovsTransactions: result.ovsTransactions, failed: failures.size, ms: Date.now() - started }, 'round applied');
    await adoption.settle(after);
  }
  deps.observed(after);
  // Follow-ups were planned inline; queue those the round did not settle.
  for (const key of plan.followUps) if (verify.outcomes.get(key)?.state === 'changing') deps.requeue(key);

  const results: RoundResult = new Map();
  const now = new Date().toISOString();
  for (const key of keys) {
    const outcome = verify.outcomes.get(key) ?? { state: 'converged' as const };
    if (parseWorkKey(key).kind !== 'port') {
      // A device vifd keeps for itself (a shared bridge, an OVS bridge): no status, only retries and notes.
      if (outcome.state === 'changing') results.set(key, 'retry');
      if (outcome.state === 'blocked') logger.warn({ key }, outcome.message ?? 'blocked');
      else if (outcome.state === 'converged' && outcome.message) deps.notes.note(key, outcome.message);
      else deps.notes.clear(key);
      continue;
    }
    const planned = plan.outcomes.get(key)?.state ?? 'converged';
    const acted = planned !== 'converged' && planned !== 'waiting';
    if (acted) deps.reports.note.acted.push(key);
    if (acted || outcome.state === 'changing' || outcome.state === 'blocked') deps.book.countAttempt(key);
    const desired = context.desired.bindings.get(key);
    const failed = failures.get(key) ?? [];
    const decided = phaseOf({ desired: desired !== undefined, outcome, failures: failed });
    if (decided.phase === 'Gone') deps.detached.forget(key);
    else if (deps.detached.observed(key, attachmentOf(desired?.spec, after.links), heldTapOf(desired?.spec, after.links))) {
      deps.logger.warn({ port: key, tap: desired?.spec.targetDev }, 'the tap a hypervisor held is gone: the VM\'s NIC is detached until it is re-plugged');
    }
    if (decided.phase === 'Failed' && deps.failuresInARow(key) === 0 && vanishedUnderRound(failed, after.links)) {
      // Deleted under the round (see vanished.ts): the next round decides; the
      // event that said so (held as this round's own, or queued) makes it run at once.
      deps.logger.debug({ port: key, errors: failed.map((e) => e.message) }, 'a device vanished under the round: retried, status unchanged');
      results.set(key, 'retry');
      continue;
    }
    results.set(key, decided.retry);
    const detached = decided.phase === 'Ready' ? deps.detached.message(key) : undefined;
    const [phase, message] = detached ? (['Detached', detached] as const) : [decided.phase, decided.message];
    const times = desired ? deps.clock.times(deps.book.get(key), key, desired.generation, outcome, phase === 'Ready', now, deps.reports.note) : {};
    if (!desired) deps.clock.forget(key);
    deps.book.record(key, phase, message, now, context, after, deps.associator?.view(key, context.desired), times);
  }
  // Persisted before the held events are handed back: the summary counts the
  // queue, and a key queued again for a moment (a retry at once) is no change
  // of what it says (written, it cost a repair two summary writes).
  await deps.persist(now);
  for (const key of deps.ownEvents.settle((key) => (results.get(key) ?? 'done') === 'done')) deps.requeue(key);
  return results;
}

/** Starts/releases the keys' associations, then adds what the planner needs to know of them. */
function withAssociations(associator: AssociationControl | undefined, keys: WorkKey[], snapshot: HostSnapshot, context: PlanContext): PlanContext {
  if (!associator) return context;
  associator.sync(keys, context.desired, snapshot.links);
  const associations = new Map<string, AssociationView>();
  const associated = new Set<string>();
  for (const key of keys) {
    const view = associator.view(key, context.desired);
    if (!view) continue;
    associations.set(key, view);
    if (view.state === 'associated') associated.add(key);
  }
  return { ...context, associations, associated };
}

/** A tap a hypervisor held is about to be created anew: its VM is cut off. */
function noteRecreatedTaps(deps: RoundDeps, actions: readonly LinkAction[], context: PlanContext, before: HostSnapshot): void {
  for (const action of actions) {
    if (action.op !== 'create-tap') continue;
    const spec = context.desired.bindings.get(action.key)?.spec;
    if (spec?.targetDev !== action.name) continue;
    // Still there: replaced on purpose (a tap cannot change its multi_queue flag while it lives).
    const replaced = before.links.links.has(action.name);
    const why = replaced ? `the change of queues needs a new tap (multi_queue cannot change on a live tap)` : TAP_DELETED;
    if (replaced) deps.logger.warn({ port: action.key, tap: action.name, multiQueue: action.multiQueue === true }, 'recreating the tap for the new queue count: this disconnects a VM that holds it');
    if (deps.detached.recreating(action.key, action.name, why)) {
      deps.logger.warn({ port: action.key, tap: action.name }, 'recreating a tap a hypervisor held: the VM\'s NIC is detached until it is re-plugged');
    }
  }
}

/** Whether a round over these keys must read OVSDB: a round of Linux-only
 * bindings never waits for a slow or hung ovsdb-server. */
function needsOvs(keys: readonly WorkKey[], context: PlanContext, lastOvs: HostSnapshot['ovs']): boolean {
  return keys.some((key) => {
    const parsed = parseWorkKey(key);
    if (parsed.kind === 'link') return false;
    if (parsed.kind === 'ovs-bridge') return true;
    const binding = context.desired.bindings.get(key);
    if (binding) return binding.spec.ovsPort !== undefined;
    // Not desired: it may own OVS rows to remove (unknown until OVS was read once).
    if (!lastOvs) return true;
    for (const iface of lastOvs.interfaces.values()) if (iface.externalIds[OVS_PORT_KEY] === key) return true;
    return false;
  });
}
