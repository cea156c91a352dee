// Runs the association driver (vdptool, the netlink helper) for entries, a
// bounded number at a time: associate, disassociate, re-check (query). What a
// result means for the entry is the state machine's (entry.ts); what happens
// next (retry, lldpad gate, settling the port) is the associator's.
import { errorCode } from '../../errors/vifd-error.js';
import PQueue from 'p-queue';
import type { Logger } from 'pino';
import { kindLabel, type AssociationRequest } from '../../model/association.js';
import { describeAssociationError, type AssociationDriver } from '../../host/portprofile/driver.js';
import { markLost, markVerified, type Entry } from './entry.js';

/** What the worker tells the associator. */
export interface WorkerEvents {
  /** `e` is still the port's entry (not replaced while the driver ran). */
  current(e: Entry): boolean;
  persist(): void;
  associated(e: Entry): void;
  failed(e: Entry, step: string, error: unknown): void;
  disassociated(e: Entry): void;
  /** An operation for the port has finished (its key is worth a round). */
  settle(port: string): void;
}

export interface WorkerOptions {
  driver: AssociationDriver;
  logger: Logger;
  now: () => number;
  concurrency: number;
}

export class AssociationWorker {
  private readonly queue: PQueue;

  constructor(private readonly o: WorkerOptions, private readonly events: WorkerEvents) {
    this.queue = new PQueue({ concurrency: o.concurrency });
  }

  /** Runs one operation for an entry on the queue; settles the port after. */
  run(e: Entry, op: () => Promise<void>): Promise<void> {
    return this.queue
      .add(async () => {
        try {
          await op();
        } catch (error) {
          this.o.logger.error({ err: error, port: e.port }, 'association operation failed unexpectedly');
        } finally {
          e.busy = false;
        }
        this.events.settle(e.port);
      })
      .then(() => undefined);
  }

  async associate(e: Entry, previous: AssociationRequest | undefined): Promise<void> {
    const label = kindLabel(e.request.kind);
    if (previous) {
      // The profile (or uplink, MAC, instance) changed: undo the old one first.
      await this.o.driver.disassociate(previous).catch((error: unknown) =>
        this.o.logger.warn({ port: e.port, err: describeAssociationError(error) }, `${label} disassociation of the previous profile failed (best effort)`));
    }
    this.events.persist(); // the request may take effect even if vifd dies now
    const started = this.o.now();
    try {
      await this.o.driver.associate(e.request);
      if (!this.events.current(e)) return;
      this.events.associated(e);
      this.o.logger.info({ port: e.port, uplink: e.request.uplink, kind: e.request.kind, ms: this.o.now() - started }, `${label} associated`);
    } catch (error) {
      if (!this.events.current(e)) return;
      this.events.failed(e, 'association', error);
    }
    this.events.persist();
  }

  async disassociate(e: Entry): Promise<void> {
    const label = kindLabel(e.request.kind);
    try {
      await this.o.driver.disassociate(e.request);
      this.o.logger.info({ port: e.port, uplink: e.request.uplink, kind: e.request.kind }, `${label} disassociated`);
    } catch (error) {
      this.o.logger.warn({ port: e.port, uplink: e.request.uplink, code: errorCode(error), answer: describeAssociationError(error) }, `${label} disassociation failed (best effort; the port is unplugged anyway)`);
    }
    if (this.events.current(e)) this.events.disassociated(e);
    this.events.persist();
  }

  /** Asks the switch whether an association it is said to hold still holds. */
  async check(e: Entry): Promise<void> {
    const result = await this.o.driver.query(e.request);
    if (!this.events.current(e) || e.state !== 'associated') return;
    if (result.held === true) {
      if (e.unverified) markVerified(e);
      return;
    }
    if (result.held === 'unknown') {
      // A failed check is not a lost association: keep it, say so in the log.
      this.o.logger.warn({ port: e.port, uplink: e.request.uplink, reason: result.reason }, 'could not re-check the association');
      return;
    }
    markLost(e, result.reason, this.o.now());
    this.o.logger.warn({ port: e.port, uplink: e.request.uplink }, e.message);
    this.events.persist();
  }

  async stop(): Promise<void> {
    this.queue.clear();
    await this.queue.onIdle();
  }

  idle(): Promise<void> {
    return this.queue.onIdle();
  }
}
