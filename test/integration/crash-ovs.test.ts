// design.md §6 with OVS in the picture: SIGKILLs while OVS bindings (plain
// and hybrid) are being plugged and unplugged, i.e. between the kernel steps
// and the OVSDB transaction, converge after a restart with no leaked device,
// no leaked or duplicate OVS port; a restart over the converged host re-adds
// no port and recreates no device.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { check, makeBinding, type ChaosBinding, type Topology } from '../support/chaos/world.js';
import { ovsView } from '../support/chaos/ovs.js';
import { waitReady, waitServing } from '../support/readiness.js';
import { createNetns, deleteNetns, linksIn, uniqueNetnsName } from '../helpers/netns.js';
import { startOvs, stopOvs, vsctl, type PrivateOvs } from '../helpers/ovs.js';
import { makeDirs, removeDirs, VifdProcess, waitFor, type VifdDirs } from '../helpers/vifd-process.js';
import { ifindexes, removeBindings, writeBindings } from '../helpers/crash.js';

const TOPO: Topology = { vifdBridges: [], foreignBridge: 'none', ovsBridge: 'br-crash', uplink: 'none', tag: 0xc8 };
const netns = uniqueNetnsName('crash-ovs');
let dirs: VifdDirs;
let ovs: PrivateOvs | undefined;
let vifd: VifdProcess | undefined;
let desired: ChaosBinding[] = [];
for (let n = 1; n <= 40; n++) desired.push(makeBinding(TOPO, n, n % 2 ? 'ovs' : 'ovs-hybrid', { mtu: n % 3 ? 1450 : 1400 }));

beforeAll(() => {
  createNetns(netns);
  dirs = makeDirs('crash-ovs');
  ovs = startOvs(netns);
  vsctl(ovs, 'add-br', TOPO.ovsBridge, '--', 'set', 'Bridge', TOPO.ovsBridge, 'datapath_type=netdev');
});

afterAll(async () => {
  await vifd?.stop('SIGKILL');
  stopOvs(ovs);
  deleteNetns(netns);
  removeDirs(dirs);
});

const run = () => VifdProcess.run(dirs, netns, ['--ovsdb', ovs!.address, '--ovs-datapath', 'netdev']);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function problems(): Promise<string[]> {
  const r = check({
    bindings: desired,
    links: linksIn(netns),
    ovs: await ovsView(ovs!.address),
    topo: TOPO,
    foreignNames: new Set(['lo', TOPO.ovsBridge]),
    foreignOvsPorts: new Set(),
    full: true,
  });
  return [...r.problems, ...r.leaks.map((l) => `leak ${l}`), ...r.duplicates];
}

async function converged(timeoutMs = 60_000): Promise<void> {
  let last: string[] = [];
  await waitFor(async () => (last = await problems()).length === 0, timeoutMs, 'converged').catch((error: Error) => {
    throw new Error(`${error.message}: ${last.slice(0, 6).join('; ')}`);
  });
}

async function killRepeatedly(delays: number[]): Promise<void> {
  for (const delay of delays) {
    vifd = run();
    await waitServing(dirs.state, { timeoutMs: 15_000, pollMs: 2 }); // its first round is starting: kill within it
    await sleep(delay);
    await vifd.stop('SIGKILL');
  }
}

describe('SIGKILL with OVS bindings', () => {
  it('plugging 40 OVS bindings (half hybrid), killed repeatedly, converges with no leak or duplicate', async () => {
    writeBindings(dirs, desired);
    await killRepeatedly([0, 5, 10, 20, 30, 45, 60, 90, 130]);
    vifd = run();
    await converged();
  });

  it('a restart over the converged host re-adds no port and recreates no device', async () => {
    const before = ifindexes(netns);
    const portsBefore = vsctl(ovs!, '--columns=_uuid,name', 'list', 'Port');
    await vifd!.stop('SIGKILL');
    vifd = run();
    await waitReady(dirs.state, { timeoutMs: 15_000 }); // its first full reconcile (where a recreate would happen) is done
    await sleep(1500); // and events from that round handled too
    expect(ifindexes(netns)).toEqual(before);
    expect(vsctl(ovs!, '--columns=_uuid,name', 'list', 'Port')).toBe(portsBefore);
    expect(await problems()).toEqual([]);
  });

  it('unplugging half and changing the rest, killed repeatedly, converges with no leak', async () => {
    await vifd!.stop('SIGTERM');
    const removed = desired.filter((_, i) => i % 2 === 0);
    const changed = desired.filter((_, i) => i % 2 === 1).map((b) => makeBinding(TOPO, b.n, b.kind, { mtu: b.doc.mtu === 1400 ? 1500 : 1400 }));
    removeBindings(dirs, removed);
    writeBindings(dirs, changed);
    desired = changed;
    await killRepeatedly([0, 5, 10, 20, 30, 45, 60, 90]);
    vifd = run();
    await converged();
  });
});
