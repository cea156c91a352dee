// Issue 13's scale benchmark: one table, all measured in one run, each figure
// beside its floor, for N bridge bindings (spread over N/20 bridges) and N
// hybrid OVS bindings (private OVS, userspace datapath).
//
//   npm run bench:scale -- [--sizes 100,1000,5000] [--ovs 300] [--repairs 30]
//                          [--adds 10] [--idle-seconds 30] [--resync-seconds S]
//                          [--out FILE]
//
// Per row, in its own fresh namespace (scale-*), the real daemon (bin/vifd.js)
// started and stopped by pid; everything deleted at the end, also on failure
// or SIGINT/SIGTERM. What each column measures and how the floors are taken:
// bench/scale/README.md. --ovs 0 skips the hybrid row. The daemon runs with
// --resync-seconds S (default: idle seconds + 12) so that one periodic resync
// and the idle window both fit between two resync boundaries.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { cleanupAll, installSignalCleanup } from './scale/cleanup.js';
import { goalLines, goals, notes, table } from './scale/report.js';
import { runRow, type RowResult } from './scale/run-row.js';
import type { RowSpec } from './scale/topology.js';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '100,1000,5000' },
    ovs: { type: 'string', default: '300' },
    repairs: { type: 'string', default: '30' },
    adds: { type: 'string', default: '10' },
    'idle-seconds': { type: 'string', default: '30' },
    'resync-seconds': { type: 'string' },
    out: { type: 'string' },
  },
});

function num(name: string, v: string | undefined, min: number): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min) {
    process.stderr.write(`bench:scale: --${name} must be a number >= ${min}\n`);
    process.exit(2);
  }
  return n;
}

const sizes = (values.sizes ?? '').split(',').filter((s) => s.trim() !== '').map((s) => num('sizes', s, 20));
const ovsN = num('ovs', values.ovs, 0);
const repairs = num('repairs', values.repairs, 1);
const adds = num('adds', values.adds, 1);
const idleSeconds = num('idle-seconds', values['idle-seconds'], 1);
const resyncSeconds = values['resync-seconds'] === undefined ? idleSeconds + 12 : num('resync-seconds', values['resync-seconds'], idleSeconds + 6);
if (ovsN > 300) process.stderr.write('bench:scale: more than 300 OVS ports is past what the userspace datapath on this machine carries (host-facts.md)\n');

const specs: RowSpec[] = sizes.map((n) => ({ kind: 'bridge', n, bridges: Math.max(1, Math.floor(n / 20)), label: `bridge N=${n}` }));
if (ovsN > 0) specs.push({ kind: 'ovs', n: ovsN, bridges: 1, label: `hybrid OVS N=${ovsN}` });

installSignalCleanup();
const started = performance.now();
const rows: RowResult[] = [];
try {
  for (const spec of specs) rows.push(await runRow(spec, { repairs, adds, idleSeconds, resyncSeconds }));
} finally {
  cleanupAll();
}

const head = [
  `bench:scale — ${new Date().toISOString()}, ${repairs} repairs, ${adds} adds, idle window ${idleSeconds} s, vifd --resync-seconds ${resyncSeconds}, ` +
    `bridge rows: N/20 bridges; run took ${((performance.now() - started) / 1000).toFixed(0)} s`,
  'cold: process start -> host converged (bridge: every tap marked, enslaved, up, from kernel events; hybrid: all N Ready); floor: one ip -force -batch (+ one ovs-vsctl transaction for hybrid)',
  'repair: kernel Deleted event -> tap back, marked, enslaved, up (ip monitor link); floor: one ip -batch recreating one tap, spawn included, p50',
  'add: rename of one new file -> its status file Ready; floor: one ip -batch making its devices (+ one ovs-vsctl add-port for hybrid, which waits for ovs-vswitchd), p50; spawns: vifd_host_commands_total delta per repair; forks<=: /proc/stat processes delta (whole machine, minus our own ip link del), least over the repairs',
  'RSS: after convergence / at the end; resync CPU: utime+stime (+children) across one periodic resync, minus idle and our scrapes; idle: over the idle window, scaled',
].join('\n');
const text = `${head}\n\n${table(rows, 30)}\n\ngoals:\n${goalLines(goals(rows))}\n\nnotes:\n${notes(rows)}\n`;
process.stdout.write(text);
if (values.out) writeFileSync(values.out, text);
