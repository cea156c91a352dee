// Where the daemon's next periodic resync falls, re-anchored on each resync
// the bench sees in vifd_resyncs_total. vifd counts a resync as it ends and
// then starts the timer for the next, so the next one is due P after a moment
// the bench bounds between two of its scrapes: the zone to keep samples out
// of keeps a fixed width however many periods a row runs (a prediction carried
// over k periods widened by k times the uncertainty, until no sample fit: a
// row of 100 repairs at N=5000 waited forever).
import type { Scrape } from './metrics.js';

export class ResyncTracker {
  private count: number;
  private lastAt: number;
  /** The last resync counted: after `lo` (a scrape without it), by `hi` (the first with it). */
  private last: { lo: number; hi: number } | undefined;

  constructor(
    private readonly periodMs: number,
    /** Wall time of one resync, from its start until the daemon is quiet again. */
    private readonly resyncMs: number,
    first: Scrape,
    at: number,
    /** A resync timed elsewhere (the bench's own resync measurement), as `last` below. */
    seen?: { lo: number; hi: number },
  ) {
    if (Number.isNaN(first.resyncs)) throw new Error('vifd_resyncs_total is not in /metrics: the bench needs it to keep samples out of the periodic resyncs');
    this.count = first.resyncs;
    this.lastAt = at;
    if (seen) this.last = { lo: seen.lo, hi: seen.hi };
  }

  /** Takes in a scrape made at `at`; true if a resync was counted since the previous one. */
  observe(s: Scrape, at: number): boolean {
    const changed = s.resyncs !== this.count;
    if (changed) {
      this.last = { lo: this.lastAt, hi: at };
      this.count = s.resyncs;
    }
    this.lastAt = at;
    return changed;
  }

  /** From the earliest start of the next resync to the latest moment it is done; undefined before one was seen. */
  zone(): [number, number] | undefined {
    if (!this.last) return undefined;
    return [this.last.lo + this.periodMs - 300, this.last.hi + this.periodMs + this.resyncMs + 500];
  }
}
