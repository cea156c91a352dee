// Removal holds: while any reason holds (vifd is starting and its sources
// have not all loaded, an etcd source is not synced), a key nothing desires
// is not planned, so nothing is unplugged on the strength of a partial read.
// Such keys wait here and are handed back once the last hold is released.
import type { DesiredView } from '../desired/store.js';
import type { WorkKey } from '../model/work-key.js';

export class RemovalHolds {
  private readonly reasons = new Set<string>();
  private readonly held = new Set<WorkKey>();

  constructor(initial: readonly string[] = []) {
    for (const reason of initial) this.reasons.add(reason);
  }

  hold(reason: string): void {
    this.reasons.add(reason);
  }

  /** Releases one reason; returns the keys to look at again if it was the last. */
  release(reason: string): WorkKey[] {
    if (!this.reasons.delete(reason) || this.reasons.size > 0) return [];
    const keys = [...this.held];
    this.held.clear();
    return keys;
  }

  /** The keys a round may plan now (all of them while nothing holds). */
  admit(keys: WorkKey[], desired: DesiredView): WorkKey[] {
    if (this.reasons.size === 0) return keys;
    return keys.filter((key) => {
      if (desired.bindings.has(key) || desired.invalidOnly.has(key)) return true;
      this.held.add(key);
      return false;
    });
  }

  get size(): number {
    return this.held.size;
  }
}
