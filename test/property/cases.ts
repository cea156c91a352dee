// Random cases for the planner's property suite: a desired state drawn from
// small pools of names (so that names collide: a tap named like its own qvo,
// a bridge named like another port's qbr, an operator's device on a name vifd
// wants) and a host made of foreign devices, what an earlier vifd run left,
// and faults applied to that (devices deleted, downed, left in the doomed
// group or unmarked by a kill, operator devices enslaved into vifd's bridges,
// foreign OVS ports). Plain data, so fast-check shrinks and prints it.
import fc from 'fast-check';
import { defaultDeviceName } from '../../src/desired/names.js';
import type { PortBinding } from '../../src/desired/schema.js';
import { DesiredStore } from '../../src/desired/store.js';
import { DEFAULT_OWNERSHIP } from '../../src/model/ownership.js';
import { OVS_OWNER_KEY, OVS_PORT_KEY } from '../../src/model/ownership.js';
import { ModelHost } from '../support/model-host.js';
import type { ModelKind } from '../support/model-kernel.js';
import { keysNow, runRound, type Driver } from '../support/rounds.js';

export const PORTS = [0, 1, 2, 3].map((n) => `${n}${n}${n}${n}${n}${n}${n}${n}-${n}${n}${n}${n}-4${n}${n}${n}-8${n}${n}${n}-${String(n).repeat(12)}`);
const dn = (prefix: string, p: number) => defaultDeviceName(prefix, PORTS[p]!);

/** Every device name a case may use: defaults of every port, and a few shared ones. */
export const NAMES = [
  ...[0, 1, 2, 3].flatMap((p) => ['tap', 'qbr', 'qvb', 'qvo', 'mvt'].map((x) => dn(x, p))),
  'tapA', 'tapB', 'brL0', 'brL1', 'opX', 'opY',
];
const LINUX_BRIDGES = ['brL0', 'brL1', dn('qbr', 1), dn('qbr', 2)];
const OVS_BRIDGES = ['br-int', 'br-ex'];
const UPLINKS = ['up0', 'up1', 'up2']; // up2 never exists

export type Kind = 'bridge' | 'ovs' | 'ovs-hybrid' | 'qbg' | 'qbh';

export interface BindingCase {
  port: number;
  kind: Kind;
  /** Index into a per-kind name choice: 0 = default name. */
  tap: number;
  bridge: number;
  mtu: number;
  mode: number;
}

function tapChoice(b: BindingCase): string | undefined {
  const p = b.port;
  return [undefined, undefined, 'tapA', 'tapB', dn('qvo', p), dn('qbr', (p + 1) % 4), 'brL0', dn('tap', (p + 1) % 4)][b.tap % 8];
}

export function bindingOf(b: BindingCase): PortBinding {
  const port = PORTS[b.port]!;
  const mac = `fa:16:3e:00:0${b.port}:0${b.tap % 8}`;
  const mtu = [undefined, undefined, 1400, 9000][b.mtu % 4];
  const tap = tapChoice(b);
  const base = { apiVersion: 'vifd/v1' as const, kind: 'PortBinding' as const, port, mac, ...(mtu ? { mtu } : {}) };
  switch (b.kind) {
    case 'bridge':
      return { ...base, vif: { type: 'bridge', bridge: LINUX_BRIDGES[b.bridge % LINUX_BRIDGES.length]!, ...(tap ? { tap } : {}) } };
    case 'ovs':
    case 'ovs-hybrid':
      return { ...base, vif: { type: 'ovs', bridge: OVS_BRIDGES[b.bridge % 2]!, hybrid: b.kind === 'ovs-hybrid', datapathType: 'netdev', ...(tap ? { tap } : {}), profile: {} } };
    case 'qbg':
      return { ...base, vif: { type: '802.1qbg', device: UPLINKS[b.bridge % 3]!, mode: (['vepa', 'bridge', 'private'] as const)[b.mode % 3], ...(b.tap % 3 === 1 ? { macvtap: 'tapA' } : {}), profile: { managerId: 1, typeId: 2, typeIdVersion: 1, instanceId: '9e5c6c1a-1c41-4c1d-9a57-0f9f6a2b3c4d' } } };
    case 'qbh':
      return { ...base, vif: { type: '802.1qbh', device: UPLINKS[b.bridge % 3]!, mode: (['passthrough', 'private', 'vepa', 'bridge'] as const)[b.mode % 4], ...(b.tap % 3 === 1 ? { macvtap: 'tapA' } : {}), profile: { profileId: 'prof' } } };
  }
}

export const bindingCase: fc.Arbitrary<BindingCase> = fc.record({
  port: fc.nat(3),
  kind: fc.constantFrom<Kind>('bridge', 'ovs', 'ovs-hybrid', 'qbg', 'qbh'),
  tap: fc.nat(7),
  bridge: fc.nat(3),
  mtu: fc.nat(3),
  mode: fc.nat(3),
});

export interface ForeignDevice {
  name: number;
  kind: ModelKind;
  /** veth: its peer's name. */
  peer: number;
  /** Index into the foreign bridges made so far (-1: none). */
  master: number;
  up: boolean;
  group: number;
}

export const foreignDevice: fc.Arbitrary<ForeignDevice> = fc.record({
  name: fc.nat(NAMES.length - 1),
  kind: fc.constantFrom<ModelKind>('bridge', 'tap', 'veth', 'dummy'),
  peer: fc.nat(NAMES.length - 1),
  master: fc.integer({ min: -1, max: 2 }),
  up: fc.boolean(),
  group: fc.constantFrom(0, 0, 7),
});

export type Fault =
  | { op: 'delete' | 'down' | 'doom' | 'unmark' | 'nomaster' | 'enslave-foreign'; at: number }
  | { op: 'ovs-foreign-port' | 'ovs-delete-port'; at: number };

export const fault: fc.Arbitrary<Fault> = fc.record({
  op: fc.constantFrom('delete', 'down', 'doom', 'unmark', 'nomaster', 'enslave-foreign', 'ovs-foreign-port', 'ovs-delete-port'),
  at: fc.nat(40),
}) as fc.Arbitrary<Fault>;

export interface Case {
  foreign: ForeignDevice[];
  /** What an earlier vifd run converged to (then faults hit it). */
  earlier: BindingCase[];
  faults: Fault[];
  desired: BindingCase[];
  /** Ports whose association holds (their macvtaps go up). */
  associated: number[];
  /** A permutation seed for the key order. */
  order: number;
  /** OVSDB unreachable during the round under test. */
  ovsDown: boolean;
}

export const caseArb: fc.Arbitrary<Case> = fc.record({
  foreign: fc.array(foreignDevice, { maxLength: 5 }),
  earlier: fc.array(bindingCase, { maxLength: 4 }),
  faults: fc.array(fault, { maxLength: 4 }),
  desired: fc.array(bindingCase, { maxLength: 4 }),
  associated: fc.uniqueArray(fc.nat(3), { maxLength: 4 }),
  order: fc.nat(),
  ovsDown: fc.oneof({ arbitrary: fc.constant(false), weight: 4 }, { arbitrary: fc.constant(true), weight: 1 }),
});

export function storeOf(bindings: readonly BindingCase[]): DesiredStore {
  const store = new DesiredStore();
  bindings.forEach((b, i) => store.set(`file:${i}`, { ok: true, bindings: [bindingOf(b)] }));
  return store;
}

const G = DEFAULT_OWNERSHIP.group;

/** Builds the host of a case: foreign devices, an earlier run, faults. */
export async function hostOf(c: Case): Promise<Driver> {
  const host = new ModelHost();
  const k = host.kernel;
  for (const u of ['up0', 'up1']) k.add({ name: u, kind: 'dummy', up: true });
  host.ovsdb.addBridge('br-int'); // an operator's OVS bridge
  const foreignBridges: string[] = [];
  for (const f of c.foreign) {
    const name = NAMES[f.name]!;
    if (k.links.has(name)) continue;
    const master = f.kind !== 'bridge' && f.master >= 0 ? foreignBridges[f.master] : undefined;
    if (f.kind === 'veth') {
      const peer = NAMES[f.peer]!;
      if (peer === name || k.links.has(peer)) continue;
      k.add({ name, kind: 'veth', link: peer, up: f.up, group: f.group, master });
      k.add({ name: peer, kind: 'veth', link: name, group: f.group });
      continue;
    }
    k.add({ name, kind: f.kind, up: f.up, group: f.group, master });
    if (f.kind === 'bridge') foreignBridges.push(name);
  }
  const d: Driver = { host, store: storeOf(c.earlier), adoptable: new Set(), associated: new Set(c.associated.map((p) => PORTS[p]!)) };
  for (let i = 0; i < 3; i++) {
    const r = await runRound(d, await keysNow(d));
    if (r.plan.linkActions.length === 0 && !r.plan.ovsChanges) break;
  }
  for (const f of c.faults) applyFault(d, f);
  return d;
}

function applyFault(d: Driver, f: Fault): void {
  const k = d.host.kernel;
  const ours = [...k.links.values()].filter((l) => l.group === G).sort((a, b) => a.name.localeCompare(b.name));
  const pick = ours.length > 0 ? ours[f.at % ours.length] : undefined;
  const ovs = d.host.ovsdb.snapshot();
  switch (f.op) {
    case 'delete':
      if (pick) k.remove(pick.name);
      return;
    case 'down':
      if (pick) pick.up = false;
      return;
    case 'doom': // killed between moving it to the doomed group and deleting it
      if (pick) pick.group = DEFAULT_OWNERSHIP.doomedGroup;
      return;
    case 'unmark': // killed between creating it and marking it: only the journal knows
      if (pick && pick.kind !== 'veth') {
        pick.group = 0;
        pick.alias = undefined;
        d.adoptable.add(pick.name);
      }
      return;
    case 'nomaster':
      if (pick) pick.master = undefined;
      return;
    case 'enslave-foreign': {
      // An operator plugs their own device into a bridge vifd made.
      const bridges = ours.filter((l) => l.kind === 'bridge');
      const bridge = bridges[f.at % Math.max(1, bridges.length)];
      const name = ['opX', 'opY'].find((n) => !k.links.has(n));
      if (bridge && name) k.add({ name, kind: 'dummy', master: bridge.name, up: true });
      return;
    }
    case 'ovs-foreign-port': {
      const bridges = [...ovs.bridges.values()].filter((b) => b.externalIds[OVS_OWNER_KEY] === 'vifd');
      const bridge = bridges[f.at % Math.max(1, bridges.length)];
      if (bridge && !ovs.ports.has('opP')) d.host.ovsdb.addPort(bridge.name, 'opP');
      return;
    }
    case 'ovs-delete-port': {
      const ports = [...ovs.ports.values()].filter((p) => p.externalIds[OVS_PORT_KEY] !== undefined);
      const port = ports[f.at % Math.max(1, ports.length)];
      if (port?.bridge) void d.host.ovsdb.transactNow([{ op: 'mutate', table: 'Bridge', where: [['name', '==', port.bridge]], mutations: [['ports', 'delete', ['set', [['uuid', port.uuid]]]]] }]);
      return;
    }
  }
}

/** A deterministic permutation of `keys` from `seed`. */
export function permute<T>(keys: readonly T[], seed: number): T[] {
  const out = [...keys];
  let s = seed >>> 0 || 1;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) >>> 0;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
