// The one table, and the issue's goals judged from the measured numbers.
import { fmt, median, percentile } from './stats.js';
import type { RowResult } from './run-row.js';

interface Column {
  head: string;
  cell: (r: RowResult) => string;
}

const ratio = (a: number, b: number): number => a / b;
const repairP50 = (r: RowResult): number => median(r.repairMs);
const rss = (r: RowResult): number => Math.max(r.rssConvergedMb, r.rssEndMb);
const maxOf = (xs: readonly number[]): number => (xs.length === 0 ? NaN : Math.max(...xs));
const minOf = (xs: readonly number[]): number => (xs.length === 0 ? NaN : Math.min(...xs));

export function table(rows: readonly RowResult[], idleNorm: number): string {
  const cols: Column[] = [
    { head: 'row', cell: (r) => r.spec.label },
    { head: 'cold ms', cell: (r) => fmt(r.coldMs, 0) },
    { head: 'floor ms', cell: (r) => fmt(r.floors.coldMs, 0) },
    { head: 'x', cell: (r) => fmt(ratio(r.coldMs, r.floors.coldMs), 2) },
    { head: 'Ready ms', cell: (r) => fmt(r.readyMs, 0) },
    { head: 'repair p50', cell: (r) => fmt(repairP50(r), 1) },
    { head: 'p90', cell: (r) => fmt(percentile(r.repairMs, 90), 1) },
    { head: 'floor', cell: (r) => fmt(r.floors.repairMs, 1) },
    { head: 'x', cell: (r) => fmt(ratio(repairP50(r), r.floors.repairMs), 2) },
    { head: 'add p50', cell: (r) => fmt(median(r.addMs), 1) },
    { head: 'floor', cell: (r) => fmt(r.floors.addMs, 1) },
    { head: 'x', cell: (r) => fmt(ratio(median(r.addMs), r.floors.addMs), 2) },
    { head: 'spawns/rep p50/max', cell: (r) => `${fmt(median(r.repairSpawns), 0)}/${fmt(maxOf(r.repairSpawns), 0)}` },
    { head: 'forks<=', cell: (r) => fmt(minOf(r.repairForks), 0) },
    { head: 'RSS MB', cell: (r) => `${fmt(r.rssConvergedMb, 0)}/${fmt(r.rssEndMb, 0)}` },
    { head: 'resync CPU ms', cell: (r) => fmt(r.resync.cpuMs, 0) },
    { head: `idle CPU ms/${idleNorm}s`, cell: (r) => fmt((r.idle.cpuMs * idleNorm) / r.idle.seconds, 0) },
  ];
  const cells = rows.map((r) => cols.map((c) => c.cell(r)));
  const widths = cols.map((c, k) => Math.max(c.head.length, ...cells.map((row) => row[k]!.length)));
  const line = (xs: readonly string[]) => `| ${xs.map((x, k) => (k === 0 ? x.padEnd(widths[k]!) : x.padStart(widths[k]!))).join(' | ')} |`;
  return [line(cols.map((c) => c.head)), `|${widths.map((w, k) => (k === 0 ? ':' : '-') + '-'.repeat(w) + (k === 0 ? '-' : ':')).join('|')}|`, ...cells.map(line)].join('\n');
}

export interface Goal {
  text: string;
  pass: boolean | undefined;
  detail: string;
}

const verdict = (g: Goal): string => (g.pass === undefined ? 'n/a ' : g.pass ? 'PASS' : 'FAIL');

export function goals(rows: readonly RowResult[]): Goal[] {
  const bridge = rows.filter((r) => r.spec.kind === 'bridge').sort((a, b) => a.spec.n - b.spec.n);
  const small = bridge[0];
  const large = bridge[bridge.length - 1];
  const at = (r: RowResult | undefined): string => (r === undefined ? 'no bridge row' : r.spec.n === 5000 ? 'N=5000' : `N=${r.spec.n}; the issue states it at N=5000`);
  const out: Goal[] = [];
  out.push({
    text: 'repair p50 within 2x the one-repair floor at every N',
    pass: rows.length === 0 ? undefined : rows.every((r) => repairP50(r) <= 2 * r.floors.repairMs),
    detail: rows.map((r) => `${r.spec.label} ${fmt(ratio(repairP50(r), r.floors.repairMs), 2)}x`).join(', '),
  });
  out.push({
    text: 'repair p50 at the largest N within 1.3x of its value at the smallest N',
    pass: small && large && small !== large ? repairP50(large) <= 1.3 * repairP50(small) : undefined,
    detail: small && large && small !== large ? `${fmt(repairP50(large), 1)} ms at N=${large.spec.n} vs ${fmt(repairP50(small), 1)} ms at N=${small.spec.n}: ${fmt(repairP50(large) / repairP50(small), 2)}x` : 'needs two bridge sizes',
  });
  out.push({
    text: 'add-one to Ready p50 under 30 ms',
    pass: large ? median(large.addMs) < 30 : undefined,
    detail: large ? `${fmt(median(large.addMs), 1)} ms (${at(large)})` : at(large),
  });
  const worst = maxOf(rows.flatMap((r) => r.repairSpawns));
  const idleSpawns = rows.reduce((s, r) => s + r.idle.spawns, 0);
  out.push({
    text: 'at most one process spawned per repair, none for observing',
    pass: rows.length === 0 || !Number.isFinite(worst) || !Number.isFinite(idleSpawns) ? undefined : worst <= 1 && idleSpawns === 0,
    detail: Number.isFinite(worst) ? `most in one repair: ${fmt(worst, 0)} (vifd_host_commands_total); spawned while idle: ${idleSpawns}` : 'vifd_host_commands_total missing from /metrics',
  });
  out.push({
    text: 'cold convergence within 2x the floor',
    pass: large ? large.coldMs <= 2 * large.floors.coldMs : undefined,
    detail: large ? `${fmt(large.coldMs, 0)} ms vs ${fmt(large.floors.coldMs, 0)} ms: ${fmt(ratio(large.coldMs, large.floors.coldMs), 2)}x (${at(large)})` : at(large),
  });
  out.push({
    text: 'RSS under 200 MB',
    pass: large ? rss(large) < 200 : undefined,
    detail: large ? `${fmt(rss(large), 1)} MB (${at(large)})` : at(large),
  });
  return out;
}

export function goalLines(list: readonly Goal[]): string {
  return list.map((g) => `  ${verdict(g)}  ${g.text}: ${g.detail}`).join('\n');
}

export function notes(rows: readonly RowResult[]): string {
  const out: string[] = [];
  for (const r of rows) {
    const by = [...r.repairByCommand].map(([k, v]) => `${k}: ${fmt(v / Math.max(1, r.repairMs.length), 2)}`).join(', ') || 'none';
    out.push(
      `  ${r.spec.label}: spawns per repair by command (mean) ${by}; per add p50 ${fmt(median(r.addSpawns), 0)}; ` +
        `repair min/max ${fmt(minOf(r.repairMs), 1)}/${fmt(maxOf(r.repairMs), 1)} ms over ${r.repairMs.length}, of which Deleted → first event of the tap back p50/p90 ${fmt(median(r.repairBackMs), 1)}/${fmt(percentile(r.repairBackMs, 90), 1)} ms; add max ${fmt(maxOf(r.addMs), 1)} ms over ${r.addMs.length}; ` +
        `resync ${r.resync.detected ? `seen (+${r.resync.keys} keys)` : 'NOT seen'}, window ${fmt(r.resync.wallMs / 1000, 1)} s, raw ${fmt(r.resync.rawCpuMs, 0)} ms CPU; ` +
        `idle ${fmt(r.idle.seconds, 1)} s, ${r.idle.spawns} spawns; one /metrics scrape ${fmt(r.scrapeCostMs, 2)} ms CPU; ${r.fds} fds, ${r.inotifyWatches} inotify watches` +
        (r.spec.kind === 'ovs' ? `; floor = ip batch ${fmt(r.floors.coldIpMs, 0)} ms + ovs-vsctl ${fmt(r.floors.coldOvsMs, 0)} ms` : ''),
    );
    for (const n of r.notes) out.push(`    ${n}`);
  }
  return out.join('\n');
}
