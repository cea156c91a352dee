// What the chaos harness wants on the host (the bindings it wrote) and the
// independent check of the namespace against it: every desired device as
// the contract says, nothing owned beyond that (leaks), no duplicate OVS
// port, and foreign devices exactly as they were.
import { PortBindingSchema, type PortBinding } from '../../../src/desired/schema.js';
import { ipMacvtapMode, resolveSpec, type BindingSpec } from '../../../src/desired/spec.js';
import type { IpLinkJson as Link } from '../../helpers/netns.js';
import type { OvsView } from './ovs.js';

export const VIFD_GROUP = '4242';
export const DOOMED_GROUP = '4243';

export type VifKind = 'bridge' | 'ovs' | 'ovs-hybrid' | 'qbg' | 'qbh';
export const ALL_KINDS: readonly VifKind[] = ['bridge', 'ovs', 'ovs-hybrid', 'qbg', 'qbh'];

export interface ChaosBinding {
  n: number;
  kind: VifKind;
  doc: PortBinding;
  spec: BindingSpec;
  file: string;
}

export interface Topology {
  /** Linux bridges vifd creates (shared). */
  vifdBridges: string[];
  /** An operator's Linux bridge some bindings use; vifd must not change it. */
  foreignBridge: string;
  /** OVS bridge (created by the harness, netdev datapath). */
  ovsBridge: string;
  /** veth end used as macvtap uplink. */
  uplink: string;
  /** Run tag: keeps UUIDs (and so default names) unique per run. */
  tag: number;
}

export function portUuid(tag: number, n: number): string {
  const head = ((tag & 0xff) * 0x1000000 + n).toString(16).padStart(8, '0');
  return `${head}-c0a5-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

export function macOf(tag: number, n: number): string {
  const b = [0xfa, 0x16, tag & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

export function makeDoc(topo: Topology, n: number, kind: VifKind, opts: { mtu?: number; bridge?: string; tap?: string }): PortBinding {
  const port = portUuid(topo.tag, n);
  const base: Record<string, unknown> = {
    apiVersion: 'vifd/v1',
    kind: 'PortBinding',
    port,
    instance: `${(0xb0000000 + n).toString(16)}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`,
    mac: macOf(topo.tag, n),
  };
  if (opts.mtu !== undefined) base['mtu'] = opts.mtu;
  switch (kind) {
    case 'bridge':
      base['vif'] = { type: 'bridge', bridge: opts.bridge ?? topo.vifdBridges[0], ...(opts.tap ? { tap: opts.tap } : {}) };
      break;
    case 'ovs':
    case 'ovs-hybrid':
      base['vif'] = { type: 'ovs', bridge: topo.ovsBridge, hybrid: kind === 'ovs-hybrid', datapathType: 'netdev', profile: { profileId: `chaos-${n}` } };
      break;
    case 'qbg':
      base['vif'] = {
        type: '802.1qbg', device: topo.uplink, mode: 'vepa',
        profile: { managerId: 12, typeId: 1193046, typeIdVersion: 1, instanceId: port },
      };
      break;
    case 'qbh':
      base['vif'] = { type: '802.1qbh', device: topo.uplink, mode: 'bridge', profile: { profileId: `chaos-profile-${n % 7}` } };
      break;
  }
  return PortBindingSchema.parse(base);
}

export function makeBinding(topo: Topology, n: number, kind: VifKind, opts: { mtu?: number; bridge?: string; tap?: string }): ChaosBinding {
  const doc = makeDoc(topo, n, kind, opts);
  return { n, kind, doc, spec: resolveSpec(doc), file: `chaos-${n}.json` };
}

/** Devices whose state the harness compares before and after: not vifd's. */
export interface ForeignDevice {
  name: string;
  ifindex: number;
  mtu: number;
  address: string | undefined;
  master: string | undefined;
  flags: string;
  group: string | undefined;
  ifalias: string | undefined;
}

/** Carrier follows whatever is plugged in; everything else is configuration. */
const CARRIER_FLAGS = new Set(['LOWER_UP', 'NO-CARRIER', 'M-DOWN', 'DORMANT']);

export function foreignState(link: Link): ForeignDevice {
  return {
    name: link.ifname,
    ifindex: link.ifindex,
    mtu: link.mtu,
    address: link.address,
    master: link.master,
    flags: link.flags.filter((f) => !CARRIER_FLAGS.has(f)).sort().join(','),
    group: link.group,
    ifalias: link.ifalias,
  };
}

export function foreignDiff(before: ForeignDevice, link: Link | undefined): string[] {
  if (!link) return [`${before.name}: deleted`];
  const now = foreignState(link);
  const out: string[] = [];
  for (const key of Object.keys(before) as (keyof ForeignDevice)[]) {
    if (before[key] !== now[key]) out.push(`${before.name}: ${key} ${String(before[key])} -> ${String(now[key])}`);
  }
  return out;
}

export interface CheckInput {
  bindings: Iterable<ChaosBinding>;
  links: ReadonlyMap<string, Link>;
  ovs: OvsView | undefined;
  topo: Topology;
  /** Names of foreign devices (never counted as leaks, never expected to carry marks). */
  foreignNames: ReadonlySet<string>;
  /** OVS ports that are not vifd's (bridge-local ports, an operator's port). */
  foreignOvsPorts: ReadonlySet<string>;
  /** Full check: also leaks and duplicates over the whole namespace. */
  full: boolean;
  /** vifd's devices that may exist without being required (not leaks). */
  allowedOwned?: ReadonlySet<string>;
}

export interface CheckResult {
  problems: string[];
  leaks: string[];
  duplicates: string[];
}

const isUp = (l: Link) => l.flags.includes('UP');
const kindOf = (l: Link) => l.linkinfo?.info_kind;
/** The userspace datapath leaves OVS ports without a kernel master; the kernel one uses ovs-system. */
const noLinuxMaster = (l: Link) => l.master === undefined || l.master === 'ovs-system';

export function check(input: CheckInput): CheckResult {
  const { links, topo } = input;
  const problems: string[] = [];
  const expectedOwned = new Set<string>();
  const expectedOvs = new Map<string, ChaosBinding>();
  const p = (b: ChaosBinding, what: string) => problems.push(`${b.kind}#${b.n} ${what}`);
  const marked = (b: ChaosBinding, l: Link) => {
    if (l.group !== VIFD_GROUP) p(b, `${l.ifname} group ${l.group}`);
    if (l.ifalias !== `vifd:port:${b.spec.port}`) p(b, `${l.ifname} alias ${l.ifalias}`);
  };
  for (const b of input.bindings) {
    const spec = b.spec;
    if (spec.sharedBridge) {
      const br = links.get(spec.sharedBridge);
      if (spec.sharedBridge !== topo.foreignBridge) expectedOwned.add(spec.sharedBridge);
      if (!br) p(b, `bridge ${spec.sharedBridge} missing`);
      else {
        if (kindOf(br) !== 'bridge') p(b, `${br.ifname} is ${kindOf(br)}`);
        if (!isUp(br)) p(b, `${br.ifname} down`);
        if (spec.sharedBridge !== topo.foreignBridge && (br.group !== VIFD_GROUP || br.ifalias !== 'vifd:bridge')) p(b, `${br.ifname} not marked`);
      }
    }
    for (const d of spec.links) {
      expectedOwned.add(d.name);
      const l = links.get(d.name);
      if (!l) {
        p(b, `${d.name} missing`);
        continue;
      }
      marked(b, l);
      switch (d.kind) {
        case 'tap':
          if (kindOf(l) !== 'tun') p(b, `${d.name} kind ${kindOf(l)}`);
          if (l.address !== d.mac) p(b, `${d.name} mac ${l.address}`);
          if (d.mtu !== undefined && l.mtu !== d.mtu) p(b, `${d.name} mtu ${l.mtu}`);
          if (d.master !== undefined ? l.master !== d.master : !noLinuxMaster(l)) p(b, `${d.name} master ${l.master}`);
          if (!isUp(l)) p(b, `${d.name} down`);
          break;
        case 'bridge':
          if (kindOf(l) !== 'bridge') p(b, `${d.name} kind ${kindOf(l)}`);
          if (!isUp(l)) p(b, `${d.name} down`);
          break;
        case 'veth': {
          expectedOwned.add(d.peer);
          if (kindOf(l) !== 'veth' || l.link !== d.peer) p(b, `${d.name} kind ${kindOf(l)} peer ${l.link}`);
          if (d.mtu !== undefined && l.mtu !== d.mtu) p(b, `${d.name} mtu ${l.mtu}`);
          if (d.master !== undefined && l.master !== d.master) p(b, `${d.name} master ${l.master}`);
          if (!isUp(l)) p(b, `${d.name} down`);
          const peer = links.get(d.peer);
          if (!peer) {
            p(b, `${d.peer} missing`);
            break;
          }
          marked(b, peer);
          if (d.mtu !== undefined && peer.mtu !== d.mtu) p(b, `${d.peer} mtu ${peer.mtu}`);
          if (!noLinuxMaster(peer)) p(b, `${d.peer} master ${peer.master}`);
          if (!isUp(peer)) p(b, `${d.peer} down`);
          break;
        }
        case 'macvtap': {
          if (kindOf(l) !== 'macvtap' || l.link !== d.lower) p(b, `${d.name} kind ${kindOf(l)} on ${l.link}`);
          const mode = l.linkinfo?.info_data?.['mode'];
          if (mode !== ipMacvtapMode(d.mode)) p(b, `${d.name} mode ${String(mode)}`);
          if (l.address !== d.mac.toLowerCase()) p(b, `${d.name} mac ${l.address}`);
          if (d.mtu !== undefined && l.mtu !== d.mtu) p(b, `${d.name} mtu ${l.mtu}`);
          // Up only once the port profile is associated: not checked here.
          break;
        }
      }
    }
    if (spec.ovsPort) {
      expectedOvs.set(spec.ovsPort.name, b);
      if (!input.ovs) p(b, 'no OVS view');
      else {
        const { bridge, name, externalIds } = spec.ovsPort;
        if (!(input.ovs.bridges.get(bridge) ?? []).includes(name)) p(b, `OVS port ${name} not on ${bridge}`);
        const ifaces = input.ovs.interfaces.get(name) ?? [];
        if (ifaces.length !== 1) p(b, `OVS interface ${name} x${ifaces.length}`);
        for (const iface of ifaces) {
          for (const [k, v] of Object.entries(externalIds)) {
            if (iface.externalIds[k] !== v) p(b, `OVS ${name} external_ids:${k}=${iface.externalIds[k]}`);
          }
        }
      }
    }
  }
  const leaks: string[] = [];
  const duplicates: string[] = [];
  if (input.full) {
    // The rule: a bridge of vifd's holding a device vifd does not own is kept until it is empty.
    const holdsForeign = new Set<string>();
    for (const l of links.values()) if (l.master && input.foreignNames.has(l.ifname)) holdsForeign.add(l.master);
    for (const l of links.values()) {
      if (expectedOwned.has(l.ifname) || input.foreignNames.has(l.ifname) || input.allowedOwned?.has(l.ifname)) continue;
      if (kindOf(l) === 'bridge' && holdsForeign.has(l.ifname)) continue;
      if (l.group === VIFD_GROUP || l.group === DOOMED_GROUP || l.ifalias?.startsWith('vifd:')) leaks.push(`${l.ifname} (${kindOf(l)}, group ${l.group}, ${l.ifalias})`);
    }
    if (input.ovs) {
      const ifaceIds = new Map<string, string[]>();
      for (const [bridge, ports] of input.ovs.bridges) {
        for (const port of ports) {
          if (port === bridge || input.foreignOvsPorts.has(port) || expectedOvs.has(port)) continue;
          leaks.push(`OVS port ${port} on ${bridge}`);
        }
      }
      for (const [name, refs] of input.ovs.portRefs) if (refs > 1) duplicates.push(`OVS port ${name} on ${refs} bridges`);
      for (const [name, ifaces] of input.ovs.interfaces) {
        if (ifaces.length > 1) duplicates.push(`OVS interface ${name} x${ifaces.length}`);
        for (const iface of ifaces) {
          const id = iface.externalIds['iface-id'];
          if (id && !input.foreignOvsPorts.has(name)) ifaceIds.set(id, [...(ifaceIds.get(id) ?? []), name]);
        }
      }
      for (const [id, names] of ifaceIds) if (names.length > 1) duplicates.push(`iface-id ${id} on ${names.join(', ')}`);
    }
  }
  return { problems, leaks, duplicates };
}

/** Device names a binding's check needs (for a cheap, targeted probe). */
export function namesOf(b: ChaosBinding): string[] {
  const names = b.spec.links.flatMap((d) => (d.kind === 'veth' ? [d.name, d.peer] : [d.name]));
  if (b.spec.sharedBridge) names.push(b.spec.sharedBridge);
  return names;
}
