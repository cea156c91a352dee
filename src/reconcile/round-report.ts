// What each round did, for the metrics: collected while the round runs,
// handed to the listeners when it ends. The note is each round's own, so it
// cannot grow when nobody listens.
import type { Logger } from 'pino';
import type { WorkKey } from '../model/work-key.js';

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

export interface RoundNote {
  acted: string[];
  errors: Error[];
  pluggedSeconds: number[];
  readySeconds: number[];
}

export class RoundReports {
  private readonly listeners = new Set<RoundListener>();
  /** The running round's note. */
  note: RoundNote = emptyNote();

  constructor(private readonly logger: Logger) {}

  onRound(listener: RoundListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Runs one round with a fresh note and reports it (failed or not). */
  async observe<T>(keys: readonly WorkKey[], round: () => Promise<T>): Promise<T> {
    this.note = emptyNote();
    if (this.listeners.size === 0) return round();
    const startedAt = Date.now();
    let failed = true;
    try {
      const result = await round();
      failed = false;
      return result;
    } finally {
      const info: RoundInfo = { startedAt, durationMs: Date.now() - startedAt, keys: keys.length, ...this.note, failed };
      for (const listener of this.listeners) {
        try {
          listener(info);
        } catch (error) {
          this.logger.error({ err: error }, 'round listener failed');
        }
      }
    }
  }

  get listenerCount(): number {
    return this.listeners.size;
  }
}

const emptyNote = (): RoundNote => ({ acted: [], errors: [], pluggedSeconds: [], readySeconds: [] });
