// The controller: sources and host events only enqueue keys; each round
// re-reads the desired state, takes a fresh snapshot, plans, acts in one
// batch, verifies with another snapshot and records status per binding.
import type { Logger } from 'pino';
import type { Problem } from '../desired/problem.js';
import type { ReadyWhen } from '../desired/schema.js';
import type { DesiredStore } from '../desired/store.js';
import type { Host, HostSnapshot } from '../host/host.js';
import type { StatusStore } from '../state/status-store.js';
import type { IntentJournal } from '../state/intent-journal.js';
import { type LinkAction } from '../model/actions.js';
import { linkNameOfKey, type WorkKey } from '../model/work-key.js';
import { attachmentOf, DetachedPorts } from '../plan/attachment.js';
import { keysForLinkNames, keysForOvsNames } from '../plan/event-keys.js';
import type { OwnershipConfig } from '../model/ownership.js';
import { allKeys, createdNames, planRound, type PlanContext } from '../plan/plan.js';
import { phaseOf } from '../plan/phase.js';
import type { KeyOutcome } from '../plan/plan-links.js';
import { isGateWait, nextReadinessTimes, type ReadinessTimes } from '../plan/readiness-gate.js';
import { applyPlan, planHasWork } from './apply-plan.js';
import { ovsBridgeOfKey } from '../model/work-key.js';
import { OVS_PORT_KEY } from '../model/ownership.js';
import type { BindingStatus } from '../model/status.js';
import { StatusBook, type StatusListener } from './status-book.js';
import { WorkQueue, type RoundResult } from './work-queue.js';
import type { AssociationControl, AssociationView } from '../model/association.js';

export interface ReconcilerOptions {
  resyncMs: number;
  maxBatch?: number;
  roundsPerSecond?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  defaultDatapathType?: 'system' | 'netdev';
  /** Readiness gate of OVS bindings that name none (--ready-when). */
  defaultReadyWhen?: ReadyWhen;
}

export interface ReconcilerDeps {
  host: Host;
  store: DesiredStore;
  statusStore: StatusStore;
  journal: IntentJournal;
  ownership: OwnershipConfig;
  logger: Logger;
  options: ReconcilerOptions;
  /** Port-profile associations (macvtap bindings), run outside the rounds. */
  associator?: AssociationControl;
}

export type { StatusListener } from './status-book.js';

export interface InvalidDocument {
  source: string;
  problems: Problem[];
}

/** What one reconcile round did (for metrics). */
export interface RoundInfo {
  startedAt: number;
  durationMs: number;
  keys: number;
  /** Ports whose host state differed from desired at the round's start. */
  acted: string[];
  /** Errors the round's actions met (each with a `code`). */
  errors: Error[];
  /** The round itself threw (it is retried). */
  failed: boolean;
  /** Seconds from a desired change to the binding plugged / Ready (readiness gate held), for bindings that got there in this round. */
  pluggedSeconds?: number[];
  readySeconds?: number[];
}
export type RoundListener = (info: RoundInfo) => void;

export class Reconciler {
  readonly queue: WorkQueue;
  private readonly book: StatusBook;
  private adoptable = new Set<string>();
  private lastSnapshot: HostSnapshot | undefined;
  /** The last OVS state a round saw (rounds that involve no OVS do not read it). */
  private lastOvs: HostSnapshot['ovs'];
  private resyncTimer: NodeJS.Timeout | undefined;
  private rounds = 0;
  private firstResyncDone = false;
  private readonly roundListeners = new Set<RoundListener>();
  private roundNote: { acted: string[]; errors: Error[]; pluggedSeconds: number[]; readySeconds: number[] } = { acted: [], errors: [], pluggedSeconds: [], readySeconds: [] };
  /** When each port's desired state last changed (ms), for the plugged/ready latencies. */
  private readonly desiredAt = new Map<string, number>();
  private readonly summaryProviders: Array<() => Record<string, number>> = [];
  private readonly resyncHooks: Array<() => Promise<void>> = [];
  /** Ports whose hypervisor lost its tap (vifd had to recreate it). */
  private readonly detached = new DetachedPorts();
  /** Reasons removals are held (a source has not loaded yet): undesired keys wait. */
  private readonly removalHolds = new Set<string>();
  private readonly heldKeys = new Set<WorkKey>();
  private readonly notes = new Map<WorkKey, string>();

  constructor(private readonly deps: ReconcilerDeps) {
    // Until every source has loaded (startResync), a binding not read yet
    // would look undesired: nothing is removed before then.
    this.removalHolds.add('startup');
    this.book = new StatusBook(deps.statusStore, deps.logger);
    this.queue = new WorkQueue({
      process: (keys) => this.observedRound(keys),
      ...(deps.options.maxBatch ? { maxBatch: deps.options.maxBatch } : {}),
      ...(deps.options.roundsPerSecond ? { roundsPerSecond: deps.options.roundsPerSecond } : {}),
      ...(deps.options.baseDelayMs ? { baseDelayMs: deps.options.baseDelayMs } : {}),
      ...(deps.options.maxDelayMs ? { maxDelayMs: deps.options.maxDelayMs } : {}),
      onError: (error, keys) => deps.logger.error({ err: error, keys: keys.length }, 'reconcile round failed'),
    });
    deps.associator?.onSettled((ports) => this.associationChanged(ports));
  }

  /** Loads what a previous run left (statuses, intent journal). Call before
   * sources start, so their first keys see it. */
  async restore(): Promise<void> {
    await this.book.restore();
    for (const status of this.book.list()) this.detached.restore(status.port, status.attached, status.phase === 'Detached' ? status.message : undefined);
    const journal = await this.deps.journal.pending();
    if (journal.corrupt) this.deps.logger.warn('corrupt intent journal ignored');
    this.adoptable = journal.names;
    if (journal.names.size > 0) this.deps.logger.info({ names: [...journal.names] }, 'resuming after an interrupted run');
  }

  /** Starts reconciling everything, then every resyncMs. Call once every
   * source has loaded its initial state: before that, a binding not yet read
   * would look undesired and be unplugged. */
  async startResync(): Promise<void> {
    this.releaseRemovals('startup');
    await this.resync();
    await this.writeSummary(new Date().toISOString());
    this.scheduleResync();
  }

  async stop(): Promise<void> {
    if (this.resyncTimer) clearTimeout(this.resyncTimer);
    await this.queue.stop();
    await this.deps.associator?.stop();
  }

  /** A port-profile association finished, failed, is due for a retry or was
   * found lost: reconcile the port now (its macvtap goes up or down). */
  associationChanged(ports: Iterable<string>): void {
    this.queue.addAll(ports, { resetBackoff: true });
  }

  /** The desired state of these ports changed: reconcile them now. */
  desiredChanged(ports: Iterable<string>): void {
    let any = false;
    const at = Date.now();
    for (const port of ports) {
      this.desiredAt.set(port, at);
      this.book.resetAttempts(port);
      any = true;
    }
    // A document that names no port (not JSON, say) changes no binding, but
    // the summary's list of invalid documents.
    if (!any) void this.writeSummary(new Date().toISOString()).catch(() => undefined);
    this.queue.addAll(ports, { resetBackoff: true });
  }

  /** The kernel reported a change to these links. */
  linksChanged(names: Iterable<string>): void {
    const { store, ownership } = this.deps;
    this.queue.addAll(keysForLinkNames(names, store.view(), this.lastSnapshot?.links, ownership, this.adoptable));
  }

  /** OVSDB reported a change to these bridges, ports or interfaces. */
  ovsChanged(names: Iterable<string>): void {
    this.queue.addAll(keysForOvsNames(names, this.deps.store.view(), this.lastOvs));
  }

  /** OVSDB (re)connected or was lost: every binding that involves OVS. */
  ovsResync(): void {
    const view = this.deps.store.view();
    for (const [port, binding] of view.bindings) if (binding.spec.ovsPort) this.queue.add(port, { resetBackoff: true });
    void this.resync().catch((error: unknown) => this.deps.logger.error({ err: error }, 'resync failed'));
  }

  /** Runs before each resync (a source re-reads its origin: events may have been lost). */
  beforeResync(hook: () => Promise<void>): void {
    this.resyncHooks.push(hook);
  }

  /** Everything desired or owned gets a look: the safety net behind events. */
  async resync(): Promise<void> {
    for (const hook of this.resyncHooks) {
      await hook().catch((error: unknown) => this.deps.logger.error({ err: error }, 'source resync failed'));
    }
    const snapshot = await this.deps.host.snapshot();
    this.lastSnapshot = snapshot;
    if (snapshot.ovs) this.lastOvs = snapshot.ovs;
    const keys = allKeys(snapshot, this.context());
    for (const port of this.book.ports()) keys.add(port); // stale status files get settled too
    for (const port of this.deps.associator?.ports() ?? []) keys.add(port); // associations left to undo
    void this.deps.associator?.recheck().catch((error: unknown) => this.deps.logger.error({ err: error }, 'association re-check failed'));
    this.queue.addAll(keys);
    this.firstResyncDone = true;
  }

  /** Subscribes to status changes. Returns the unsubscribe function. */
  onStatus(listener: StatusListener): () => void {
    return this.book.onStatus(listener);
  }

  /** Subscribes to round reports. Returns the unsubscribe function. */
  onRound(listener: RoundListener): () => void {
    this.roundListeners.add(listener);
    return () => this.roundListeners.delete(listener);
  }

  /** Adds counters to summary() (e.g. a source's staleness). */
  addSummary(provider: () => Record<string, number>): void {
    this.summaryProviders.push(provider);
  }

  /** While held, keys that nothing desires are not planned (nothing is
   * unplugged); they are looked at again once every hold is released. */
  holdRemovals(reason: string): void {
    this.removalHolds.add(reason);
  }

  releaseRemovals(reason: string): void {
    if (!this.removalHolds.delete(reason) || this.removalHolds.size > 0) return;
    const keys = [...this.heldKeys];
    this.heldKeys.clear();
    this.queue.addAll(keys);
  }

  get ready(): boolean {
    return this.firstResyncDone;
  }

  /** Desired documents whose latest version has problems, by source (a
   * file that names no readable port shows up here, by its name). */
  invalidDocuments(): InvalidDocument[] {
    return [...this.deps.store.view().invalidSources].map(([source, problems]) => ({ source, problems }));
  }

  /** <state-dir>/summary.json: counts, invalid documents, time. */
  async writeSummary(at: string): Promise<void> {
    await this.deps.statusStore.writeSummary({ ...this.summary(), invalidDocuments: this.invalidDocuments(), at });
  }

  statusList(): BindingStatus[] {
    return this.book.list();
  }

  /** Entries held by the controller's long-lived collections (tests, soak). */
  internalSizes(): Record<string, number> {
    const prefixed = (prefix: string, sizes: Record<string, number>) => Object.fromEntries(Object.entries(sizes).map(([k, v]) => [prefix + k, v]));
    return {
      ...prefixed('book.', this.book.sizes()),
      ...prefixed('queue.', this.queue.sizes()),
      adoptable: this.adoptable.size, heldKeys: this.heldKeys.size, detached: this.detached.size, roundNoteActed: this.roundNote.acted.length, roundListeners: this.roundListeners.size,
    };
  }

  summary(): Record<string, number> {
    const counts: Record<string, number> = { ...this.book.counts(), rounds: this.rounds, queued: this.queue.depth };
    for (const provider of this.summaryProviders) Object.assign(counts, provider());
    return counts;
  }

  private scheduleResync(): void {
    this.resyncTimer = setTimeout(() => {
      this.resync()
        .catch((error: unknown) => this.deps.logger.error({ err: error }, 'resync failed'))
        .finally(() => this.scheduleResync());
    }, this.deps.options.resyncMs);
    this.resyncTimer.unref();
  }

  private context(): PlanContext {
    const dp = this.deps.options.defaultDatapathType;
    const gate = this.deps.options.defaultReadyWhen;
    return { desired: this.deps.store.view(), ownership: this.deps.ownership, adoptable: this.adoptable, ...(dp ? { defaultDatapathType: dp } : {}), ...(gate ? { defaultReadyWhen: gate } : {}) };
  }

  private async observedRound(keys: WorkKey[]): Promise<RoundResult> {
    // Each round's note is its own (without listeners too: it must not grow).
    this.roundNote = { acted: [], errors: [], pluggedSeconds: [], readySeconds: [] };
    if (this.roundListeners.size === 0) return this.round(keys);
    const startedAt = Date.now();
    let failed = true;
    try {
      const result = await this.round(keys);
      failed = false;
      return result;
    } finally {
      const info: RoundInfo = { startedAt, durationMs: Date.now() - startedAt, keys: keys.length, ...this.roundNote, failed };
      for (const listener of this.roundListeners) {
        try {
          listener(info);
        } catch (error) {
          this.deps.logger.error({ err: error }, 'round listener failed');
        }
      }
    }
  }

  private async round(queued: WorkKey[]): Promise<RoundResult> {
    this.rounds++;
    const context = this.context();
    const keys = this.removalHolds.size === 0 ? queued : queued.filter((key) => this.keepWhileHeld(key, context));
    if (keys.length === 0) return new Map();
    const { host, journal, logger } = this.deps;
    const snapshotOptions = { ovs: this.needsOvs(keys, context) };
    const before = await host.snapshot(snapshotOptions);
    const planContext = this.withAssociations(keys, before, context);
    const plan = planRound(keys, before, planContext);
    let after = before;
    let verify = plan;
    let failures = new Map<WorkKey, Error[]>();
    if (planHasWork(plan)) {
      this.noteRecreatedTaps(plan.linkActions, context, before);
      const creating = createdNames(plan.linkActions);
      if (creating.length > 0) {
        for (const name of creating) this.adoptable.add(name);
        // A full or read-only state disk must not stop a repair: without the
        // journal, only a crash in the next few ms could leave an unmarked
        // device (then reported as a Conflict, never taken over).
        await journal.record([...this.adoptable]).catch((error: unknown) => logger.error({ err: error, names: creating }, 'intent journal not written; creating anyway'));
      }
      const started = Date.now();
      const result = await applyPlan(host, plan, before);
      if (result.notCreated.length > 0) {
        // Whatever holds a name vifd failed to create is not vifd's: out of the journal at once.
        for (const name of result.notCreated) this.adoptable.delete(name);
        await journal.record([...this.adoptable]);
      }
      failures = result.failures;
      this.roundNote.errors = [...failures.values()].flat();
      after = await host.snapshot(snapshotOptions);
      verify = planRound(keys, after, planContext);
      logger.debug({ keys: keys.length, lines: result.linesRun, ovsTransactions: result.ovsTransactions, failed: failures.size, ms: Date.now() - started }, 'round applied');
      await this.settleJournal(after);
    }
    this.lastSnapshot = after;
    if (after.ovs) this.lastOvs = after.ovs;
    // Follow-ups were planned inline; queue those the round did not settle.
    for (const key of plan.followUps) if (verify.outcomes.get(key)?.state === 'changing') this.queue.add(key);

    const results: RoundResult = new Map();
    const now = new Date().toISOString();
    for (const key of keys) {
      const outcome = verify.outcomes.get(key) ?? { state: 'converged' as const };
      const keyFailures = failures.get(key) ?? [];
      const planned = plan.outcomes.get(key)?.state ?? 'converged';
      const acted = planned !== 'converged' && planned !== 'waiting';
      if (linkNameOfKey(key) !== undefined || ovsBridgeOfKey(key) !== undefined) {
        if (outcome.state === 'changing') results.set(key, 'retry');
        if (outcome.state === 'blocked') logger.warn({ key }, outcome.message ?? 'blocked');
        else if (outcome.state === 'converged' && outcome.message) this.noteOnce(key, outcome.message);
        else this.notes.delete(key);
        continue;
      }
      if (acted) this.roundNote.acted.push(key);
      if (acted || outcome.state === 'changing' || outcome.state === 'blocked') this.book.countAttempt(key);
      const desired = context.desired.bindings.get(key);
      const decided = phaseOf({ desired: desired !== undefined, outcome, failures: keyFailures });
      results.set(key, decided.retry);
      const spec = desired?.spec;
      if (decided.phase === 'Gone') this.detached.forget(key);
      else this.detached.observed(key, attachmentOf(spec, after.links));
      const detached = decided.phase === 'Ready' ? this.detached.message(key) : undefined;
      const [phase, message] = detached ? (['Detached', detached] as const) : [decided.phase, decided.message];
      const times = desired ? this.readinessTimes(key, desired.generation, outcome, phase === 'Ready', now) : {};
      if (!desired) this.desiredAt.delete(key);
      this.book.record(key, phase, message, now, context, after, this.deps.associator?.view(key, context.desired), times);
    }
    const { written, removed } = await this.book.flush();
    if (written + removed > 0) logger.debug({ written, removed, ms: Date.now() - Date.parse(now) }, 'statuses recorded');
    await this.writeSummary(now);
    return results;
  }

  /** Starts/releases the keys' associations, then adds what the planner needs to know of them. */
  private withAssociations(keys: WorkKey[], snapshot: HostSnapshot, context: PlanContext): PlanContext {
    const associator = this.deps.associator;
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
  private noteRecreatedTaps(actions: readonly LinkAction[], context: PlanContext, before: HostSnapshot): void {
    for (const action of actions) {
      if (action.op !== 'create-tap') continue;
      const spec = context.desired.bindings.get(action.key)?.spec;
      if (spec?.targetDev !== action.name) continue;
      // Still there: replaced on purpose (a tap cannot change its multi_queue flag while it lives).
      const replaced = before.links.links.has(action.name);
      const why = replaced
        ? `the change of queues needs a new tap (multi_queue cannot change on a live tap)`
        : `the tap a hypervisor held was deleted behind vifd's back`;
      if (replaced) this.deps.logger.warn({ port: action.key, tap: action.name, multiQueue: action.multiQueue === true }, 'recreating the tap for the new queue count: this disconnects a VM that holds it');
      if (this.detached.recreating(action.key, action.name, why)) {
        this.deps.logger.warn({ port: action.key, tap: action.name }, 'recreating a tap a hypervisor held: the VM\'s NIC is detached until it is re-plugged');
      }
    }
  }

  /** Whether a round over these keys must read OVSDB: a round of Linux-only
   * bindings never waits for a slow or hung ovsdb-server. */
  private needsOvs(keys: readonly WorkKey[], context: PlanContext): boolean {
    const ovs = this.lastOvs;
    return keys.some((key) => {
      if (linkNameOfKey(key) !== undefined) return false;
      if (ovsBridgeOfKey(key) !== undefined) return true;
      const binding = context.desired.bindings.get(key);
      if (binding) return binding.spec.ovsPort !== undefined;
      // Not desired: it may own OVS rows to remove (unknown until OVS was read once).
      if (!ovs) return true;
      for (const iface of ovs.interfaces.values()) if (iface.externalIds[OVS_PORT_KEY] === key) return true;
      return false;
    });
  }

  /** pluggedAt/readyAt for the status; notes the latencies of those that start now. */
  private readinessTimes(port: string, generation: number, outcome: KeyOutcome, ready: boolean, now: string): ReadinessTimes {
    const previous = this.book.get(port);
    const plugged = outcome.state === 'converged' || isGateWait(outcome);
    const times = nextReadinessTimes(previous, generation, plugged, ready, now);
    const since = this.desiredAt.get(port);
    if (since !== undefined) {
      const fresh = previous?.observedGeneration !== generation;
      const seconds = Math.max(0, Date.parse(now) - since) / 1000;
      if (times.pluggedAt === now && (fresh || previous?.pluggedAt === undefined)) this.roundNote.pluggedSeconds.push(seconds);
      if (times.readyAt === now && (fresh || previous?.readyAt === undefined)) {
        this.roundNote.readySeconds.push(seconds);
        this.desiredAt.delete(port); // counted once per desired change
      }
    }
    return times;
  }

  /** Logs a key's standing note (e.g. a claimed bridge kept) once, not every resync. */
  private noteOnce(key: WorkKey, message: string): void {
    if (this.notes.get(key) === message) return;
    this.notes.set(key, message);
    if (this.notes.size > 10_000) this.notes.clear();
    this.deps.logger.info({ key }, message);
  }

  private keepWhileHeld(key: WorkKey, context: PlanContext): boolean {
    if (context.desired.bindings.has(key) || context.desired.invalidOnly.has(key)) return true;
    this.heldKeys.add(key);
    return false;
  }

  /** Journal names that are now marked (or gone) need no adoption any more. */
  private async settleJournal(after: HostSnapshot): Promise<void> {
    let changed = false;
    for (const name of [...this.adoptable]) {
      const link = after.links.links.get(name);
      if (!link || (link.group === this.deps.ownership.group && link.alias !== undefined)) {
        this.adoptable.delete(name);
        changed = true;
      }
    }
    if (!changed) return;
    const write = this.adoptable.size === 0 ? this.deps.journal.clear() : this.deps.journal.record([...this.adoptable]);
    await write.catch((error: unknown) => this.deps.logger.warn({ err: error }, 'intent journal not updated (state directory failing)'));
  }
}
