// The reconciler's record of every binding's status: kept in memory, staged
// per round, announced to listeners (API watch, etcd, metrics) at the end of
// the round, and written to the state directory before the next round (one
// syncfs a round), only when something changed.
import type { Logger } from 'pino';
import type { HostSnapshot } from '../host/host.js';
import type { StatusStore } from '../state/status-store.js';
import type { AssociationView } from '../model/association.js';
import type { PlanContext } from '../plan/plan.js';
import type { ReadinessTimes } from '../plan/readiness-gate.js';
import { buildStatus, sameStatus } from '../plan/status.js';
import type { BindingStatus, Phase } from '../model/status.js';

/** A binding's status changed; `undefined` once it is unplugged and forgotten. */
export type StatusListener = (port: string, status: BindingStatus | undefined) => void;

export class StatusBook {
  private readonly statuses = new Map<string, BindingStatus>();
  /** Statuses by phase, kept with `statuses` (the summary asks every round). */
  private readonly phases = new Map<string, number>();
  private readonly attempts = new Map<string, number>();
  private readonly listeners = new Set<StatusListener>();
  private writes: BindingStatus[] = [];
  private removals: string[] = [];

  constructor(
    private readonly store: StatusStore,
    private readonly logger: Logger,
  ) {}

  /** Loads the previous run's statuses; corrupt files are reported and removed. */
  async restore(): Promise<void> {
    const { statuses, corrupt } = await this.store.readAll();
    for (const status of statuses) this.put(status.port, status);
    for (const name of corrupt) {
      this.logger.warn({ file: name }, 'corrupt status file: rebuilt from host and desired state');
      await this.store.discard(name);
    }
  }

  onStatus(listener: StatusListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  list(): BindingStatus[] {
    return [...this.statuses.values()];
  }

  ports(): IterableIterator<string> {
    return this.statuses.keys();
  }

  private put(port: string, status: BindingStatus | undefined): void {
    const old = this.statuses.get(port);
    if (old) this.phases.set(old.phase, (this.phases.get(old.phase) ?? 1) - 1);
    if (status) {
      this.statuses.set(port, status);
      this.phases.set(status.phase, (this.phases.get(status.phase) ?? 0) + 1);
    } else this.statuses.delete(port);
  }

  counts(): Record<string, number> {
    const counts: Record<string, number> = { total: this.statuses.size };
    for (const [phase, n] of this.phases) if (n > 0) counts[phase] = n;
    return counts;
  }

  get(port: string): BindingStatus | undefined {
    return this.statuses.get(port);
  }

  /** Entries held per collection (for tests and the soak: each is bounded
   * by the bindings that exist, never by the changes ever made). */
  sizes(): { statuses: number; attempts: number; staged: number; listeners: number } {
    return { statuses: this.statuses.size, attempts: this.attempts.size, staged: this.writes.length + this.removals.length, listeners: this.listeners.size };
  }

  countAttempt(port: string): void {
    this.attempts.set(port, (this.attempts.get(port) ?? 0) + 1);
  }

  resetAttempts(port: string): void {
    this.attempts.delete(port);
  }

  /** Stages the port's new status (or its removal: 'Gone'), if it changed. */
  record(port: string, phase: Phase | 'Gone', message: string, now: string, context: PlanContext, snapshot: HostSnapshot, association: AssociationView | undefined, times: ReadinessTimes = {}): void {
    const previous = this.statuses.get(port);
    if (phase === 'Gone' && !context.desired.invalidOnly.has(port)) {
      // Forget its attempts even without a status (e.g. a device it left that
      // vifd removed): nothing may stay behind for a port that is gone.
      this.attempts.delete(port);
      if (!previous) return;
      this.put(port, undefined);
      this.logger.info({ port }, 'unplugged');
      this.removals.push(port);
      return;
    }
    const status = buildStatus({
      port,
      phase: phase === 'Gone' ? 'Invalid' : phase,
      message,
      attempts: this.attempts.get(port) ?? 0,
      now,
      previous,
      desired: context.desired,
      links: snapshot.links,
      association,
      times,
    });
    if (sameStatus(previous, status)) return;
    this.put(port, status);
    if (previous?.phase !== status.phase) {
      const level = status.phase === 'Failed' || status.phase === 'Conflict' || status.phase === 'Invalid' || status.phase === 'Detached' ? 'warn' : 'info';
      this.logger[level]({ port, phase: status.phase, from: previous?.phase, attempts: status.attempts }, status.message || status.phase);
    }
    this.writes.push(status);
  }

  /** Hands what was staged to the store, tells listeners, and resolves
   * once the store has written it (one syncfs). */
  async flush(): Promise<{ written: number; removed: number }> {
    const writes = this.writes;
    const removals = this.removals;
    this.writes = [];
    this.removals = [];
    const stored = Promise.all([this.store.writeMany(writes), ...removals.map((port) => this.store.remove(port))]);
    for (const status of writes) this.emit(status.port, status);
    for (const port of removals) this.emit(port, undefined);
    await stored;
    return { written: writes.length, removed: removals.length };
  }

  private emit(port: string, status: BindingStatus | undefined): void {
    for (const listener of this.listeners) {
      try {
        listener(port, status);
      } catch (error) {
        this.logger.error({ err: error, port }, 'status listener failed');
      }
    }
  }
}
