// The fleet as etcd shows it: which hosts are alive (their lease-backed
// `alive` key exists), and per host how many bindings are desired and in
// which phase their statuses are. Read with one range over the hosts root.
import type { EtcdClient } from './client.js';
import { HOSTS_ROOT, parseHostKey } from './keys.js';

export interface FleetHost {
  host: string;
  alive: boolean;
  /** The alive key's value (pid, since, ...), when alive. */
  info?: Record<string, unknown>;
  desired: number;
  phases: Record<string, number>;
  statuses: number;
}

export interface FleetTotals {
  hosts: number;
  alive: number;
  /** Hosts with desired bindings but no alive key: their vifd's lease expired (stopped, dead, or cut off from etcd). */
  down: string[];
  desired: number;
  /** Statuses by phase over every alive host. */
  phases: Record<string, number>;
  /** Desired bindings of alive hosts that have no status yet (being applied, or a status write pending). */
  unreported: number;
}

export function fleetTotals(hosts: readonly FleetHost[]): FleetTotals {
  const phases: Record<string, number> = {};
  let unreported = 0;
  for (const h of hosts) {
    for (const [phase, n] of Object.entries(h.phases)) phases[phase] = (phases[phase] ?? 0) + n;
    if (h.alive) unreported += Math.max(0, h.desired - h.statuses);
  }
  return {
    hosts: hosts.length,
    alive: hosts.filter((h) => h.alive).length,
    down: hosts.filter((h) => !h.alive).map((h) => h.host),
    desired: hosts.reduce((n, h) => n + h.desired, 0),
    phases,
    unreported,
  };
}

export async function readFleet(client: EtcdClient): Promise<{ revision: number; hosts: FleetHost[]; totals: FleetTotals }> {
  const { kvs, revision } = await client.rangePrefix(HOSTS_ROOT);
  const hosts = new Map<string, FleetHost>();
  const hostOf = (name: string): FleetHost => {
    let h = hosts.get(name);
    if (!h) hosts.set(name, (h = { host: name, alive: false, desired: 0, phases: {}, statuses: 0 }));
    return h;
  };
  for (const kv of kvs) {
    const parsed = parseHostKey(kv.key);
    if (!parsed) continue;
    const h = hostOf(parsed.host);
    if (parsed.kind === 'alive') {
      h.alive = true;
      try {
        h.info = JSON.parse(kv.value) as Record<string, unknown>;
      } catch {
        // an alive key with any value still means alive
      }
    } else if (parsed.kind === 'binding') {
      h.desired++;
    } else {
      h.statuses++;
      let phase = 'Unknown';
      try {
        phase = String((JSON.parse(kv.value) as { phase?: unknown }).phase ?? 'Unknown');
      } catch {
        // unreadable status
      }
      h.phases[phase] = (h.phases[phase] ?? 0) + 1;
    }
  }
  const sorted = [...hosts.values()].sort((a, b) => a.host.localeCompare(b.host));
  return { revision, hosts: sorted, totals: fleetTotals(sorted) };
}

export function fleetTable(hosts: readonly FleetHost[]): string {
  const rows = hosts.map((h) => [
    h.host,
    h.alive ? 'alive' : 'DOWN',
    String(h.desired),
    Object.entries(h.phases)
      .sort()
      .map(([p, n]) => `${n} ${p}`)
      .join(', ') || '-',
  ]);
  const header = ['HOST', 'STATE', 'DESIRED', 'STATUS BY PHASE'];
  const widths = header.map((t, i) => Math.max(t.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 3 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const t = fleetTotals(hosts);
  const phases = Object.entries(t.phases)
    .sort()
    .map(([p, n]) => `${n} ${p}`)
    .join(', ');
  const down = t.down.length > 0 ? `, ${t.down.length} DOWN (lease expired: ${t.down.slice(0, 10).join(', ')}${t.down.length > 10 ? ', ...' : ''})` : '';
  return [
    line(header),
    ...rows.map(line),
    `${hosts.length} host(s), ${t.alive} alive${down}`,
    `${t.desired} binding(s) desired; statuses: ${phases || 'none'}${t.unreported > 0 ? `; ${t.unreported} on alive hosts without a status yet` : ''}`,
  ].join('\n');
}
