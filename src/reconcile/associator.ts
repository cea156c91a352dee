// Port-profile associations (802.1Qbg VDP, 802.1Qbh), run OUTSIDE the
// batched reconcile rounds: one takes up to ~15 s (the switch's answer), so a
// round only starts or releases them (sync) and reads their state (view).
// When one finishes, the port is handed back to the reconciler (onSettled),
// whose next round brings the macvtap up (or keeps it down).
//
// The parts (association/): each port's entry and its transitions
// (entry.ts), the retry schedule (retry.ts), the worker that runs the driver
// and the re-checks (worker.ts), the state file (persist.ts). This module
// decides what to start when, and shares lldpad's gate among 802.1Qbg ports.
// Associations made (or being made) are persisted in
// <state-dir>/associations.json, so a restart disassociates ports no longer
// desired and re-checks (queries) the others instead of trusting them.
import { AgentGate } from './agent-gate.js';
import { errorCode } from '../errors/vifd-error.js';
import type { Logger } from 'pino';
import type { DesiredView } from '../desired/store.js';
import type { LinkSnapshot } from '../observed/links.js';
import {
  associatingMessage, associationRequest, associationSignature, kindLabel,
  type AssociationControl, type AssociationRequest, type AssociationView,
} from '../model/association.js';
import type { AssociationStore } from '../state/association-store.js';
import type { AssociationDriver } from '../host/portprofile/driver.js';
import { associatingEntry, lldpadWaitEntry, markAssociated, markFailed, recordsOf, restoredEntry, retryAt, viewOf, type Entry } from './association/entry.js';
import { AssociationWriter } from './association/persist.js';
import { retryDelay } from './association/retry.js';
import { AssociationWorker } from './association/worker.js';

export interface AssociatorOptions {
  driver: AssociationDriver;
  store: Pick<AssociationStore, 'read' | 'write'>;
  logger: Logger;
  /** Associations in flight at once (default 16). */
  concurrency?: number;
  /** Backoff after a failure: base * 2^(failures-1), capped (defaults 1 s, 60 s). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  now?: () => number;
}

export class Associator implements AssociationControl {
  private readonly entries = new Map<string, Entry>();
  private readonly worker: AssociationWorker;
  private readonly writer: AssociationWriter;
  /** 802.1Qbg goes through lldpad: one probe at a time while it is not running. */
  private readonly lldpad: AgentGate;
  private readonly listeners: Array<(ports: string[]) => void> = [];
  private stopped = false;
  private readonly now: () => number;

  constructor(private readonly o: AssociatorOptions) {
    this.now = o.now ?? Date.now;
    this.writer = new AssociationWriter(o.store, o.logger, () => recordsOf(this.entries.values()));
    this.worker = new AssociationWorker({ driver: o.driver, logger: o.logger, now: this.now, concurrency: o.concurrency ?? 16 }, {
      current: (e) => this.entries.get(e.port) === e,
      persist: () => this.writer.persist(),
      associated: (e) => {
        markAssociated(e, this.now());
        if (e.request.kind === '802.1qbg') this.lldpad.up(e.port);
      },
      failed: (e, step, error) => this.failed(e, step, error),
      disassociated: (e) => this.entries.delete(e.port),
      settle: (port) => this.settle(port),
    });
    this.lldpad = new AgentGate({
      now: this.now,
      baseDelayMs: o.baseDelayMs ?? 1000,
      maxDelayMs: o.maxDelayMs ?? 60_000,
      onOpen: (ports) => ports.forEach((port) => this.settle(port)),
    });
  }

  onSettled(listener: (ports: string[]) => void): void {
    this.listeners.push(listener);
  }

  /** Loads the previous run's associations and starts re-checking them.
   * Until a query answers they count as held: a restart over a converged
   * host must not take the macvtaps down. */
  async restore(): Promise<void> {
    const { records, corrupt } = await this.o.store.read();
    if (corrupt) this.o.logger.warn('corrupt associations.json: unreadable entries ignored');
    for (const r of records) this.entries.set(r.port, restoredEntry(r));
    if (records.length > 0) this.o.logger.info({ associations: records.length }, 'port-profile associations restored; re-checking');
    void this.recheck();
  }

  ports(): string[] {
    return [...this.entries.keys()];
  }

  sync(keys: readonly string[], desired: DesiredView, links: LinkSnapshot): void {
    if (this.stopped) return;
    for (const port of keys) {
      const binding = desired.bindings.get(port);
      if (!binding) {
        this.release(port, 'no longer desired');
        continue;
      }
      if (binding.conflict) continue;
      const a = binding.spec.association;
      if (!a) {
        this.release(port, 'no longer a port-profile binding');
        continue;
      }
      // No uplink, no association (the planner reports the missing uplink).
      if (!links.links.has(a.uplink)) continue;
      this.ensure(port, associationRequest(port, a));
    }
  }

  view(port: string, desired: DesiredView): AssociationView | undefined {
    const e = this.entries.get(port);
    const a = desired.bindings.get(port)?.spec.association;
    if (a) {
      const request = associationRequest(port, a);
      if (!e || e.sig !== associationSignature(request)) {
        return { kind: a.kind, state: 'pending', message: associatingMessage(a.kind, a.uplink), attempts: 0 };
      }
    }
    return e ? viewOf(e) : undefined;
  }

  async recheck(): Promise<void> {
    const checks: Array<Promise<void>> = [];
    for (const e of this.entries.values()) {
      if (e.busy || e.state !== 'associated' || this.stopped) continue;
      e.busy = true;
      checks.push(this.worker.run(e, () => this.worker.check(e)));
    }
    await Promise.all(checks);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.lldpad.stop();
    for (const e of this.entries.values()) if (e.timer) clearTimeout(e.timer);
    await this.worker.stop();
    await this.writer.idle();
  }

  /** Test hook: every operation and write started so far has finished. */
  async idle(): Promise<void> {
    await this.worker.idle();
    await this.writer.idle();
  }

  private ensure(port: string, request: AssociationRequest): void {
    const sig = associationSignature(request);
    const e = this.entries.get(port);
    if (e?.busy) return; // settles, then the next round looks again
    if (e && e.sig === sig) {
      if (e.state === 'associated') return;
      if (e.state === 'failed' && this.now() < e.retryAt) return;
    }
    if (request.kind === '802.1qbg' && !this.lldpad.admit(port)) {
      // lldpad is not running: wait for the one probe instead of each binding spawning its own attempts.
      if (e?.timer) clearTimeout(e.timer);
      this.entries.set(port, lldpadWaitEntry(port, request, sig, e, this.lldpad, this.now()));
      return;
    }
    const previous = e && e.sig !== sig && e.mayHold ? e.request : undefined;
    if (e?.timer) clearTimeout(e.timer);
    const entry = associatingEntry(port, request, sig, e, this.now());
    this.entries.set(port, entry);
    void this.worker.run(entry, () => this.worker.associate(entry, previous));
  }

  private release(port: string, why: string): void {
    this.lldpad.forget(port);
    const e = this.entries.get(port);
    if (!e || e.busy) return;
    if (e.timer) clearTimeout(e.timer);
    if (!e.mayHold) {
      this.entries.delete(port);
      this.writer.persist();
      this.settle(port);
      return;
    }
    e.state = 'disassociating';
    e.busy = true;
    e.message = `disassociating ${kindLabel(e.request.kind)} on ${e.request.uplink} (${why})`;
    void this.worker.run(e, () => this.worker.disassociate(e));
  }

  private failed(e: Entry, step: string, error: unknown): void {
    const code = errorCode(error) ?? 'ASSOCIATION_FAILED';
    e.attempts++;
    const delay = retryDelay(code, e.attempts, this.o);
    markFailed(e, step, error, code, delay, this.now());
    this.o.logger.warn({ port: e.port, code, attempts: e.attempts, retryInMs: delay }, e.message);
    if (e.request.kind === '802.1qbg' && code === 'LLDPAD_NOT_RUNNING') {
      this.lldpad.down(e.port); // the gate's wait, shared by every 802.1Qbg binding, brings it back
      retryAt(e, this.lldpad.retryAt, this.now());
      return;
    }
    if (e.request.kind === '802.1qbg') this.lldpad.up(e.port);
    this.schedule(e, delay);
  }

  /** Settles the port when its retry is due. */
  private schedule(e: Entry, delay: number): void {
    if (this.stopped) return;
    e.timer = setTimeout(() => {
      e.timer = undefined;
      if (this.entries.get(e.port) === e) this.settle(e.port);
    }, delay);
    e.timer.unref();
  }

  private settle(port: string): void {
    if (this.stopped) return;
    for (const listener of this.listeners) {
      try {
        listener([port]);
      } catch (error) {
        this.o.logger.error({ err: error, port }, 'association listener failed');
      }
    }
  }
}
