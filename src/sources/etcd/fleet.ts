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

export async function readFleet(client: EtcdClient): Promise<{ revision: number; hosts: FleetHost[] }> {
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
  return { revision, hosts: [...hosts.values()].sort((a, b) => a.host.localeCompare(b.host)) };
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
  const alive = hosts.filter((h) => h.alive).length;
  return [line(header), ...rows.map(line), `${hosts.length} host(s), ${alive} alive`].join('\n');
}
