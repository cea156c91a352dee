// The chaos run: a throwaway namespace, the real vifd, bindings of every
// type that works, foreign devices; random faults (seeded), each followed by
// a bounded wait until the namespace matches the desired state again.
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { defaultDeviceName } from '../../../src/desired/names.js';
import type { IpLinkJson } from '../../helpers/netns.js';
import { Netns } from '../netns.js';
import { Prng } from '../prng.js';
import { cmdline, descendants } from '../procs.js';
import { VifdChild } from '../vifd-child.js';
import { ChaosOvs, type OvsView } from './ovs.js';
import { formatTable, type FaultRecord } from './report.js';
import {
  ALL_KINDS, check, foreignDiff, foreignState, makeBinding, namesOf, portUuid,
  type ChaosBinding, type ForeignDevice, type Topology, type VifKind,
} from './world.js';

export interface ChaosOptions {
  seconds: number;
  seed: number;
  bindings: number;
  /** Kinds to use, or undefined: detect which ones vifd handles (a trial plug each). */
  kinds?: VifKind[];
  /** Stop after this many faults even if time remains. */
  maxFaults?: number;
  /** Bound on the repair of one fault (ms); desired changes and restarts get more. */
  boundMs?: number;
  netnsName?: string;
  keep?: boolean;
  verbose?: boolean;
  log?: (line: string) => void;
}

export interface ChaosResult {
  ok: boolean;
  table: string;
  records: FaultRecord[];
  kinds: VifKind[];
  fingerprint: string;
  leaks: string[];
  duplicates: string[];
  foreignChanges: string[];
  unrepaired: number;
  kills: number;
  recreatedOnRestart: string[];
  failures: string[];
  root: string;
}

type FaultKind = string;
interface Fault {
  kind: FaultKind;
  /** What it hits (for the fingerprint and the log). */
  target: string;
  /** Bindings worth a cheap targeted probe before the full check; none: full checks only. */
  probe: ChaosBinding[];
  apply: () => Promise<void>;
  /** Repair bound for this fault (default: the run's bound). */
  boundMs?: number;
  /** A check of its own once the host converged after it (run only when the fault ran on its own). */
  verify?: () => Promise<void>;
}

const cleanups: Array<() => Promise<void>> = [];

/** Undoes whatever a run set up (for SIGINT): processes, OVS, namespace, dirs. */
export async function cleanupAll(): Promise<void> {
  while (cleanups.length > 0) {
    const fn = cleanups.pop()!;
    await fn().catch(() => undefined);
  }
}

const MTUS = [1400, 1450, 1500] as const;

export async function runChaos(o: ChaosOptions): Promise<ChaosResult> {
  const log = o.log ?? ((line: string) => process.stdout.write(line + '\n'));
  const rng = new Prng(o.seed);
  const boundMs = o.boundMs ?? 10_000;
  const tag = (Math.imul(o.seed >>> 0, 2654435761) >>> 24) & 0xff;
  const nsName = o.netnsName ?? `vifdchaos-${o.seed}-${randomBytes(2).toString('hex')}`;
  const root = mkdtempSync(join(tmpdir(), 'vifd-chaos-'));
  const dirs = { desired: join(root, 'desired'), state: join(root, 'state'), ovs: join(root, 'ovs'), log: join(root, 'vifd.log') };
  mkdirSync(dirs.desired);
  // The state directory on a small tmpfs of its own: a fault fills it.
  mkdirSync(dirs.state);
  let stateTmpfs = false;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64m,mode=0700', 'vifd-chaos-state', dirs.state]);
    stateTmpfs = true;
  } catch {
    // no mount (not root?): the state-full fault is skipped
  }
  const topo: Topology = { vifdBridges: ['brq-chaos-a', 'brq-chaos-b', 'brq-chaos-c'], foreignBridge: 'brforeign', ovsBridge: 'br-chaos', uplink: 'uplnk0', tag };
  const failures: string[] = [];
  const records: FaultRecord[] = [];
  const sequence: string[] = [];
  let ns: Netns | undefined;
  let ovs: ChaosOvs | undefined;
  let vifd: VifdChild | undefined;
  let ok = false;
  const cleanup = async () => {
    await vifd?.kill().catch(() => undefined);
    ovs?.stop();
    ns?.destroy();
    if (stateTmpfs) {
      try {
        execFileSync('umount', ['-l', dirs.state]);
      } catch {
        // already gone
      }
    }
    if (!o.keep && ok) rmSync(root, { recursive: true, force: true });
  };
  cleanups.push(cleanup);
  try {
    ns = Netns.create(nsName);
    const wantsOvs = o.kinds ? o.kinds.some((k) => k.startsWith('ovs')) : true;
    if (wantsOvs && existsSync('/usr/sbin/ovs-vswitchd')) {
      mkdirSync(dirs.ovs);
      ovs = ChaosOvs.start(nsName, dirs.ovs);
      await ovs.vsctl('add-br', topo.ovsBridge, '--', 'set', 'Bridge', topo.ovsBridge, 'datapath_type=netdev');
      // MTUs pinned, as an operator would: else OVS sets internal ports to the smallest port MTU.
      await ovs.vsctl('set', 'Interface', topo.ovsBridge, 'mtu_request=1500');
      await ovs.vsctl('add-port', topo.ovsBridge, 'fport0', '--', 'set', 'Interface', 'fport0', 'type=internal', 'mtu_request=1500', 'external_ids:owner=operator');
    } else if (wantsOvs) {
      log('note: no ovs-vswitchd: OVS kinds skipped');
    }

    // Foreign devices: vifd must use some of them and change none.
    const conflictPort = portUuid(tag, 0);
    const conflictTap = defaultDeviceName('tap', conflictPort);
    await ns.ip('link', 'add', topo.foreignBridge, 'type', 'bridge', 'stp_state', '0');
    // MTU set explicitly, as an operator does: a bridge whose MTU nobody set
    // follows its smallest port (a kernel rule, not something vifd does).
    await ns.ip('link', 'set', topo.foreignBridge, 'mtu', '1499');
    await ns.ip('link', 'set', topo.foreignBridge, 'address', '02:00:00:c0:a5:01', 'mtu', '1500', 'up');
    await ns.ip('tuntap', 'add', 'dev', 'tapforeign', 'mode', 'tap');
    await ns.ip('link', 'set', 'tapforeign', 'master', topo.foreignBridge, 'up');
    await ns.ip('link', 'add', 'vethfa', 'type', 'veth', 'peer', 'name', 'vethfb');
    await ns.ip('link', 'set', 'vethfa', 'up');
    await ns.ip('link', 'set', 'vethfb', 'up');
    await ns.ip('link', 'add', 'brq-chaos-z', 'type', 'bridge'); // named like vifd's, group 0
    await ns.ip('link', 'set', 'brq-chaos-z', 'up');
    await ns.ip('tuntap', 'add', 'dev', conflictTap, 'mode', 'tap'); // the name a binding wants
    await ns.ip('link', 'add', topo.uplink, 'type', 'veth', 'peer', 'name', `${topo.uplink}p`);
    await ns.ip('link', 'set', topo.uplink, 'up');
    await ns.ip('link', 'set', `${topo.uplink}p`, 'up');
    await sleep(200);
    const initialLinks = await ns.links();
    const foreign = new Map<string, ForeignDevice>();
    for (const link of initialLinks.values()) foreign.set(link.ifname, foreignState(link));
    const foreignNames = new Set(foreign.keys());
    const foreignOvsPorts = new Set(['fport0']);
    const foreignOvsIds = ovs ? JSON.stringify((await ovs.view()).interfaces.get('fport0')) : '';
    const foreignChanges = new Set<string>();
    const allowedOwned = new Set<string>();
    /** Devices an operator put into vifd's bridges (foreign; never to be changed), by the bridge they are in. */
    const operatorDevices = new Map<string, string>();
    const holdsOperatorDevice = (bridge: string) => [...operatorDevices.values()].includes(bridge);
    let operatorSeq = 0;

    // The model: bindings the harness wrote.
    const desired = new Map<number, ChaosBinding>();
    const writeBinding = (b: ChaosBinding) => {
      const tmp = join(dirs.desired, `.${b.file}.tmp`);
      writeFileSync(tmp, JSON.stringify(b.doc, null, 2));
      renameSync(tmp, join(dirs.desired, b.file));
      desired.set(b.n, b);
    };
    const removeBinding = (b: ChaosBinding) => {
      unlinkSync(join(dirs.desired, b.file));
      desired.delete(b.n);
    };

    const ovsView = async (): Promise<OvsView | undefined> => (ovs ? ovs.view() : undefined);
    const fullCheck = async () => {
      const [links, view] = await Promise.all([ns!.links(), ovsView()]);
      const result = check({ bindings: desired.values(), links, ovs: view, topo, foreignNames, foreignOvsPorts, full: true, allowedOwned });
      for (const dev of foreign.values()) for (const change of foreignDiff(dev, links.get(dev.name))) foreignChanges.add(change);
      if (ovs && view && JSON.stringify(view.interfaces.get('fport0')) !== foreignOvsIds) foreignChanges.add('OVS fport0 changed');
      return { ...result, links, converged: result.problems.length === 0 && result.leaks.length === 0 && result.duplicates.length === 0 };
    };
    const probeCheck = async (bindings: ChaosBinding[]) => {
      const names = [...new Set(bindings.flatMap(namesOf))];
      const needsOvs = bindings.some((b) => b.spec.ovsPort);
      const [links, view] = await Promise.all([ns!.someLinks(names), needsOvs ? ovsView() : Promise.resolve(undefined)]);
      return check({ bindings, links, ovs: view, topo, foreignNames, foreignOvsPorts, full: false }).problems.length === 0;
    };

    /** Waits until the host matches the model; returns ms from t0, or undefined past the bound. */
    const awaitConvergence = async (t0: number, bound: number, probe: ChaosBinding[] = []): Promise<{ ms?: number; last: string[]; first?: string[] }> => {
      let last: string[] = [];
      let first: string[] | undefined;
      let probing = probe.length > 0;
      for (;;) {
        if (probing) {
          const probeOk = await probeCheck(probe).catch(() => false);
          if (probeOk) {
            const at = performance.now();
            const full = await fullCheck();
            if (full.converged) return { ms: at - t0, last: [], ...(first ? { first } : {}) };
            probing = false; // something else is still off: full checks from now on
            last = [...full.problems, ...full.leaks.map((l) => `leak ${l}`), ...full.duplicates];
            first ??= last;
          }
        } else {
          const at = performance.now();
          const full = await fullCheck();
          if (full.converged) return { ms: at - t0, last: [], ...(first ? { first } : {}) };
          last = [...full.problems, ...full.leaks.map((l) => `leak ${l}`), ...full.duplicates];
          first ??= last;
        }
        if (performance.now() - t0 > bound) return { last };
        if (!probing) await sleep(5);
      }
    };

    // Which kinds work: a trial plug of each (or the caller says).
    const ovsArgs = ovs ? ['--ovsdb', ovs.db, '--ovs-datapath', 'netdev'] : [];
    // The intent journal's fallback (while the state tmpfs is full) in the run's own dir.
    vifd = new VifdChild(['run', '--desired-dir', dirs.desired, '--state-dir', dirs.state, '--netns', nsName, ...ovsArgs], dirs.log, { RUNTIME_DIRECTORY: join(root, 'run') });
    vifd.start();
    let kinds: VifKind[];
    if (o.kinds) kinds = o.kinds.filter((k) => ovs || !k.startsWith('ovs'));
    else {
      kinds = ['bridge'];
      const candidates = ALL_KINDS.filter((k) => k !== 'bridge' && (ovs || !k.startsWith('ovs')));
      const trials = candidates.map((kind, i) => makeBinding(topo, 900_000 + i, kind, { mtu: 1450 }));
      for (const t of trials) writeBinding(t);
      const deadline = performance.now() + 15_000;
      const works = new Set<VifKind>();
      while (performance.now() < deadline && works.size < trials.length) {
        for (const t of trials) if (!works.has(t.kind) && (await probeCheck([t]).catch(() => false))) works.add(t.kind);
        await sleep(100);
      }
      for (const t of trials) removeBinding(t);
      kinds.push(...candidates.filter((k) => works.has(k)));
      const skipped = candidates.filter((k) => !works.has(k));
      if (skipped.length > 0) log(`note: skipped kinds vifd does not plug yet (trial failed): ${skipped.join(', ')}`);
      const cleaned = await awaitConvergence(performance.now(), 30_000);
      if (cleaned.ms === undefined) failures.push(`trial bindings not cleaned up: ${cleaned.last.slice(0, 5).join('; ')}`);
    }
    log(`chaos: netns ${nsName}, seed ${o.seed}, ${o.bindings} bindings of ${kinds.join(', ')}, ${o.seconds}s, state ${root}`);

    // Initial bindings, and a binding that collides with a foreign device.
    let nextN = 1;
    const newBinding = (): ChaosBinding => {
      const n = nextN++;
      const kind = kinds[n % kinds.length]!;
      const mtu = rng.pick([undefined, ...MTUS]);
      const bridge = kind === 'bridge' ? rng.weighted([...topo.vifdBridges.map((b) => [b, 2] as const), [topo.foreignBridge, 1] as const]) : undefined;
      return makeBinding(topo, n, kind, { ...(mtu ? { mtu } : {}), ...(bridge ? { bridge } : {}) });
    };
    const conflict = makeBinding(topo, 0, 'bridge', { bridge: topo.vifdBridges[0]! });
    // vifd keeps (and makes) the shared bridge of a binding whose tap is in
    // Conflict: it is still a desired user of that bridge, so not a leak.
    allowedOwned.add(topo.vifdBridges[0]!);
    writeFileSync(join(dirs.desired, conflict.file), JSON.stringify(conflict.doc));
    const t0 = performance.now();
    for (let i = 0; i < o.bindings; i++) writeBinding(newBinding());
    // A crash during the first convergence, then a restart.
    await sleep(rng.int(100, 1500));
    await vifd.kill();
    vifd.start();
    const initialBound = Math.max(60_000, o.bindings * 300);
    const initial = await awaitConvergence(t0, initialBound);
    await vifd.waitServing();
    records.push({ kind: 'initial+vifd-kill', ms: initial.ms, target: `${o.bindings} bindings` });
    if (initial.ms === undefined) failures.push(`initial convergence: ${initial.last.slice(0, 8).join('; ')}`);
    log(`initial convergence of ${o.bindings} bindings (vifd SIGKILLed once midway): ${initial.ms === undefined ? 'NOT CONVERGED' : `${(initial.ms / 1000).toFixed(2)}s`}`);

    // Fault builders.
    const live = () => [...desired.values()];
    const withTap = () => live().filter((b) => b.spec.links.some((d) => d.kind === 'tap'));
    const tapOf = (b: ChaosBinding) => b.spec.links.find((d) => d.kind === 'tap')!;
    const vethOf = (b: ChaosBinding) => b.spec.links.find((d) => d.kind === 'veth') as { name: string; peer: string; mtu?: number } | undefined;
    const users = (bridge: string) => live().filter((b) => b.spec.sharedBridge === bridge);
    const randomMac = () => `02:${[0, 0, 0, 0, 0].map(() => rng.int(0, 255).toString(16).padStart(2, '0')).join(':')}`;
    const ip = (...args: string[]) => async () => void (await ns!.ip(...args));
    const byKind = (...ks: VifKind[]) => live().filter((b) => ks.includes(b.kind));

    const deviceFault = (): Fault | undefined => {
      const options: Array<[string, number]> = [
        ['tap-delete', 3], ['tap-nomaster', 2], ['tap-down', 2], ['tap-mtu', 2], ['tap-mac', 2],
        ['bridge-delete', 1], ['bridge-down', 1],
      ];
      if (kinds.includes('ovs-hybrid')) options.push(['qbr-delete', 1], ['qbr-down', 1], ['veth-delete', 1], ['veth-nomaster', 1], ['veth-down', 1], ['veth-mtu', 1]);
      if (kinds.includes('qbg') || kinds.includes('qbh')) options.push(['macvtap-delete', 2], ['macvtap-mtu', 1], ['macvtap-mac', 1]);
      options.push(['foreign-enslave', 2]);
      if (operatorDevices.size > 0) options.push(['foreign-release', 1]);
      const kind = rng.weighted(options);
      switch (kind) {
        case 'foreign-enslave': {
          // An operator plugs a device of their own into a bridge vifd made
          // (shared or a hybrid binding's qbr): vifd must never release it,
          // and keeps the bridge while it holds it.
          const bridges = [
            ...topo.vifdBridges.filter((br) => users(br).length > 0),
            ...byKind('ovs-hybrid').map((b) => b.spec.links.find((d) => d.kind === 'bridge')!.name),
          ];
          if (bridges.length === 0) return undefined;
          const br = rng.pick(bridges);
          const name = `opd${operatorSeq++}`;
          return {
            kind, target: `${name} -> ${br}`, probe: [],
            apply: async () => {
              await ns!.ip('tuntap', 'add', 'dev', name, 'mode', 'tap'); // this kernel has no dummy driver
              await ns!.ip('link', 'set', name, 'master', br, 'up').catch(() => undefined); // the bridge may be going right now
              const link = (await ns!.links()).get(name);
              if (!link) return;
              foreign.set(name, foreignState(link));
              foreignNames.add(name);
              operatorDevices.set(name, br);
            },
          };
        }
        case 'foreign-release': {
          // The operator takes it out again: a bridge vifd kept for it must go once empty.
          const name = rng.pick([...operatorDevices.keys()]);
          return {
            kind, target: name, probe: [],
            apply: async () => {
              operatorDevices.delete(name);
              foreign.delete(name);
              foreignNames.delete(name);
              await ns!.ip('link', 'del', name);
            },
          };
        }
        case 'tap-delete': case 'tap-nomaster': case 'tap-down': case 'tap-mtu': case 'tap-mac': {
          let pool = withTap();
          if (kind === 'tap-nomaster') pool = pool.filter((b) => tapOf(b).master !== undefined);
          if (kind === 'tap-mtu') pool = pool.filter((b) => b.doc.mtu !== undefined);
          if (pool.length === 0) return undefined;
          const b = rng.pick(pool);
          const tap = tapOf(b).name;
          const args: Record<string, string[]> = {
            'tap-delete': ['link', 'del', tap],
            'tap-nomaster': ['link', 'set', tap, 'nomaster'],
            'tap-down': ['link', 'set', tap, 'down'],
            'tap-mtu': ['link', 'set', tap, 'mtu', String(b.doc.mtu === 1400 ? 1300 : 1400)],
            'tap-mac': ['link', 'set', tap, 'address', randomMac()],
          };
          return { kind, target: tap, probe: [b], apply: ip(...args[kind]!) };
        }
        case 'bridge-delete': case 'bridge-down': {
          // Deleting a bridge an operator device sits in would change that device ourselves.
          const inUse = topo.vifdBridges.filter((br) => users(br).length > 0 && (kind !== 'bridge-delete' || !holdsOperatorDevice(br)));
          if (inUse.length === 0) return undefined;
          const br = rng.pick(inUse);
          return { kind, target: br, probe: users(br), apply: kind === 'bridge-delete' ? ip('link', 'del', br) : ip('link', 'set', br, 'down') };
        }
        case 'qbr-delete': case 'qbr-down': case 'veth-delete': case 'veth-nomaster': case 'veth-down': case 'veth-mtu': {
          let pool = byKind('ovs-hybrid');
          if (kind === 'veth-mtu') pool = pool.filter((b) => b.doc.mtu !== undefined);
          if (kind === 'qbr-delete') pool = pool.filter((b) => !holdsOperatorDevice(b.spec.links.find((d) => d.kind === 'bridge')!.name));
          if (pool.length === 0) return undefined;
          const b = rng.pick(pool);
          const qbr = b.spec.links.find((d) => d.kind === 'bridge')!.name;
          const veth = vethOf(b)!;
          const args: Record<string, string[]> = {
            'qbr-delete': ['link', 'del', qbr],
            'qbr-down': ['link', 'set', qbr, 'down'],
            'veth-delete': ['link', 'del', rng.chance(0.5) ? veth.name : veth.peer],
            'veth-nomaster': ['link', 'set', veth.name, 'nomaster'],
            'veth-down': ['link', 'set', rng.chance(0.5) ? veth.name : veth.peer, 'down'],
            'veth-mtu': ['link', 'set', veth.peer, 'mtu', String(b.doc.mtu === 1400 ? 1300 : 1400)],
          };
          return { kind, target: args[kind]![2]!, probe: [b], apply: ip(...args[kind]!) };
        }
        case 'macvtap-delete': case 'macvtap-mtu': case 'macvtap-mac': {
          let pool = byKind('qbg', 'qbh');
          if (kind === 'macvtap-mtu') pool = pool.filter((b) => b.doc.mtu !== undefined);
          if (pool.length === 0) return undefined;
          const b = rng.pick(pool);
          const name = b.spec.links[0]!.name;
          const args: Record<string, string[]> = {
            'macvtap-delete': ['link', 'del', name],
            'macvtap-mtu': ['link', 'set', name, 'mtu', String(b.doc.mtu === 1400 ? 1300 : 1400)],
            'macvtap-mac': ['link', 'set', name, 'address', randomMac()],
          };
          return { kind, target: name, probe: [b], apply: ip(...args[kind]!) };
        }
      }
      return undefined;
    };

    const ovsFault = (): Fault | undefined => {
      if (!ovs) return undefined;
      const kind = rng.weighted([['ovs-port-del', 3], ['ovs-extids', 3], ['ovs-vswitchd-restart', 1]] as const);
      const pool = byKind('ovs', 'ovs-hybrid');
      if (kind === 'ovs-vswitchd-restart') {
        const down = rng.int(0, 300);
        return { kind, target: `down ${down}ms`, probe: [], apply: () => ovs!.killAndRestartVswitchd(down) };
      }
      if (pool.length === 0) return undefined;
      const b = rng.pick(pool);
      const name = b.spec.ovsPort!.name;
      if (kind === 'ovs-port-del') return { kind, target: name, probe: [b], apply: async () => void (await ovs!.vsctl('del-port', topo.ovsBridge, name)) };
      const key = rng.pick(['iface-id', 'attached-mac', 'iface-status', 'vm-uuid']);
      return { kind, target: `${name} ${key}`, probe: [b], apply: async () => void (await ovs!.vsctl('set', 'Interface', name, `external_ids:${key}=chaos-${rng.int(0, 1e6)}`)) };
    };

    const desiredFault = (): Fault | undefined => {
      const n = desired.size;
      const kind = rng.weighted([
        ['binding-add', n < o.bindings ? 3 : 1], ['binding-remove', n > o.bindings ? 3 : 1],
        ['binding-mtu', 2], ['binding-bridge', 2],
        ['dir-replace', 0.5], ['state-full', stateTmpfs ? 0.5 : 0], ['foreign-race', 1],
      ] as const);
      switch (kind) {
        case 'dir-replace': {
          // The desired directory moved away and a new one with the same
          // files put in its place (rm -rf; mkdir; cp): nothing is unplugged
          // or recreated.
          if (n === 0) return undefined;
          const probe = live();
          const old = `${dirs.desired}.old-${rng.int(0, 1e9)}`;
          let before = new Map<string, number>();
          return {
            kind, target: `${n} files`, probe,
            apply: async () => {
              before = ifindexes(await ns!.links());
              renameSync(dirs.desired, old);
              mkdirSync(dirs.desired);
              for (const f of readdirSync(old)) if (f.endsWith('.json')) writeFileSync(join(dirs.desired, f), readFileSync(join(old, f)));
              rmSync(old, { recursive: true, force: true });
            },
            verify: async () => {
              const after = ifindexes(await ns!.links());
              for (const [name, index] of before) if (after.has(name) && after.get(name) !== index) recreatedOnRestart.push(`${name} recreated by a directory replace`);
            },
          };
        }
        case 'state-full': {
          // The state disk fills up while a tap is deleted: the repair does
          // not wait for the disk; then the space comes back.
          const pool = live().filter((b) => b.spec.links.some((d) => d.kind === 'tap'));
          if (pool.length === 0) return undefined;
          const b = rng.pick(pool);
          const tap = b.spec.links.find((d) => d.kind === 'tap')!.name;
          const filler = join(dirs.state, '.chaos-fill');
          return {
            kind, target: tap, probe: [b],
            apply: async () => {
              try {
                execFileSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=1M'], { stdio: 'ignore' });
              } catch {
                // ENOSPC: full, as intended
              }
              await ns!.ip('link', 'del', tap);
              setTimeout(() => rmSync(filler, { force: true }), 1500).unref();
            },
          };
        }
        case 'foreign-race': {
          // Someone creates a device with a binding's tap name the moment it
          // is gone, racing vifd's recreate. Whoever wins, vifd must never mark
          // or change the racer's device; the harness then removes its own
          // device, and vifd plugs the binding again.
          const pool = live().filter((b) => b.spec.links.some((d) => d.kind === 'tap'));
          if (pool.length === 0) return undefined;
          const b = rng.pick(pool);
          const tap = b.spec.links.find((d) => d.kind === 'tap')!.name;
          return {
            kind, target: tap, probe: [b],
            apply: async () => {
              await ns!.ip('link', 'del', tap);
              let won = false;
              try {
                await ns!.ip('tuntap', 'add', 'dev', tap, 'mode', 'tap');
                won = true;
              } catch {
                // vifd was first
              }
              if (!won) return;
              raceWins.count++;
              await sleep(rng.int(20, 300));
              const link = (await ns!.someLinks([tap])).get(tap);
              if (link && (link.group === '4242' || link.ifalias !== undefined || link.master !== undefined || link.flags?.includes('UP'))) {
                foreignChanges.add(`racer's ${tap} taken over: group ${link.group} alias ${link.ifalias ?? '-'} master ${link.master ?? '-'}`);
              }
              await ns!.ip('link', 'del', tap).catch(() => undefined);
            },
          };
        }
        case 'binding-add': {
          const b = newBinding();
          return { kind, target: b.file, probe: [], apply: async () => writeBinding(b) };
        }
        case 'binding-remove': {
          if (n === 0) return undefined;
          const b = rng.pick(live());
          return { kind, target: b.file, probe: [], apply: async () => removeBinding(b) };
        }
        case 'binding-mtu': {
          if (n === 0) return undefined;
          const b = rng.pick(live());
          const mtu = rng.pick(MTUS.filter((m) => m !== b.doc.mtu));
          const c = makeBinding(topo, b.n, b.kind, { mtu, ...(b.spec.sharedBridge ? { bridge: b.spec.sharedBridge } : {}) });
          return { kind, target: `${b.file} mtu ${mtu}`, probe: [], apply: async () => writeBinding(c) };
        }
        case 'binding-bridge': {
          const pool = byKind('bridge');
          if (pool.length === 0) return undefined;
          const b = rng.pick(pool);
          const bridge = rng.pick([...topo.vifdBridges, topo.foreignBridge].filter((br) => br !== b.spec.sharedBridge));
          const c = makeBinding(topo, b.n, b.kind, { ...(b.doc.mtu ? { mtu: b.doc.mtu } : {}), bridge });
          return { kind, target: `${b.file} -> ${bridge}`, probe: [], apply: async () => writeBinding(c) };
        }
      }
    };

    const ifindexes = (links: Map<string, IpLinkJson>) => {
      const out = new Map<string, number>();
      for (const b of desired.values()) for (const name of namesOf(b)) {
        const l = links.get(name);
        if (l) out.set(name, l.ifindex);
      }
      return out;
    };
    const recreatedOnRestart: string[] = [];
    const raceWins = { count: 0 };

    const runFault = async (fault: Fault, label = fault.kind): Promise<void> => {
      sequence.push(`${label}:${fault.target}`);
      const wall = Date.now();
      await fault.apply();
      // The clock starts when the fault command returns (the kernel/OVSDB
      // acknowledged it): from then on the host is broken until vifd repairs it.
      const t = performance.now();
      const res = await awaitConvergence(t, fault.boundMs ?? boundMs, fault.probe);
      records.push({ kind: label, ms: res.ms, target: fault.target });
      if (res.ms !== undefined && label === fault.kind) await fault.verify?.();
      if (o.verbose) log(`  @${wall} ${label} ${fault.target}: ${res.ms === undefined ? 'NOT REPAIRED ' + res.last.slice(0, 3).join('; ') : `${res.ms.toFixed(1)}ms`}${res.first && res.ms !== undefined && res.ms > 150 ? ` (was: ${res.first.slice(0, 3).join('; ')})` : ''}`);
      if (res.ms === undefined) await settle(label, fault.target, res.last);
    };
    const settle = async (label: string, target: string, last: string[]) => {
      failures.push(`${label} ${target} not repaired within bound: ${last.slice(0, 5).join('; ')}`);
      log(`!! ${label} ${target} not repaired: ${last.slice(0, 5).join('; ')}`);
      await awaitConvergence(performance.now(), 30_000); // let it settle before the next fault
    };

    const vifdFault = async (): Promise<void> => {
      const kind = rng.weighted([['vifd-kill-idle', 1], ['vifd-kill-mid', 2], ['vifd-kill-down', 1], ['helper-kill', 1]] as const);
      if (kind === 'helper-kill') {
        // SIGKILL vifd's link event helper (the netlink stream helper, or
        // `ip monitor` without it), not vifd; once it has one again, break a
        // device: the repair needs the new one (and a re-dump of what was missed).
        const isEventHelper = (cmd: string) => cmd.includes(' --stream') || cmd.includes(' monitor ');
        const monitorOf = () => descendants(vifd!.pid!).filter((pid) => isEventHelper(cmdline(pid)));
        const before = monitorOf();
        const killed = vifd!.killHelpers(isEventHelper);
        // Decided by the poll that saw it: looking again can catch the new
        // helper inside its exec (the guard replacing itself with the helper),
        // where /proc/PID/cmdline reads empty. Both chaos failures of this
        // check were that: vifd had the helper back in about 100 ms.
        const deadline = performance.now() + 10_000;
        let restarted: number | undefined;
        while (restarted === undefined && performance.now() < deadline) {
          restarted = monitorOf().find((pid) => !before.includes(pid));
          if (restarted === undefined) await sleep(10);
        }
        if (restarted === undefined) {
          const seen = descendants(vifd!.pid!).map((pid) => `${pid}:${cmdline(pid).slice(0, 60)}`).join(' | ');
          failures.push(`link event helper not restarted within 10 s after killing ${killed.join(', ')} (vifd ${vifd!.pid}, event helpers before [${before.join(', ')}]; its processes now: ${seen || 'none'})`);
        }
        const inner = deviceFault();
        if (inner) await runFault(inner, `helper-kill+${inner.kind.startsWith('foreign') ? inner.kind : 'device'}`);
        return;
      }
      if (kind === 'vifd-kill-idle') {
        sequence.push(kind);
        const before = ifindexes(await ns!.links());
        await vifd!.kill();
        const t = performance.now();
        vifd!.start();
        await vifd!.waitServing();
        await waitStarted(t);
        const res = await awaitConvergence(t, 30_000);
        const after = ifindexes(await ns!.links());
        for (const [name, idx] of before) if (after.get(name) !== idx) recreatedOnRestart.push(`${name} ${idx} -> ${after.get(name)}`);
        records.push({ kind, ms: res.ms, target: '' });
        if (res.ms === undefined) await settle(kind, '', res.last);
        return;
      }
      if (kind === 'vifd-kill-mid') {
        const inner = rng.chance(0.5) ? deviceFault() : desiredFault();
        if (!inner) return;
        const delay = rng.int(0, 120);
        sequence.push(`${kind}:${inner.kind}:${inner.target}:${delay}`);
        const t = performance.now();
        await inner.apply();
        await sleep(delay);
        await vifd!.kill();
        vifd!.start();
        const res = await awaitConvergence(t, 30_000);
        await vifd!.waitServing();
        records.push({ kind, ms: res.ms, target: `${inner.kind} ${inner.target} +${delay}ms` });
        if (res.ms === undefined) await settle(kind, inner.target, res.last);
        return;
      }
      // Killed; the host is broken (and the desired state edited) while it is down.
      await vifd!.kill();
      const count = rng.int(1, 3);
      const inner: string[] = [];
      for (let i = 0; i < count; i++) {
        const f = rng.chance(0.7) ? deviceFault() : desiredFault();
        if (!f) continue;
        inner.push(`${f.kind}:${f.target}`);
        // An earlier fault of this batch may have taken the device already.
        await f.apply().catch(() => undefined);
      }
      sequence.push(`${kind}:${inner.join(',')}`);
      await sleep(rng.int(0, 300));
      const t = performance.now();
      vifd!.start();
      const res = await awaitConvergence(t, 30_000);
      await vifd!.waitServing();
      records.push({ kind, ms: res.ms, target: inner.join(',') });
      if (res.ms === undefined) await settle(kind, inner.join(','), res.last);
    };
    /** Waits for the restarted vifd to report (summary written after its first rounds). */
    const waitStarted = async (since: number) => {
      const summary = join(dirs.state, 'summary.json');
      const deadline = performance.now() + 15_000;
      const startedWall = Date.now() - (performance.now() - since);
      while (performance.now() < deadline) {
        try {
          const s = JSON.parse(readFileSync(summary, 'utf8')) as { at?: string; queued?: number };
          if (s.at && Date.parse(s.at) >= startedWall && s.queued === 0) return;
        } catch {
          // being replaced
        }
        await sleep(20);
      }
    };

    // The fault loop.
    const endAt = performance.now() + o.seconds * 1000;
    let lastBeat = performance.now();
    let faults = 0;
    while (performance.now() < endAt && (o.maxFaults === undefined || faults < o.maxFaults)) {
      const family = rng.weighted([
        ['device', 60], ['ovs', ovs && kinds.some((k) => k.startsWith('ovs')) ? 12 : 0], ['vifd', 10], ['desired', 18],
      ] as const);
      if (!vifd.running) {
        failures.push(`vifd died on its own: ${vifd.unexpectedExits.join('; ')}`);
        vifd.start();
        await vifd.waitServing();
      }
      if (family === 'vifd') await vifdFault();
      else {
        const fault = family === 'device' ? deviceFault() : family === 'ovs' ? ovsFault() : desiredFault();
        if (!fault) continue;
        await runFault(fault);
      }
      faults++;
      await sleep(rng.int(0, 100));
      if (performance.now() - lastBeat > 30_000) {
        lastBeat = performance.now();
        log(`  ... ${faults} faults, ${Math.round((endAt - performance.now()) / 1000)}s left, ${desired.size} bindings`);
      }
    }

    // The end: converged, nothing leaked, nothing foreign touched, clean exit.
    const final = await awaitConvergence(performance.now(), 60_000);
    const end = await fullCheck();
    if (final.ms === undefined) failures.push(`final state not converged: ${final.last.slice(0, 8).join('; ')}`);
    const conflictStatus = (() => {
      try {
        return (JSON.parse(readFileSync(join(dirs.state, 'status', `${conflict.spec.port}.json`), 'utf8')) as { phase: string }).phase;
      } catch {
        return 'missing';
      }
    })();
    if (conflictStatus !== 'Conflict') failures.push(`binding whose tap name a foreign device holds is ${conflictStatus}, not Conflict`);
    const exitCode = await vifd.stop();
    if (exitCode !== 0) failures.push(`vifd exited ${exitCode} on SIGTERM`);
    if (vifd.unexpectedExits.length > 0) failures.push(`vifd exited on its own: ${vifd.unexpectedExits.join('; ')}`);
    if (vifd.strayHelpers.length > 0) failures.push(`helper processes outlived vifd: ${vifd.strayHelpers.slice(0, 5).join('; ')}`);
    const strayTemps = readdirSync(join(dirs.state, 'status')).filter((n) => n.endsWith('.tmp'));
    if (recreatedOnRestart.length > 0) failures.push(`restart over a converged namespace recreated: ${recreatedOnRestart.slice(0, 5).join('; ')}`);
    if (foreignChanges.size > 0) failures.push(`foreign devices changed: ${[...foreignChanges].slice(0, 8).join('; ')}`);
    if (end.leaks.length > 0) failures.push(`leaked: ${end.leaks.slice(0, 8).join('; ')}`);
    if (end.duplicates.length > 0) failures.push(`duplicates: ${end.duplicates.slice(0, 8).join('; ')}`);

    if (raceWins.count > 0) log(`foreign-race: the racer created the tap first ${raceWins.count} time(s) (also inside vifd-kill faults); vifd never took its device over (see foreign changes)`);
    const fingerprint = createHash('sha256').update(sequence.join('\n')).digest('hex').slice(0, 16);
    const unrepaired = records.filter((r) => r.ms === undefined).length;
    const table = formatTable(records, {
      seed: o.seed, bindings: desired.size, kinds, kills: vifd.kills, restarts: vifd.starts - 1,
      leaks: end.leaks.length, duplicates: end.duplicates.length, foreignChanges: foreignChanges.size,
      recreated: recreatedOnRestart.length, fingerprint, faults: sequence.length, strayTemps: strayTemps.length,
      helpersAtKills: vifd.helpersAtKill, strayHelpers: vifd.strayHelpers.length,
    });
    ok = failures.length === 0;
    return {
      ok, table, records, kinds, fingerprint, leaks: end.leaks, duplicates: end.duplicates,
      foreignChanges: [...foreignChanges], unrepaired, kills: vifd.kills, recreatedOnRestart, failures, root,
    };
  } catch (error) {
    failures.push(`harness error: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
    return {
      ok: false, table: '', records, kinds: [], fingerprint: '', leaks: [], duplicates: [], foreignChanges: [],
      unrepaired: 0, kills: vifd?.kills ?? 0, recreatedOnRestart: [], failures, root,
    };
  } finally {
    const index = cleanups.indexOf(cleanup);
    if (index >= 0) cleanups.splice(index, 1);
    await cleanup();
  }
}

