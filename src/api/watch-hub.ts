// Status changes with a revision, for GET /v1/watch. Each change gets the next
// revision; the most recent ones stay in a bounded history so a client that
// lost its connection resumes from its last revision and misses nothing. The
// history holds at most `ringSize` changes and none older than `maxAgeMs`
// (pruned on every publish, subscribe and heartbeat, so an idle daemon gives
// it back too): its memory depends on neither the daemon's age nor the number
// of changes ever made. A client whose revision is older than the history (or
// from another daemon run) gets a RESET and a full snapshot instead. Revisions start at the daemon's start
// time in microseconds, so they also increase across restarts: a revision
// from a previous run is always older than the ring.
import type { BindingStatus } from '../model/status.js';

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
/** Changes older than this are dropped from the history (2 minutes): a
 * client away longer resumes with RESET + snapshot, which costs it little. */
export const DEFAULT_RING_MAX_AGE_MS = 2 * 60_000;

export interface WatchHubOptions {
  maxAgeMs?: number;
  now?: () => number;
}

export class WatchHub {
  private revisionNow: number;
  /** The history: ring[ringStart..] are the kept changes, at[i] when ring[i] was published. */
  private ring: ChangeEvent[] = [];
  private at: number[] = [];
  private ringStart = 0;
  private readonly subscribers = new Set<Subscriber>();
  private readonly known = new Set<string>();
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(
    private readonly currentStatuses: () => readonly BindingStatus[],
    private readonly ringSize = DEFAULT_RING_SIZE,
    startRevision = Date.now() * 1000,
    options: WatchHubOptions = {},
  ) {
    this.revisionNow = startRevision;
    this.maxAgeMs = options.maxAgeMs ?? DEFAULT_RING_MAX_AGE_MS;
    this.now = options.now ?? Date.now;
    for (const status of currentStatuses()) this.known.add(status.port);
  }

  /** Changes kept for resuming clients (at most ringSize). */
  get historySize(): number {
    return this.ring.length - this.ringStart;
  }

  /** Ports the hub knows to exist (to tell ADDED from MODIFIED). */
  get knownPorts(): number {
    return this.known.size;
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
    this.at.push(this.now());
    this.prune();
    for (const subscriber of this.subscribers) subscriber.send([event]);
  }

  /** Registers a subscriber and computes what it needs first, atomically
   * (nothing can be published in between: this is synchronous). */
  subscribe(subscriber: Subscriber, since: number | undefined): WatchStart {
    this.prune();
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
    this.prune();
    const event: WatchEvent = { type: 'BOOKMARK', revision: this.revisionNow };
    for (const subscriber of this.subscribers) subscriber.send([event]);
  }

  /** Drops changes beyond the count and age bounds; compacts the arrays once
   * more than half of them is dropped entries. */
  private prune(): void {
    const oldest = this.now() - this.maxAgeMs;
    while (this.ringStart < this.ring.length && (this.ring.length - this.ringStart > this.ringSize || this.at[this.ringStart]! < oldest)) {
      this.ringStart++;
    }
    if (this.ringStart === this.ring.length) {
      if (this.ringStart > 0) {
        this.ring = [];
        this.at = [];
        this.ringStart = 0;
      }
    } else if (this.ringStart > 1024 && this.ringStart * 2 > this.ring.length) {
      this.ring = this.ring.slice(this.ringStart);
      this.at = this.at.slice(this.ringStart);
      this.ringStart = 0;
    }
  }
}
