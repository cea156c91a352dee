// The status table `vifd status` prints (from files, the API or etcd).
import type { BindingStatus } from '../model/status.js';

export function statusTable(statuses: readonly BindingStatus[]): string {
  const rows = statuses.map((s) => [s.port, s.type ?? '-', s.phase, String(s.attempts), s.devices.map((d) => d.name).join(',') || '-', s.message]);
  const header = ['PORT', 'TYPE', 'PHASE', 'ATTEMPTS', 'DEVICES', 'MESSAGE'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (i === 5 ? 0 : r[i]!.length))));
  const line = (cells: string[]) => cells.map((c, i) => (i === 5 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}
