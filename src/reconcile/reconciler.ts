// The controller: sources and host events only enqueue keys; each round
// (round.ts) re-reads the desired state, takes a fresh snapshot, plans, acts
// in one batch, verifies and records status per binding. This class wires
// the parts and is what the daemon, the API and the sources talk to.
import type { Logger } from 'pino';
import type { Problem } from '../desired/problem.js';
import type { ReadyWhen } from '../desired/schema.js';
import type { DesiredStore } from '../desired/store.js';
import type { Host, HostSnapshot } from '../host/host.js';
import type { AssociationControl } from '../model/association.js';
import type { BindingStatus } from '../model/status.js';
import type { OwnershipConfig } from '../model/ownership.js';
import type { WorkKey } from '../model/work-key.js';
import { DetachedPorts } from '../plan/attachment.js';
import { keysForLinkNames, keysForOvsNames } from '../plan/event-keys.js';
import type { PlanContext } from '../plan/plan.js';
import type { IntentJournal } from '../state/intent-journal.js';
import type { StatusStore } from '../state/status-store.js';
import { Adoption } from './adoption.js';
import { ReadinessClock } from './readiness-clock.js';
import { RemovalHolds } from './removal-holds.js';
import { resyncKeys } from './resync-keys.js';
import { runRound, type RoundDeps } from './round.js';
import { RoundReports, type RoundListener } from './round-report.js';
import { OwnEvents } from './own-events.js';
import { StandingNotes } from './standing-notes.js';
import { StatusBook, type StatusListener } from './status-book.js';
import { WorkQueue } from './work-queue.js';


export interface ReconcilerOptions {
  resyncMs: number;
  maxBatch?: number;
  roundsPerSecond?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  defaultDatapathType?: 'system' | 'netdev';
  /** Readiness gate of OVS bindings that name none (--ready-when). */
  defaultReadyWhen?: ReadyWhen;
  /** The host's snapshots include every link event delivered before they
   * resolve (the event-fed link model): a round's own echoes can be dropped. */
  snapshotsCoverEvents?: boolean | (() => boolean);
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

export type { RoundInfo, RoundListener } from './round-report.js';

export class Reconciler {
  readonly queue: WorkQueue;
  private readonly book: StatusBook;
  private readonly adoption: Adoption;
  private readonly reports: RoundReports;
  private readonly clock = new ReadinessClock();
  /** Ports whose hypervisor lost its tap (vifd had to recreate it). */
  private readonly detached = new DetachedPorts();
  // Until every source has loaded (startResync), a binding not read yet
  // would look undesired: nothing is removed before then.
  private readonly holds = new RemovalHolds(['startup']);
  private readonly notes: StandingNotes;
  private readonly ownEvents: OwnEvents;
  private lastSnapshot: HostSnapshot | undefined;
  /** The last OVS state a round saw (rounds that involve no OVS do not read it). */
  private lastOvs: HostSnapshot['ovs'];
  private resyncTimer: NodeJS.Timeout | undefined;
  private rounds = 0;
  private firstResyncDone = false;
  private readonly roundDeps: RoundDeps;
  private readonly resyncs = { count: 0, cpuSeconds: 0 };
  private readonly summaryProviders: Array<() => Record<string, number>> = [];
  private readonly resyncHooks: Array<() => Promise<void>> = [];

  constructor(private readonly deps: ReconcilerDeps) {
    const { logger, options } = deps;
    this.book = new StatusBook(deps.statusStore, logger);
    this.adoption = new Adoption(deps.journal, deps.ownership, logger);
    this.reports = new RoundReports(logger);
    this.notes = new StandingNotes(logger);
    const covered = options.snapshotsCoverEvents;
    this.ownEvents = new OwnEvents(typeof covered === 'function' ? covered : () => covered === true);
    this.queue = new WorkQueue({
      process: (keys) => this.reports.observe(keys, () => this.round(keys)),
      ...(options.maxBatch ? { maxBatch: options.maxBatch } : {}),
      ...(options.roundsPerSecond ? { roundsPerSecond: options.roundsPerSecond } : {}),
      ...(options.baseDelayMs ? { baseDelayMs: options.baseDelayMs } : {}),
      ...(options.maxDelayMs ? { maxDelayMs: options.maxDelayMs } : {}),
      onError: (error, keys) => logger.error({ err: error, keys: keys.length }, 'reconcile round failed'),
    });
    deps.associator?.onSettled((ports) => this.associationChanged(ports));
    this.roundDeps = this.roundParts();
  }

  /** Loads what a previous run left (statuses, intent journal). Call before
   * sources start, so their first keys see it. */
  async restore(): Promise<void> {
    await this.book.restore();
    for (const status of this.book.list()) this.detached.restore(status.port, status.attached, status.phase === 'Detached' ? status.message : undefined);
    await this.adoption.restore();
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
      this.clock.desiredChanged(port, at);
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
    const { store, ownership, host } = this.deps;
    const now = host.linkNow ? (name: string) => host.linkNow!(name) : undefined;
    this.queue.addAll(this.ownEvents.filter([...keysForLinkNames(names, store.view(), this.lastSnapshot?.links, ownership, this.adoption.names, now)]));
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

  /** The safety net behind events. Sources re-read their origin; the host's
   * links are dumped afresh. With the event-fed link model that dump is
   * compared with the model, and whatever differs comes back as link events;
   * so only what is not settled needs a look here (not Ready, not of the
   * current generation, a stale status file, an association to undo), and a
   * resync costs one dump plus what changed. Without the model (an `ip`
   * dump per round, events from `ip monitor`), and at start, every desired
   * or owned key gets a look. */
  async resync(): Promise<void> {
    const started = performance.now();
    const cpu = process.cpuUsage();
    for (const hook of this.resyncHooks) {
      await hook().catch((error: unknown) => this.deps.logger.error({ err: error }, 'source resync failed'));
    }
    const snapshot = await this.deps.host.snapshot({ fresh: true });
    this.lastSnapshot = snapshot;
    if (snapshot.ovs) this.lastOvs = snapshot.ovs;
    const context = this.context();
    const everything = !this.firstResyncDone || !this.ownEvents.covered;
    const keys = resyncKeys({ everything, snapshot, context, book: this.book, associationPorts: this.deps.associator?.ports() ?? [] });
    void this.deps.associator?.recheck().catch((error: unknown) => this.deps.logger.error({ err: error }, 'association re-check failed'));
    this.queue.addAll(keys);
    this.firstResyncDone = true;
    const cpuMicros = process.cpuUsage(cpu);
    this.resyncs.count++;
    this.resyncs.cpuSeconds += (cpuMicros.user + cpuMicros.system) / 1e6;
    await this.writeSummary(new Date().toISOString()).catch(() => undefined); // its counters
    this.deps.logger.info({ keys: keys.size, everything, cpuMs: Math.round((cpuMicros.user + cpuMicros.system) / 100) / 10, ms: Math.round(performance.now() - started) }, 'resync: host dumped, keys queued');
  }

  /** Subscribes to status changes. Returns the unsubscribe function. */
  onStatus(listener: StatusListener): () => void {
    return this.book.onStatus(listener);
  }

  /** Subscribes to round reports. Returns the unsubscribe function. */
  onRound(listener: RoundListener): () => void {
    return this.reports.onRound(listener);
  }

  /** Adds counters to summary() (e.g. a source's staleness). */
  addSummary(provider: () => Record<string, number>): void {
    this.summaryProviders.push(provider);
  }

  /** While held, keys that nothing desires are not planned (nothing is
   * unplugged); they are looked at again once every hold is released. */
  holdRemovals(reason: string): void {
    this.holds.hold(reason);
  }

  releaseRemovals(reason: string): void {
    this.queue.addAll(this.holds.release(reason));
  }

  get ready(): boolean {
    return this.firstResyncDone;
  }

  /** Desired documents whose latest version has problems, by source (a
   * file that names no readable port shows up here, by its name). */
  invalidDocuments(): InvalidDocument[] {
    return [...this.deps.store.view().invalidSources].map(([source, problems]) => ({ source, problems }));
  }

  /** The statuses a round staged, then the summary (see RoundDeps.persist). */
  private async persist(at: string): Promise<void> {
    const started = Date.now();
    const [{ written, removed }] = await Promise.all([this.book.flush(), this.writeSummary(at)]);
    if (written + removed > 0) this.deps.logger.debug({ written, removed, ms: Date.now() - started }, 'statuses recorded');
  }

  /** No key queued or running; a round ends once its statuses are written. */
  whenIdle(): Promise<void> {
    return this.queue.whenIdle();
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
      adoptable: this.adoption.names.size, heldKeys: this.holds.size, detached: this.detached.size, roundNoteActed: this.reports.note.acted.length, roundListeners: this.reports.listenerCount, desiredAt: this.clock.size, ownEventsDropped: this.ownEvents.droppedCount,
    };
  }

  summary(): Record<string, number> {
    const counts: Record<string, number> = { ...this.book.counts(), rounds: this.rounds, queued: this.queue.depth, resyncs: this.resyncs.count, resyncCpuSeconds: this.resyncs.cpuSeconds };
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
    return { desired: this.deps.store.view(), ownership: this.deps.ownership, adoptable: this.adoption.names, ...(dp ? { defaultDatapathType: dp } : {}), ...(gate ? { defaultReadyWhen: gate } : {}) };
  }

  private round(keys: WorkKey[]): ReturnType<typeof runRound> {
    this.rounds++;
    return runRound(this.roundDeps, keys);
  }

  private roundParts(): RoundDeps {
    return {
      host: this.deps.host,
      logger: this.deps.logger,
      associator: this.deps.associator,
      adoption: this.adoption,
      book: this.book,
      detached: this.detached,
      notes: this.notes,
      clock: this.clock,
      reports: this.reports,
      holds: this.holds,
      ownEvents: this.ownEvents,
      context: () => this.context(),
      lastOvs: () => this.lastOvs,
      observed: (after) => {
        this.lastSnapshot = after;
        if (after.ovs) this.lastOvs = after.ovs;
      },
      requeue: (key) => this.queue.add(key),
      failuresInARow: (key) => this.queue.attempts(key),
      persist: (at) => this.persist(at),
    };
  }
}
