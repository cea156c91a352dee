// Shared set-up for the crash tests: a throwaway namespace with a veth
// uplink, bindings of the kinds that need no OVS (bridge, 802.1Qbg/Qbh
// macvtaps), and the chaos harness's independent host check.
import { unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { check, makeBinding, type ChaosBinding, type Topology, type VifKind } from '../support/chaos/world.js';
import { createNetns, ipIn, linksIn } from './netns.js';
import { writeBinding, type VifdDirs } from './vifd-process.js';

export const TOPO: Topology = {
  vifdBridges: ['brq-crash-a', 'brq-crash-b'],
  foreignBridge: 'brforeign',
  ovsBridge: 'br-unused',
  uplink: 'uplnk0',
  tag: 0xc7,
};

/** Namespace with the macvtap uplink (a veth end) and a foreign bridge. */
export function createCrashNetns(name: string): void {
  createNetns(name);
  ipIn(name, 'link', 'add', TOPO.uplink, 'type', 'veth', 'peer', 'name', `${TOPO.uplink}p`);
  ipIn(name, 'link', 'set', TOPO.uplink, 'up');
  ipIn(name, 'link', 'set', `${TOPO.uplink}p`, 'up');
  ipIn(name, 'link', 'add', TOPO.foreignBridge, 'type', 'bridge');
  ipIn(name, 'link', 'set', TOPO.foreignBridge, 'mtu', '1499');
  ipIn(name, 'link', 'set', TOPO.foreignBridge, 'mtu', '1500', 'up');
}

const KINDS: VifKind[] = ['bridge', 'bridge', 'qbg', 'qbh'];

/** n bindings (numbered from `from`), mixed kinds, a few MTUs. */
export function crashBindings(count: number, from = 1): ChaosBinding[] {
  const out: ChaosBinding[] = [];
  for (let n = from; n < from + count; n++) {
    const kind = KINDS[n % KINDS.length]!;
    const bridge = kind === 'bridge' ? (n % 5 === 0 ? TOPO.foreignBridge : TOPO.vifdBridges[n % 2]!) : undefined;
    out.push(makeBinding(TOPO, n, kind, { mtu: [1400, 1450, 1500][n % 3]!, ...(bridge ? { bridge } : {}) }));
  }
  return out;
}

export function writeBindings(dirs: VifdDirs, bindings: readonly ChaosBinding[]): void {
  for (const b of bindings) writeBinding(dirs, b.file, b.doc);
}

export function removeBindings(dirs: VifdDirs, bindings: readonly ChaosBinding[]): void {
  for (const b of bindings) unlinkSync(join(dirs.desired, b.file));
}

/** What is still wrong in the namespace (empty: converged, nothing leaked). */
export function hostProblems(netns: string, bindings: readonly ChaosBinding[], foreign: ReadonlySet<string> = new Set()): string[] {
  const r = check({
    bindings,
    links: linksIn(netns),
    ovs: undefined,
    topo: TOPO,
    foreignNames: new Set([TOPO.foreignBridge, TOPO.uplink, `${TOPO.uplink}p`, 'lo', ...foreign]),
    foreignOvsPorts: new Set(),
    full: true,
  });
  return [...r.problems, ...r.leaks.map((l) => `leak ${l}`), ...r.duplicates];
}

/** name → ifindex of every link in the namespace. */
export function ifindexes(netns: string): Map<string, number> {
  return new Map([...linksIn(netns)].map(([name, l]) => [name, l.ifindex]));
}
