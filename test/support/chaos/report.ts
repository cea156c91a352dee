// The chaos table: faults by kind, how many were repaired, repair time
// percentiles, plus the run's safety counters.
export interface FaultRecord {
  kind: string;
  /** Repair time (fault → host matches desired again); undefined: not within the bound. */
  ms: number | undefined;
  target: string;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

export interface Totals {
  seed: number;
  bindings: number;
  kinds: readonly string[];
  kills: number;
  restarts: number;
  leaks: number;
  duplicates: number;
  foreignChanges: number;
  recreated: number;
  fingerprint: string;
  faults: number;
  strayTemps: number;
  /** Helper processes alive at vifd's SIGKILLs, and those that outlived it. */
  helpersAtKills: number;
  strayHelpers: number;
}

/** Faults the kernel or OVS reports as events (the latency goal applies to these). */
export const EVENT_FAULT = /^(tap|bridge|qbr|veth|macvtap|ovs-port|ovs-extids)/u;

function row(name: string, records: readonly FaultRecord[]): string {
  const times = records.flatMap((r) => (r.ms === undefined ? [] : [r.ms])).sort((a, b) => a - b);
  const fmt = (v: number) => (Number.isNaN(v) ? '-' : v >= 10_000 ? `${(v / 1000).toFixed(1)}s` : v.toFixed(0));
  return [
    name.padEnd(26),
    String(records.length).padStart(8),
    String(times.length).padStart(9),
    fmt(percentile(times, 50)).padStart(8),
    fmt(percentile(times, 99)).padStart(8),
    fmt(times.length ? times[times.length - 1]! : NaN).padStart(8),
  ].join(' ');
}

export function formatTable(records: readonly FaultRecord[], t: Totals): string {
  const kinds = [...new Set(records.map((r) => r.kind))].sort();
  const lines = [
    `${'fault'.padEnd(26)} ${'injected'.padStart(8)} ${'repaired'.padStart(9)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'max ms'.padStart(8)}`,
    '-'.repeat(72),
    ...kinds.map((k) => row(k, records.filter((r) => r.kind === k))),
    '-'.repeat(72),
    row('kernel/OVS events', records.filter((r) => EVENT_FAULT.test(r.kind))),
    row('all', records),
    '',
    `seed ${t.seed}, kinds ${t.kinds.join(', ')}, ${t.bindings} bindings at the end, ${t.faults} faults (sequence ${t.fingerprint})`,
    `vifd SIGKILLs survived: ${t.kills} (restarts ${t.restarts}); devices recreated by a restart over a converged host: ${t.recreated}`,
    `helper processes at those kills: ${t.helpersAtKills}, still alive after vifd died (2 s; 10 s for one inside a syscall with its SIGKILL pending): ${t.strayHelpers}`,
    `unrepaired: ${records.filter((r) => r.ms === undefined).length}  leaked devices/ports: ${t.leaks}  duplicate OVS ports: ${t.duplicates}  foreign changes: ${t.foreignChanges}  stray state temp files: ${t.strayTemps}`,
  ];
  return lines.join('\n');
}
