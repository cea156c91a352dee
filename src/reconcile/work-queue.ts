// A rate-limited work queue of keys, in the manner of client-go's workqueue:
// a key is queued at most once, never processed twice at once, and backs off
// exponentially (capped) after failures; success resets its backoff. Ready
// keys are handed out in batches ("rounds") so host work can be batched too.
// p-queue runs the rounds: bounded concurrency and a global rate limit.
import PQueue from 'p-queue';
import { backoffDelay } from '../lib/backoff.js';

export type RoundResult = Map<string, 'done' | 'retry' | 'retry-slow'>;

export interface WorkQueueOptions {
  /** Processes one batch of keys; returns per-key outcome (missing = done). */
  process: (keys: string[]) => Promise<RoundResult>;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Most keys in one round. */
  maxBatch?: number;
  /** Rounds at once. Rounds hold disjoint keys; 1 keeps host batches ordered. */
  concurrency?: number;
  /** Global rate limit: at most this many rounds per second. */
  roundsPerSecond?: number;
  /** Wait this long after a key arrives, so that a burst forms one round.
   * 0 (the default): the next turn of the event loop. Sources already hand
   * over their bursts at once (a kernel datagram, a directory batch), and
   * keys that arrive while a round runs form the next round anyway; a fixed
   * wait here was most of a repair's latency. */
  coalesceMs?: number;

  now?: () => number;
  onError?: (error: unknown, keys: string[]) => void;
}

export class WorkQueue {
  private readonly dirty = new Set<string>();
  private readonly inFlight = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly notBefore = new Map<string, number>();
  /** Keys queued again while their round ran: that round planned from an
   * older host, so a retry of theirs need not wait out the backoff. */
  private readonly readded = new Set<string>();
  private readonly pqueue: PQueue;
  private timer: { cancel(): void } | undefined;
  private timerAt = Infinity;
  private stopped = false;
  private idleWaiters: Array<() => void> = [];
  /** Start times of the rounds running now (the watchdog's progress signal). */
  private readonly roundStarts = new Set<{ at: number }>();
  private readonly o: Required<Omit<WorkQueueOptions, 'onError'>> & Pick<WorkQueueOptions, 'onError'>;

  constructor(options: WorkQueueOptions) {
    this.o = {
      baseDelayMs: 200,
      maxDelayMs: 60_000,
      maxBatch: 5000,
      concurrency: 1,
      roundsPerSecond: 50,
      coalesceMs: 0,
      now: () => Date.now(),
      ...options,
    };
    this.pqueue = new PQueue({ concurrency: this.o.concurrency, intervalCap: this.o.roundsPerSecond, interval: 1000 });
  }

  /** Queues a key. `resetBackoff`: the desired state changed, try now. */
  add(key: string, options: { resetBackoff?: boolean } = {}): void {
    if (this.stopped) return;
    if (options.resetBackoff) {
      this.failures.delete(key);
      this.notBefore.delete(key);
    }
    if (this.inFlight.has(key)) this.readded.add(key);
    this.dirty.add(key);
    this.schedule(this.o.coalesceMs);
  }

  addAll(keys: Iterable<string>, options: { resetBackoff?: boolean } = {}): void {
    for (const key of keys) this.add(key, options);
  }

  attempts(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  get depth(): number {
    return this.dirty.size;
  }

  /** Entries held per collection: every one is bounded by the keys queued or
   * running now (backoff state goes with a key's success or reset). */
  sizes(): { dirty: number; inFlight: number; failures: number; notBefore: number; readded: number; idleWaiters: number; rounds: number } {
    return {
      dirty: this.dirty.size, inFlight: this.inFlight.size, failures: this.failures.size,
      notBefore: this.notBefore.size, readded: this.readded.size, idleWaiters: this.idleWaiters.length, rounds: this.roundStarts.size,
    };
  }

  /** When the oldest round still running started (undefined: none runs). */
  get busySince(): number | undefined {
    let oldest: number | undefined;
    for (const { at } of this.roundStarts) oldest = oldest === undefined ? at : Math.min(oldest, at);
    return oldest;
  }

  /** Resolves when no key is queued, ready or running (backoff timers aside). */
  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops handing out rounds; resolves when the running ones end. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    await this.pqueue.onIdle();
  }

  private isIdle(): boolean {
    if (this.inFlight.size > 0) return false;
    const now = this.o.now();
    for (const key of this.dirty) if ((this.notBefore.get(key) ?? 0) <= now) return false;
    return true;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    const at = this.o.now() + delayMs;
    if (this.timer && this.timerAt <= at) return;
    this.timer?.cancel();
    this.timerAt = at;
    const fire = () => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.dispatch();
    };
    // setTimeout(0) waits a millisecond at least; the next turn is enough.
    if (delayMs <= 0) {
      const handle = setImmediate(fire);
      this.timer = { cancel: () => clearImmediate(handle) };
    } else {
      const handle = setTimeout(fire, delayMs);
      this.timer = { cancel: () => clearTimeout(handle) };
    }
  }

  private dispatch(): void {
    if (this.stopped) return;
    // Rounds beyond concurrency would only wait inside p-queue holding keys.
    if (this.pqueue.pending + this.pqueue.size >= this.o.concurrency) return;
    const now = this.o.now();
    const ready: string[] = [];
    let nextWake = Infinity;
    for (const key of this.dirty) {
      if (this.inFlight.has(key)) continue;
      const at = this.notBefore.get(key) ?? 0;
      if (at > now) {
        nextWake = Math.min(nextWake, at);
        continue;
      }
      ready.push(key);
      if (ready.length >= this.o.maxBatch) break;
    }
    if (nextWake !== Infinity) this.schedule(nextWake - now);
    if (ready.length === 0) {
      this.notifyIdle();
      return;
    }
    for (const key of ready) {
      this.dirty.delete(key);
      this.inFlight.add(key);
    }
    void this.pqueue.add(() => this.runRound(ready));
  }

  private async runRound(keys: string[]): Promise<void> {
    let results: RoundResult;
    const start = { at: this.o.now() };
    this.roundStarts.add(start);
    try {
      results = await this.o.process(keys);
    } catch (error) {
      this.o.onError?.(error, keys);
      results = new Map(keys.map((k) => [k, 'retry' as const]));
    } finally {
      this.roundStarts.delete(start);
    }
    const now = this.o.now();
    // One jitter per round: keys that failed together retry together (one
    // batch), while rounds that failed independently do not retry in lockstep.
    const jitter = 0.9 + Math.random() * 0.2;
    for (const key of keys) {
      this.inFlight.delete(key);
      const fresh = this.readded.delete(key);
      const result = results.get(key) ?? 'done';
      if (result === 'done') {
        this.failures.delete(key);
        this.notBefore.delete(key);
        continue;
      }
      const failures = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, failures);
      // A host event came in during the round (e.g. the device broke again
      // after the round's snapshot): retry at once, for the first two
      // failures in a row; after that the backoff holds (no hot loop).
      const delay =
        result === 'retry-slow' ? this.o.maxDelayMs : fresh && failures <= 2 ? 0 : Math.round(this.backoff(failures) * jitter);
      this.notBefore.set(key, now + delay);
      this.dirty.add(key);
    }
    this.schedule(0);
  }

  private backoff(failures: number): number {
    return backoffDelay(failures, { baseMs: this.o.baseDelayMs, maxMs: this.o.maxDelayMs });
  }

  private notifyIdle(): void {
    if (!this.isIdle()) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
