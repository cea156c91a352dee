// Port-profile associations (802.1Qbg VDP, 802.1Qbh), run OUTSIDE the
// batched reconcile rounds: one takes up to ~15 s (the switch's answer), so a
// round only starts or releases them (sync) and reads their state (view).
// When one finishes, the port is handed back to the reconciler (onSettled),
// whose next round brings the macvtap up (or keeps it down).
//
// Per port: associating → associated | failed (retried with capped
// exponential backoff) ; associated → (re-check on resync finds it lost) →
// failed → associating ... ; on unplug: disassociating → forgotten.
// Associations made (or being made) are persisted in
// <state-dir>/associations.json, so a restart disassociates ports no longer
// desired and re-checks (queries) the others instead of trusting them.
import PQueue from 'p-queue';
import { AgentGate } from './agent-gate.js';
import { errorCode } from '../errors/vifd-error.js';
import { backoffDelay } from '../lib/backoff.js';
import type { Logger } from 'pino';
import type { DesiredView } from '../desired/store.js';
import type { LinkSnapshot } from '../observed/links.js';
import {
  associatingMessage, associationRequest, associationSignature, kindLabel,
  type AssociationControl, type AssociationRequest, type AssociationView,
} from '../model/association.js';
import type { AssociationRecord, AssociationStore } from '../state/association-store.js';
import { describeAssociationError, type AssociationDriver } from '../host/portprofile/driver.js';

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

/** Errors after which the switch cannot hold the association (nothing to undo). */
const NEVER_HELD = new Set([
  'PORT_PROFILE_UNSUPPORTED', 'PORT_PROFILE_NETLINK_ERROR', 'NETLINK_HELPER_FAILED', 'LLDPAD_NOT_RUNNING',
  'VDP_COMMAND_FAILED', 'VDPTOOL_FAILED', 'HOST_UUID_UNAVAILABLE',
]);

interface Entry {
  port: string;
  request: AssociationRequest;
  sig: string;
  state: 'associating' | 'associated' | 'failed' | 'disassociating';
  /** An operation (associate, disassociate, query) is running for this port. */
  busy: boolean;
  /** The switch may hold an association made for `request` (undo on unplug). */
  mayHold: boolean;
  /** Failures since the last success. */
  attempts: number;
  code?: string;
  message: string;
  retryAt: number;
  timer?: NodeJS.Timeout;
  /** Restored from the state file; not confirmed by a query yet. */
  unverified?: boolean;
  at: string;
}

export class Associator implements AssociationControl {
  private readonly entries = new Map<string, Entry>();
  private readonly queue: PQueue;
  /** 802.1Qbg goes through lldpad: one probe at a time while it is not running. */
  private readonly lldpad: AgentGate;
  private readonly listeners: Array<(ports: string[]) => void> = [];
  private writes: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly now: () => number;

  constructor(private readonly o: AssociatorOptions) {
    this.queue = new PQueue({ concurrency: o.concurrency ?? 16 });
    this.now = o.now ?? Date.now;
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
    for (const r of records) {
      const held = r.state === 'associated';
      this.entries.set(r.port, {
        port: r.port, request: r.request, sig: associationSignature(r.request), state: held ? 'associated' : 'failed',
        busy: false, mayHold: true, attempts: 0, retryAt: 0, at: r.at, unverified: held,
        ...(held ? {} : { code: 'INTERRUPTED' }),
        message: held ? `${kindLabel(r.request.kind)} association on ${r.request.uplink} restored; re-checking it` : `${kindLabel(r.request.kind)} association on ${r.request.uplink} was interrupted by a restart; redoing it`,
      });
    }
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
    if (!e) return undefined;
    return { kind: e.request.kind, state: e.state, message: e.message, attempts: e.attempts, ...(e.code ? { code: e.code } : {}) };
  }

  async recheck(): Promise<void> {
    const checks: Array<Promise<void>> = [];
    for (const e of this.entries.values()) {
      if (e.busy || e.state !== 'associated' || this.stopped) continue;
      e.busy = true;
      checks.push(this.run(e, () => this.check(e)));
    }
    await Promise.all(checks);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.lldpad.stop();
    for (const e of this.entries.values()) if (e.timer) clearTimeout(e.timer);
    this.queue.clear();
    await this.queue.onIdle();
    await this.writes;
  }

  /** Test hook: every operation and write started so far has finished. */
  async idle(): Promise<void> {
    await this.queue.onIdle();
    await this.writes;
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
      this.waitForLldpad(port, request, sig, e);
      return;
    }
    const previous = e && e.sig !== sig && e.mayHold ? e.request : undefined;
    if (e?.timer) clearTimeout(e.timer);
    const retry = e !== undefined && e.sig === sig && e.attempts > 0;
    const entry: Entry = {
      port, request, sig, state: 'associating', busy: true, mayHold: true,
      attempts: retry ? e.attempts : 0, retryAt: 0, at: new Date(this.now()).toISOString(),
      // A retry keeps saying what failed last (the phase stays Failed until it succeeds).
      message: retry ? `${e.message.replace(/; attempt \d+, retrying in .*$/u, '')}; attempt ${e.attempts + 1} in progress` : associatingMessage(request.kind, request.uplink),
      ...(retry && e.code ? { code: e.code } : {}),
    };
    this.entries.set(port, entry);
    void this.run(entry, () => this.associate(entry, previous));
  }

  private release(port: string, why: string): void {
    this.lldpad.forget(port);
    const e = this.entries.get(port);
    if (!e || e.busy) return;
    if (e.timer) clearTimeout(e.timer);
    if (!e.mayHold) {
      this.entries.delete(port);
      this.persist();
      this.settle(port);
      return;
    }
    e.state = 'disassociating';
    e.busy = true;
    e.message = `disassociating ${kindLabel(e.request.kind)} on ${e.request.uplink} (${why})`;
    void this.run(e, () => this.disassociate(e));
  }

  /** Runs one operation for an entry on the queue; settles the port after. */
  private run(e: Entry, op: () => Promise<void>): Promise<void> {
    return this.queue
      .add(async () => {
        try {
          await op();
        } catch (error) {
          this.o.logger.error({ err: error, port: e.port }, 'association operation failed unexpectedly');
        } finally {
          e.busy = false;
        }
        this.settle(e.port);
      })
      .then(() => undefined);
  }

  private async associate(e: Entry, previous: AssociationRequest | undefined): Promise<void> {
    const label = kindLabel(e.request.kind);
    if (previous) {
      // The profile (or uplink, MAC, instance) changed: undo the old one first.
      await this.o.driver.disassociate(previous).catch((error: unknown) =>
        this.o.logger.warn({ port: e.port, err: describeAssociationError(error) }, `${label} disassociation of the previous profile failed (best effort)`));
    }
    this.persist(); // the request may take effect even if vifd dies now
    const started = this.now();
    try {
      await this.o.driver.associate(e.request);
      if (this.entries.get(e.port) !== e) return;
      Object.assign(e, { state: 'associated', attempts: 0, at: new Date(this.now()).toISOString(), message: `${label} association on ${e.request.uplink} holds` });
      delete e.code;
      if (e.request.kind === '802.1qbg') this.lldpad.up(e.port);
      this.o.logger.info({ port: e.port, uplink: e.request.uplink, kind: e.request.kind, ms: this.now() - started }, `${label} associated`);
    } catch (error) {
      if (this.entries.get(e.port) !== e) return;
      this.failed(e, 'association', error);
    }
    this.persist();
  }

  private failed(e: Entry, step: string, error: unknown): void {
    const code = errorCode(error) ?? 'ASSOCIATION_FAILED';
    e.attempts++;
    const max = this.o.maxDelayMs ?? 60_000;
    // The uplink's driver has no port-profile support: only new hardware or a
    // new driver changes that, so retrying soon only churns; wait the longest.
    const delay = code === 'PORT_PROFILE_UNSUPPORTED' ? max : backoffDelay(e.attempts, { baseMs: this.o.baseDelayMs ?? 1000, maxMs: max });
    e.state = 'failed';
    e.code = code;
    e.mayHold = !NEVER_HELD.has(code);
    e.retryAt = this.now() + delay;
    e.message = `${kindLabel(e.request.kind)} ${step} on ${e.request.uplink} failed: ${describeAssociationError(error)}; attempt ${e.attempts}, retrying in ${formatDelay(delay)}`;
    this.o.logger.warn({ port: e.port, code, attempts: e.attempts, retryInMs: delay }, e.message);
    if (e.request.kind === '802.1qbg' && code === 'LLDPAD_NOT_RUNNING') {
      this.lldpad.down(e.port); // the gate's wait, shared by every 802.1Qbg binding, brings it back
      e.retryAt = this.lldpad.retryAt;
      e.message = e.message.replace(/retrying in .*$/u, `retrying in ${formatDelay(e.retryAt - this.now())}`);
      return;
    }
    if (e.request.kind === '802.1qbg') this.lldpad.up(e.port);
    this.schedule(e, delay);
  }

  /** Records that `port` waits for lldpad (another binding's attempt probes it). */
  private waitForLldpad(port: string, request: AssociationRequest, sig: string, e: Entry | undefined): void {
    if (e?.timer) clearTimeout(e.timer);
    this.entries.set(port, {
      port, request, sig, busy: false, mayHold: false,
      ...(this.lldpad.answered ? { state: 'failed' as const, code: 'LLDPAD_NOT_RUNNING' } : { state: 'associating' as const }),
      attempts: e && e.sig === sig ? e.attempts : 0, retryAt: this.lldpad.retryAt, at: new Date(this.now()).toISOString(),
      // No countdown in the text: the status stays the same while it waits.
      message: this.lldpad.answered
        ? `${kindLabel(request.kind)} association on ${request.uplink} waits: lldpad is not running (one binding's attempt at a time probes it)`
        : `${kindLabel(request.kind)} association on ${request.uplink} waits for the first request to reach lldpad`,
    });
  }

  private schedule(e: Entry, delay: number): void {
    if (this.stopped) return;
    e.timer = setTimeout(() => {
      e.timer = undefined;
      if (this.entries.get(e.port) === e) this.settle(e.port);
    }, delay);
    e.timer.unref();
  }

  private async disassociate(e: Entry): Promise<void> {
    const label = kindLabel(e.request.kind);
    try {
      await this.o.driver.disassociate(e.request);
      this.o.logger.info({ port: e.port, uplink: e.request.uplink, kind: e.request.kind }, `${label} disassociated`);
    } catch (error) {
      this.o.logger.warn({ port: e.port, uplink: e.request.uplink, code: errorCode(error), answer: describeAssociationError(error) }, `${label} disassociation failed (best effort; the port is unplugged anyway)`);
    }
    if (this.entries.get(e.port) === e) this.entries.delete(e.port);
    this.persist();
  }

  private async check(e: Entry): Promise<void> {
    const result = await this.o.driver.query(e.request);
    if (this.entries.get(e.port) !== e || e.state !== 'associated') return;
    if (result.held === true) {
      if (e.unverified) {
        e.unverified = false;
        e.message = `${kindLabel(e.request.kind)} association on ${e.request.uplink} holds`;
      }
      return;
    }
    if (result.held === 'unknown') {
      // A failed check is not a lost association: keep it, say so in the log.
      this.o.logger.warn({ port: e.port, uplink: e.request.uplink, reason: result.reason }, 'could not re-check the association');
      return;
    }
    e.state = 'failed';
    e.code = 'ASSOCIATION_LOST';
    e.unverified = false;
    e.retryAt = this.now(); // redo it at once
    e.message = `${kindLabel(e.request.kind)} association on ${e.request.uplink} lost: ${result.reason}; re-associating`;
    this.o.logger.warn({ port: e.port, uplink: e.request.uplink }, e.message);
    this.persist();
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

  /** Queues a write of the current records (writes happen in order). */
  private persist(): void {
    this.writes = this.writes
      .then(() => this.o.store.write(this.records()))
      .catch((error: unknown) => {
        this.o.logger.error({ err: error }, 'could not write associations.json; retrying');
        // A full or read-only state disk: try again until it lands.
        if (this.persistRetry) return;
        this.persistRetry = setTimeout(() => {
          this.persistRetry = undefined;
          this.persist();
        }, 2000);
        this.persistRetry.unref();
      });
  }

  private persistRetry: NodeJS.Timeout | undefined;

  private records(): AssociationRecord[] {
    const out: AssociationRecord[] = [];
    for (const e of this.entries.values()) {
      if (e.state === 'associated') out.push({ port: e.port, request: e.request, state: 'associated', at: e.at });
      else if (e.mayHold) out.push({ port: e.port, request: e.request, state: 'associating', at: e.at });
    }
    return out;
  }
}

function formatDelay(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`;
}
