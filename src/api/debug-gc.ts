// A debug-only hook for memory benchmarks (bench/soak): POST /debug/gc runs a
// full garbage collection and answers the heap before and after, so "heap
// used" means live data, not garbage waiting for the next GC. It exists only
// when the daemon runs with node's --expose-gc AND VIFD_DEBUG_GC=1; otherwise
// the endpoint is not there (404), as in every production run.
export interface GcReport {
  before: NodeJS.MemoryUsage;
  after: NodeJS.MemoryUsage;
  ms: number;
}

export function debugGc(env: NodeJS.ProcessEnv = process.env, gc: unknown = (globalThis as { gc?: unknown }).gc): (() => GcReport) | undefined {
  if (env['VIFD_DEBUG_GC'] !== '1' || typeof gc !== 'function') return undefined;
  const collect = gc as () => void;
  return () => {
    const before = process.memoryUsage();
    const started = performance.now();
    collect();
    return { before, after: process.memoryUsage(), ms: performance.now() - started };
  };
}
