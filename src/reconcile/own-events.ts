// vifd's own changes come back as kernel events. While a round applies its
// batch and takes the verifying snapshot, link events for the round's own
// keys are the echo of that batch (or of a change the verifying snapshot
// already shows): they are dropped instead of waking the same keys for
// another round that would find nothing to do. Only sound when the host's
// snapshot is known to include every event delivered before it resolved
// (the event-fed link model's barrier); with a separately dumped snapshot an
// event may describe a change the dump missed, so nothing is dropped.
import type { WorkKey } from '../model/work-key.js';

export class OwnEvents {
  private window: ReadonlySet<WorkKey> | undefined;
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

  /** The keys an event should wake: all but the acting round's own. */
  filter(keys: WorkKey[]): WorkKey[] {
    const window = this.window;
    if (!window) return keys;
    const woken = keys.filter((key) => !window.has(key));
    this.dropped += keys.length - woken.length;
    return woken;
  }

  /** Event keys dropped as echoes so far (for the summary of a benchmark or a test). */
  get droppedCount(): number {
    return this.dropped;
  }
}
