// Status changes with a revision, for GET /v1/watch. Each change gets the next
// revision; the most recent ones stay in a bounded ring so a client that lost
// its connection resumes from its last revision and misses nothing. A client
// whose revision is older than the ring (or from another daemon run) gets a
// RESET and a full snapshot instead. Revisions start at the daemon's start
// time in microseconds, so they also increase across restarts: a revision
// from a previous run is always older than the ring.
import type { BindingStatus } from '../reconcile/status.js';

export type WatchEvent =
  | { type: 'ADDED' | 'MODIFIED'; revision: number; port: string; status: BindingStatus }
  | { type: 'DELETED'; revision: number; port: string }
  /** Drop what you know: a full snapshot (ADDED events) follows. */
  | { type: 'RESET'; revision: number }
  /** Everything up to `revision` has been sent (end of replay, or a heartbeat). */
  | { type: 'BOOKMARK'; revision: number };

export type ChangeEvent = Extract<WatchEvent, { port: string }>;

export interface Subscriber {
  send(events: readonly WatchEvent[]): void;
}

export interface WatchStart {
  /** What to send first: a replay from the ring, or a RESET plus snapshot. */
  initial: WatchEvent[];
  reset: boolean;
  unsubscribe: () => void;
}

export const DEFAULT_RING_SIZE = 10_000;

export class WatchHub {
  private revisionNow: number;
  private readonly ring: ChangeEvent[] = [];
  private ringStart = 0;
  private readonly subscribers = new Set<Subscriber>();
  private readonly known = new Set<string>();

  constructor(
    private readonly currentStatuses: () => readonly BindingStatus[],
    private readonly ringSize = DEFAULT_RING_SIZE,
    startRevision = Date.now() * 1000,
  ) {
    this.revisionNow = startRevision;
    for (const status of currentStatuses()) this.known.add(status.port);
  }

  get revision(): number {
    return this.revisionNow;
  }

  get clients(): number {
    return this.subscribers.size;
  }

  /** The oldest revision a client may resume from without a snapshot. */
  get oldestResumable(): number {
    const first = this.ring[this.ringStart];
    return first ? first.revision - 1 : this.revisionNow;
  }

  /** A binding's status was written (status) or removed (undefined). */
  publish(port: string, status: BindingStatus | undefined): void {
    const existed = this.known.has(port);
    if (status) this.known.add(port);
    else this.known.delete(port);
    const revision = ++this.revisionNow;
    const event: ChangeEvent = status ? { type: existed ? 'MODIFIED' : 'ADDED', revision, port, status } : { type: 'DELETED', revision, port };
    this.ring.push(event);
    if (this.ring.length - this.ringStart > this.ringSize) this.ringStart++;
    if (this.ringStart > 1024 && this.ringStart * 2 > this.ring.length) {
      this.ring.splice(0, this.ringStart);
      this.ringStart = 0;
    }
    for (const subscriber of this.subscribers) subscriber.send([event]);
  }

  /** Registers a subscriber and computes what it needs first, atomically
   * (nothing can be published in between: this is synchronous). */
  subscribe(subscriber: Subscriber, since: number | undefined): WatchStart {
    const revision = this.revisionNow;
    let initial: WatchEvent[];
    let reset = false;
    if (since !== undefined && since >= this.oldestResumable && since <= revision) {
      initial = this.ring.slice(this.ringStart).filter((e) => e.revision > since);
    } else {
      reset = since !== undefined;
      initial = this.snapshot(revision);
      if (reset) initial.unshift({ type: 'RESET', revision });
    }
    initial.push({ type: 'BOOKMARK', revision });
    this.subscribers.add(subscriber);
    return { initial, reset, unsubscribe: () => this.subscribers.delete(subscriber) };
  }

  private snapshot(revision: number): WatchEvent[] {
    return [...this.currentStatuses()]
      .sort((a, b) => a.port.localeCompare(b.port))
      .map((status) => ({ type: 'ADDED' as const, revision, port: status.port, status }));
  }

  /** A heartbeat for every subscriber (keeps idle connections observable). */
  bookmark(): void {
    const event: WatchEvent = { type: 'BOOKMARK', revision: this.revisionNow };
    for (const subscriber of this.subscribers) subscriber.send([event]);
  }
}
