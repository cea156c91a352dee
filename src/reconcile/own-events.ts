// vifd's own changes come back as kernel events. While a round applies its
// batch and takes the verifying snapshot, link events for the round's own
// keys are the echo of that batch (or of a change the verifying snapshot
// already shows): they are held, and dropped if the round settled the key
// (instead of waking it for another round that would find nothing to do),
// or handed back if it did not (the event may be news: retried at once).
// Only sound when the host's snapshot is known to include every event
// delivered before it resolved
// (the event-fed link model's barrier); with a separately dumped snapshot an
// event may describe a change the dump missed, so nothing is dropped.
import type { WorkKey } from '../model/work-key.js';

export class OwnEvents {
  private window: ReadonlySet<WorkKey> | undefined;
  /** Event keys held back during the window, until the round's outcome is known. */
  private held = new Set<WorkKey>();
  private dropped = 0;

  constructor(private readonly enabled: () => boolean) {}

  /** Whether snapshots cover events now (the event-fed link model is in use). */
  get covered(): boolean {
    return this.enabled();
  }

  /** The round is about to act on these keys. */
  open(keys: readonly WorkKey[]): void {
    if (this.enabled()) this.window = new Set(keys);
  }

  /** The round's verifying snapshot is in. */
  close(): void {
    this.window = undefined;
  }

  /** The keys an event should wake now: all but the acting round's own,
   * which are held until the round ends. */
  filter(keys: WorkKey[]): WorkKey[] {
    const window = this.window;
    if (!window) return keys;
    const woken: WorkKey[] = [];
    for (const key of keys) {
      if (window.has(key)) this.held.add(key);
      else woken.push(key);
    }
    return woken;
  }

  /** The round ended: held keys it settled were echoes (dropped); those it
   * did not settle are returned, to be looked at again at once (an event
   * during the round may be news, e.g. the device broke again). */
  settle(settled: (key: WorkKey) => boolean): WorkKey[] {
    const again: WorkKey[] = [];
    for (const key of this.held) {
      if (settled(key)) this.dropped++;
      else again.push(key);
    }
    this.held = new Set();
    return again;
  }

  /** Event keys dropped as echoes so far (for the summary of a benchmark or a test). */
  get droppedCount(): number {
    return this.dropped;
  }
}
