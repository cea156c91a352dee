// design.md §6: SIGKILL at any instant, then a restart, converges with no
// leaked device and no Conflict against vifd's own half-made devices. Kills
// land mid-convergence (creating, and removing), and the one window an
// intent journal closes (a tap created but not yet marked) is reproduced
// exactly.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultDeviceName } from '../../src/desired/names.js';
import { deleteNetns, ipIn, linksIn, uniqueNetnsName } from '../helpers/netns.js';
import { makeDirs, readStatuses, removeDirs, VifdProcess, waitFor, type VifdDirs } from '../helpers/vifd-process.js';
import { crashBindings, createCrashNetns, hostProblems, removeBindings, TOPO, writeBindings } from '../helpers/crash.js';
import { makeBinding } from '../support/chaos/world.js';
import { waitServing } from '../support/readiness.js';

const netns = uniqueNetnsName('crash-kill');
let dirs: VifdDirs;
let vifd: VifdProcess | undefined;
let desired = crashBindings(120);

beforeAll(() => {
  createCrashNetns(netns);
  dirs = makeDirs('crash-kill');
});

afterAll(async () => {
  await vifd?.stop('SIGKILL');
  deleteNetns(netns);
  removeDirs(dirs);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const noConflicts = () => [...readStatuses(dirs).values()].filter((s) => s.phase === 'Conflict').map((s) => `${s.port}: ${s.message}`);

/** Starts vifd and SIGKILLs it `delay` ms after it answers /readyz (it has
 * loaded its desired directory; its first round starts right then), sweeping the delay upwards
 * in 20 ms steps across the whole first round (snapshot, journal, ip batch,
 * OVSDB, state files), until a kill finds the work done or `partialKills`
 * kills left it half done. The sweep adapts to the machine's speed. Returns
 * how many problems each kill left. */
async function killAcrossConvergence(untouched: number, partialKills = 3): Promise<number[]> {
  const left: number[] = [];
  for (let delay = 0; delay <= 2000 && left.filter((n) => n > 0 && n !== untouched).length < partialKills; delay += 20) {
    vifd = VifdProcess.run(dirs, netns);
    await waitServing(dirs.state, { timeoutMs: 15_000, pollMs: 1 });
    await sleep(delay);
    await vifd.stop('SIGKILL');
    left.push(hostProblems(netns, desired).length);
    if (process.env['VIFD_TEST_VERBOSE']) console.log(`kill +${delay}ms: ${left[left.length - 1]} problems left`);
    if (left[left.length - 1] === 0) break; // converged before the kill: later kills find nothing to do
  }
  return left;
}

/** Kills vifd across its convergence to `desired`, restarts it, and checks it
 * converges with no leak (hostProblems) and no Conflict against its own work. */
async function killThenConverge(): Promise<void> {
  const untouched = hostProblems(netns, desired).length;
  const left = await killAcrossConvergence(untouched);
  // The sweep crossed the work: kills before it was done, and kills in or after it.
  expect(left.some((n) => n > 0) && left.some((n) => n !== untouched), `problems left by each kill: ${left.join(', ')} of ${untouched}`).toBe(true);
  vifd = VifdProcess.run(dirs, netns);
  await waitFor(() => hostProblems(netns, desired).length === 0, 60_000, 'converged');
  expect(noConflicts()).toEqual([]);
}

describe('SIGKILL mid-convergence', () => {
  it('creating 120 bindings, killed repeatedly as it starts, converges after a restart with no leak', async () => {
    writeBindings(dirs, desired);
    await killThenConverge();
  });

  it('removing and changing bindings, killed repeatedly, converges with no leak', async () => {
    const removed = desired.filter((_, i) => i % 2 === 0);
    const kept = desired.filter((_, i) => i % 2 === 1);
    const changed = kept.map((b) => makeBinding(TOPO, b.n, b.kind, { mtu: b.doc.mtu === 1400 ? 1450 : 1400, ...(b.spec.sharedBridge ? { bridge: TOPO.vifdBridges[0]! } : {}) }));
    await vifd!.stop('SIGTERM');
    removeBindings(dirs, removed);
    writeBindings(dirs, changed);
    desired = changed;
    await killThenConverge();
    // Status files of the removed ports are gone too.
    await waitFor(() => removed.every((b) => !readStatuses(dirs).has(b.spec.port)), 15_000, 'removed statuses gone');
  });

  it('a tap created but never marked (killed in between) is adopted, not a Conflict', async () => {
    await vifd!.stop('SIGKILL');
    // Exactly what a kill between `tuntap add` and `link set group/alias` leaves:
    // an unmarked tap, named in the fsynced intent journal.
    const extra = makeBinding(TOPO, 500, 'bridge', { mtu: 1450, bridge: TOPO.vifdBridges[1]! });
    const orphan = defaultDeviceName('tap', makeBinding(TOPO, 501, 'bridge', {}).spec.port);
    const tap = extra.spec.links[0]!.name;
    ipIn(netns, 'tuntap', 'add', 'dev', tap, 'mode', 'tap');
    ipIn(netns, 'tuntap', 'add', 'dev', orphan, 'mode', 'tap'); // its binding is not desired
    writeFileSync(join(dirs.state, 'intent.json'), JSON.stringify({ creating: [tap, orphan] }));
    const halfMade = linksIn(netns).get(tap)!.ifindex;
    writeBindings(dirs, [extra]);
    desired = [...desired, extra];
    vifd = VifdProcess.run(dirs, netns);
    await waitFor(() => hostProblems(netns, desired).length === 0 && !linksIn(netns).has(orphan), 20_000, 'converged, orphan gone');
    expect(linksIn(netns).get(tap)!.ifindex).toBe(halfMade); // adopted in place
    await waitFor(() => readStatuses(dirs).get(extra.spec.port)?.phase === 'Ready', 10_000, 'adopted binding Ready');
    expect(noConflicts()).toEqual([]);
  });

  it('an unmarked tap the journal does not name stays foreign: Conflict, untouched', async () => {
    await vifd!.stop('SIGTERM');
    const other = makeBinding(TOPO, 600, 'bridge', { bridge: TOPO.vifdBridges[0]! });
    const tap = other.spec.links[0]!.name;
    ipIn(netns, 'tuntap', 'add', 'dev', tap, 'mode', 'tap');
    const before = linksIn(netns).get(tap)!;
    writeBindings(dirs, [other]);
    vifd = VifdProcess.run(dirs, netns);
    await waitFor(() => readStatuses(dirs).get(other.spec.port)?.phase === 'Conflict', 15_000, 'Conflict');
    const after = linksIn(netns).get(tap)!;
    expect({ ...after, stats: undefined }).toMatchObject({ ifindex: before.ifindex, group: before.group, mtu: before.mtu, address: before.address });
    expect(after.master).toBeUndefined();
    expect(after.ifalias).toBeUndefined();
  });
});
