// When each port's desired state last changed, so the round that plugs it
// or makes it Ready can tell how long that took (the plugged/ready latency
// metrics), and the pluggedAt/readyAt of its status.
import type { BindingStatus } from '../model/status.js';
import type { KeyOutcome } from '../plan/plan-links.js';
import { isGateWait, nextReadinessTimes, type ReadinessTimes } from '../plan/readiness-gate.js';
import type { RoundNote } from './round-report.js';

export class ReadinessClock {
  private readonly changedAt = new Map<string, number>();

  desiredChanged(port: string, at: number): void {
    this.changedAt.set(port, at);
  }

  forget(port: string): void {
    this.changedAt.delete(port);
  }

  /** pluggedAt/readyAt for the status; notes the latencies of those that start now. */
  times(previous: BindingStatus | undefined, port: string, generation: number, outcome: KeyOutcome, ready: boolean, now: string, note: RoundNote): ReadinessTimes {
    const plugged = outcome.state === 'converged' || isGateWait(outcome);
    const times = nextReadinessTimes(previous, generation, plugged, ready, now);
    const since = this.changedAt.get(port);
    if (since !== undefined) {
      const fresh = previous?.observedGeneration !== generation;
      const seconds = Math.max(0, Date.parse(now) - since) / 1000;
      if (times.pluggedAt === now && (fresh || previous?.pluggedAt === undefined)) note.pluggedSeconds.push(seconds);
      if (times.readyAt === now && (fresh || previous?.readyAt === undefined)) {
        note.readySeconds.push(seconds);
        this.changedAt.delete(port); // counted once per desired change
      }
    }
    return times;
  }

  get size(): number {
    return this.changedAt.size;
  }
}
