// The daemon's V8 heap policy: keep the heap near what is live.
//
// vifd's memory is mostly garbage between collections. At 5000 bindings the
// live heap after a cold start is 45 to 75 MB, yet with V8's defaults the
// process stood at 250 to 310 MB (bench:scale): the young generation grew to
// its 2 x 16 MB during the one big cold-start round and stayed there, the
// old generation grew to about twice what was live before a full collection
// ran, and the dead Buffers it had not collected yet held 35 MB more outside
// the heap. A host agent sits next to the VMs it plugs, for months, so vifd
// trades a little CPU for memory:
// - `--semi-space-growth-factor=1`: the young generation stays at its first
//   size (objects that live through a round are promoted a little sooner);
// - `--heap-growing-percent=20`: a full collection runs once the old
//   generation has grown 20% past what the last one left.
// Measured (bench:scale, N=5000, same machine, one run each): RSS after
// convergence 172 MB (V8 defaults: 274), repair p50 2.8 ms (2.6), cold
// convergence 1.54x the floor (1.68x), resync CPU 467 ms (215 to 456).
// Both flags are read by V8 as it runs, so setting them at start works.
//
// VIFD_V8_FLAGS replaces the default (empty: V8's own defaults).
import { setFlagsFromString } from 'node:v8';

export const DEFAULT_V8_FLAGS = '--semi-space-growth-factor=1 --heap-growing-percent=20';

/** Sets the flags on this process's V8 and returns them. */
export function applyHeapPolicy(env: NodeJS.ProcessEnv = process.env): string {
  const flags = (env['VIFD_V8_FLAGS'] ?? DEFAULT_V8_FLAGS).trim();
  if (flags !== '') setFlagsFromString(flags);
  return flags;
}
