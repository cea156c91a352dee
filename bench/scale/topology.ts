// The bindings of one benchmark row and the device set they stand for:
// names (vifd's default naming: prefix + port, cut to 14), documents, and the
// `ip -batch` lines that build the same devices by hand (the floors).
import { execFileSync } from 'node:child_process';

export type Kind = 'bridge' | 'ovs';

export interface RowSpec {
  kind: Kind;
  n: number;
  /** Bridge bindings: N/20 shared bridges. Hybrid OVS: one OVS bridge, br-int. */
  bridges: number;
  label: string;
}

export const GROUP = '4242'; // vifd's ownership group (src/reconcile/ownership.ts)
export const OVS_BRIDGE = 'br-int';

/** Port UUIDs whose first 11 characters differ (so do the default device names). */
export function portOf(kind: Kind, i: number): string {
  const base = kind === 'bridge' ? 0x50000000 : 0x60000000;
  const hex = (base + i).toString(16);
  return `${hex}-${hex.slice(0, 2)}aa-4bbb-8ccc-${i.toString(16).padStart(12, '0')}`;
}

export const macOf = (i: number): string =>
  `fa:16:3e:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
const tapMac = (i: number): string => `fe${macOf(i).slice(2)}`;
const dev = (prefix: string, port: string): string => (prefix + port).slice(0, 14);
export const tapOf = (kind: Kind, i: number): string => dev('tap', portOf(kind, i));
export const qbrOf = (i: number): string => dev('qbr', portOf('ovs', i));
const qvbOf = (i: number): string => dev('qvb', portOf('ovs', i));
const qvoOf = (i: number): string => dev('qvo', portOf('ovs', i));
export const bridgeOf = (spec: RowSpec, i: number): string => (spec.kind === 'bridge' ? `scbr-${i % spec.bridges}` : qbrOf(i));

export function documentOf(spec: RowSpec, i: number): object {
  const port = portOf(spec.kind, i);
  const vif = spec.kind === 'bridge'
    ? { type: 'bridge', bridge: bridgeOf(spec, i) }
    : { type: 'ovs', bridge: OVS_BRIDGE, hybrid: true, datapathType: 'netdev', profile: {} };
  return { apiVersion: 'vifd/v1', kind: 'PortBinding', port, ...(spec.kind === 'ovs' ? { instance: port } : {}), mac: macOf(i), mtu: 1450, vif };
}

/** One binding's tap, made and put in place (alias = vifd's port mark). */
function tapLines(spec: RowSpec, i: number): string[] {
  const tap = tapOf(spec.kind, i);
  return [`tuntap add dev ${tap} mode tap`, `link set dev ${tap} group ${GROUP} alias vifd:port:${portOf(spec.kind, i)} address ${tapMac(i)} mtu 1450 master ${bridgeOf(spec, i)} up`];
}

/** One binding's devices, as vifd makes them: the tap (bridge rows); qbr, veth pair qvb/qvo and tap (hybrid, as bench/peer/floor.sh, with vifd's marks). */
export function portLines(spec: RowSpec, i: number): string[] {
  if (spec.kind === 'bridge') return tapLines(spec, i);
  const [qbr, qvb, qvo] = [qbrOf(i), qvbOf(i), qvoOf(i)];
  return [
    `link add name ${qbr} group ${GROUP} type bridge forward_delay 0 stp_state 0`,
    `link set dev ${qbr} alias vifd:port:${portOf('ovs', i)} addrgenmode none up`,
    `link add ${qvb} mtu 1450 group ${GROUP} type veth peer name ${qvo} mtu 1450 group ${GROUP}`,
    `link set dev ${qvb} master ${qbr} up`,
    `link set dev ${qvo} up`,
    ...tapLines(spec, i),
  ];
}

/** Every device of the row, as one batch: what cold convergence has to do in the kernel. */
export function coldLines(spec: RowSpec): string[] {
  const lines: string[] = [];
  if (spec.kind === 'bridge') {
    for (let b = 0; b < spec.bridges; b++) lines.push(`link add name scbr-${b} group ${GROUP} type bridge forward_delay 0 stp_state 0`, `link set dev scbr-${b} alias vifd:bridge addrgenmode none up`);
  }
  for (let i = 0; i < spec.n; i++) lines.push(...portLines(spec, i));
  return lines;
}

/** One hybrid port's qvo added to br-int with its external_ids (ovs-vsctl arguments, one transaction). */
export function portVsctlArgs(i: number): string[] {
  const port = portOf('ovs', i);
  return ['--', '--may-exist', 'add-port', OVS_BRIDGE, qvoOf(i), '--', 'set', 'Interface', qvoOf(i), `external_ids:iface-id=${port}`, 'external_ids:iface-status=active', `external_ids:attached-mac=${macOf(i)}`, `external_ids:vm-uuid=${port}`];
}

/** The OVS side of the cold floor: every qvo as one ovs-vsctl transaction. */
export function coldVsctlArgs(spec: RowSpec): string[] {
  const args: string[] = [];
  for (let i = 0; i < spec.n; i++) args.push(...portVsctlArgs(i));
  return args;
}

/** What one repair has to do: the tap again, marked, in its bridge, up. */
export const repairLines = (spec: RowSpec, i: number): string[] => tapLines(spec, i);

/** Runs `ip [-force] -n NETNS -batch -` with the lines; returns ms, the spawn included. */
export function ipBatch(netns: string, lines: readonly string[], force = false): number {
  const t = performance.now();
  execFileSync('ip', [...(force ? ['-force'] : []), '-n', netns, '-batch', '-'], { input: lines.join('\n') + '\n', stdio: ['pipe', 'ignore', 'pipe'] });
  return performance.now() - t;
}

export interface LinkJson {
  ifname: string;
  master?: string;
  flags: string[];
  group?: string;
}

export function links(netns: string): LinkJson[] {
  return JSON.parse(execFileSync('ip', ['-n', netns, '-j', 'link', 'show'], { encoding: 'utf8', maxBuffer: 256 << 20 })) as LinkJson[];
}

/** Does every binding's tap exist, marked, in its bridge and up? Returns the names missing. */
export function tapsWrong(spec: RowSpec, all: readonly LinkJson[], count = spec.n): string[] {
  const byName = new Map(all.map((l) => [l.ifname, l]));
  const wrong: string[] = [];
  for (let i = 0; i < count; i++) {
    const l = byName.get(tapOf(spec.kind, i));
    if (!l || l.master !== bridgeOf(spec, i) || !l.flags.includes('UP') || l.group !== GROUP) wrong.push(tapOf(spec.kind, i));
  }
  return wrong;
}

/** Deletes what is in vifd's groups in one request each (fast: one RCU grace period per request, not per device), then the namespace. */
export function deleteNamespace(netns: string): void {
  for (const g of [GROUP, '4243']) {
    try {
      execFileSync('ip', ['-n', netns, 'link', 'del', 'group', g], { stdio: 'ignore', timeout: 120_000 });
    } catch {
      // nothing in that group, or the namespace is gone
    }
  }
  try {
    execFileSync('ip', ['netns', 'del', netns], { stdio: 'ignore' });
  } catch {
    // already gone
  }
}
