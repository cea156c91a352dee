// The real `vifd run --netns` with macvtap bindings: real macvtaps on veth
// uplinks in a throwaway namespace, 802.1Qbh against the real kernel (a veth
// has no port-profile support: EOPNOTSUPP), and 802.1Qbg end to end with two
// private lldpads (station in vifd's namespace, evbmode=bridge in a second
// namespace joined by a veth).
import { execFileSync } from 'node:child_process';
import { unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configureEvb, type PrivateLldpad, startLldpad, stopLldpad, waitForEvbNeighbor } from '../helpers/lldpad.js';
import { createNetns, deleteNetns, ipIn, linksIn, uniqueNetnsName } from '../helpers/netns.js';
import { macFor, makeDirs, portUuid, readStatuses, removeDirs, VifdProcess, waitFor, writeBinding, type StatusJson, type VifdDirs } from '../helpers/vifd-process.js';
import { queryVdp } from '../../src/host/portprofile/vdp.js';
import { waitReady } from '../support/readiness.js';

const NS = uniqueNetnsName('mvt');
const SW = uniqueNetnsName('mvtsw');
let dirs: VifdDirs;
let vifd: VifdProcess | undefined;
let station: PrivateLldpad | undefined;
let bridge: PrivateLldpad | undefined;

const mvtOf = (n: number) => `mvt${portUuid(n)}`.slice(0, 14);
const VSI = 'fa9b7fff-b0a0-4893-8e0e-beef4ff18f8f';

type Status = StatusJson & { association?: { kind: string; state: string; message: string; attempts: number; code?: string } };
const statusOf = (n: number) => readStatuses(dirs).get(portUuid(n)) as Status | undefined;

function qbh(n: number, device: string, extra: Record<string, unknown> = {}, vif: Record<string, unknown> = {}) {
  return { apiVersion: 'vifd/v1', kind: 'PortBinding', port: portUuid(n), mac: macFor(n), vif: { type: '802.1qbh', device, profile: { profileId: 'finance' }, ...vif }, ...extra };
}
function qbg(n: number, device: string, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'vifd/v1', kind: 'PortBinding', port: portUuid(n), mac: macFor(n),
    vif: { type: '802.1qbg', device, profile: { managerId: 12, typeId: 1193046, typeIdVersion: 1, instanceId: VSI } },
    ...extra,
  };
}

function veth(name: string): void {
  ipIn(NS, 'link', 'add', name, 'type', 'veth', 'peer', 'name', `${name}p`);
  ipIn(NS, 'link', 'set', name, 'up');
  ipIn(NS, 'link', 'set', `${name}p`, 'up');
}

async function waitStatus(n: number, check: (s: Status) => boolean, what: string, timeoutMs = 20_000): Promise<Status> {
  await waitFor(() => { const s = statusOf(n); return s !== undefined && check(s); }, timeoutMs, `${what} (last: ${JSON.stringify(statusOf(n))})`);
  return statusOf(n)!;
}

beforeAll(async () => {
  createNetns(NS);
  createNetns(SW);
  dirs = makeDirs('mvt');
  // uplink0 (station side, vifd's namespace) <-> sw0 (the "switch": an evbmode=bridge lldpad)
  ipIn(NS, 'link', 'add', 'uplink0', 'type', 'veth', 'peer', 'name', 'sw0', 'netns', SW);
  ipIn(NS, 'link', 'set', 'uplink0', 'up');
  ipIn(SW, 'link', 'set', 'sw0', 'up');
  // Separate veth uplinks: a passthru macvtap needs a lower device of its own.
  for (const name of ['upq1', 'upq2']) veth(name);
  station = await startLldpad(NS, dirs.root, 'station');
  bridge = await startLldpad(SW, dirs.root, 'bridge');
  configureEvb(SW, 'sw0', 'bridge');
  configureEvb(NS, 'uplink0', 'station');
  await waitForEvbNeighbor(NS, 'uplink0', 'bridge');
  await waitForEvbNeighbor(SW, 'sw0', 'station');
  vifd = VifdProcess.run(dirs, NS, ['--resync-seconds', '1']);
}, 60_000);

afterAll(async () => {
  await vifd?.stop('SIGKILL');
  await stopLldpad(station);
  await stopLldpad(bridge);
  deleteNetns(NS);
  deleteNetns(SW);
  if (process.env['VIFDT_KEEP']) console.log(`kept ${dirs.root}`);
  else removeDirs(dirs);
});

describe('macvtap bindings on a real kernel', () => {
  it('802.1Qbh on a veth uplink: macvtap made (passthru, MAC, MTU, owned) but kept down; Failed with the kernel\'s EOPNOTSUPP', async () => {
    writeBinding(dirs, 'q1.json', qbh(1, 'upq1', { mtu: 1400 }));
    const s = await waitStatus(1, (x) => x.phase === 'Failed' && x.message.includes('EOPNOTSUPP'), 'qbh Failed');
    expect(s.message).toMatch(/^802\.1Qbh association on upq1 failed: the uplink driver does not support port profiles \(kernel: EOPNOTSUPP, Operation not supported\); attempt \d+/u);
    expect(s.association).toMatchObject({ kind: '802.1qbh', code: 'PORT_PROFILE_UNSUPPORTED' });
    const m = linksIn(NS).get(mvtOf(1))!;
    expect(m.linkinfo?.info_kind).toBe('macvtap');
    expect(m.linkinfo?.info_data?.['mode']).toBe('passthru');
    expect(m.link).toBe('upq1');
    expect(m.address).toBe(macFor(1));
    expect(m.mtu).toBe(1400);
    expect(m.group).toBe('4242');
    expect(m.ifalias).toBe(`vifd:port:${portUuid(1)}`);
    expect(m.flags).not.toContain('UP');
    expect(s.libvirt).toContain(`<target dev='${mvtOf(1)}' managed='no'/>`);
  });

  it('mode and MTU changes are applied in place (same ifindex)', async () => {
    writeBinding(dirs, 'q2.json', qbh(2, 'upq2', { mtu: 1450 }, { mode: 'vepa' }));
    await waitFor(() => linksIn(NS).get(mvtOf(2))?.linkinfo?.info_data?.['mode'] === 'vepa', 15_000, 'vepa macvtap');
    const before = linksIn(NS).get(mvtOf(2))!;
    expect(before.mtu).toBe(1450);
    writeBinding(dirs, 'q2.json', qbh(2, 'upq2', { mtu: 1300 }, { mode: 'bridge' }));
    await waitFor(() => {
      const m = linksIn(NS).get(mvtOf(2));
      return m?.linkinfo?.info_data?.['mode'] === 'bridge' && m.mtu === 1300;
    }, 15_000, 'mode bridge, mtu 1300');
    const after = linksIn(NS).get(mvtOf(2))!;
    expect(after.ifindex).toBe(before.ifindex);
    expect(after.flags).not.toContain('UP');
    // The uplink itself is never changed.
    expect(linksIn(NS).get('upq2')!.mtu).toBe(1500);
  });

  it('a missing uplink is a clear Failed status, and heals when the uplink appears', async () => {
    writeBinding(dirs, 'q3.json', qbh(3, 'upq3'));
    const s = await waitStatus(3, (x) => x.phase === 'Failed', 'uplink missing');
    expect(s.message).toBe('uplink device upq3 does not exist');
    expect(linksIn(NS).has(mvtOf(3))).toBe(false);
    veth('upq3');
    await waitFor(() => linksIn(NS).get(mvtOf(3))?.link === 'upq3', 20_000, 'macvtap made once the uplink exists');
    // ... and then it is the association's turn (a veth: EOPNOTSUPP).
    await waitStatus(3, (x) => x.message.includes('EOPNOTSUPP'), 'association attempted');
  });

  it('802.1Qbg end to end (station lldpad + evbmode=bridge lldpad): Ready with the macvtap up', async () => {
    writeBinding(dirs, 'g4.json', qbg(4, 'uplink0', { mtu: 1450 }));
    const s = await waitStatus(4, (x) => x.phase === 'Ready', 'qbg Ready', 40_000);
    expect(s.association).toMatchObject({ kind: '802.1qbg', state: 'associated' });
    const m = linksIn(NS).get(mvtOf(4))!;
    expect(m.linkinfo?.info_data?.['mode']).toBe('vepa');
    expect(m.flags).toContain('UP');
    expect(m.address).toBe(macFor(4));
    const vsi = await queryVdp('uplink0', VSI, { netns: NS });
    // (managerId not compared: lldpad reports mgrid2=12 back as "18", i.e. it reads the string as hex.)
    expect(vsi).toMatchObject({ mode: 'assoc', typeId: 1193046, typeIdVersion: 1, filters: [`0-${macFor(4)}`] });
    expect(vsi?.status?.kind).toBe('associated');
  });

  it('a restart re-checks the association and changes nothing (same ifindex, still up, no re-association)', async () => {
    const before = linksIn(NS).get(mvtOf(4))!;
    await vifd!.stop('SIGKILL');
    vifd = VifdProcess.run(dirs, NS, ['--resync-seconds', '1']);
    await waitReady(dirs.state, { timeoutMs: 15_000 });
    await new Promise((r) => setTimeout(r, 2500)); // a couple of resyncs
    const after = linksIn(NS).get(mvtOf(4))!;
    expect(after.ifindex).toBe(before.ifindex);
    expect(after.flags).toContain('UP');
    expect(statusOf(4)).toMatchObject({ phase: 'Ready', association: { state: 'associated' } });
    expect(vifd!.logs.some((l) => l.includes('802.1Qbg associated'))).toBe(false);
  }, 30_000);

  it('lldpad stops: Failed, macvtap set down; once lldpad is back the VSI is associated again and the macvtap up', async () => {
    await stopLldpad(station);
    const failed = await waitStatus(4, (x) => x.phase === 'Failed', 'Failed after lldpad stopped', 15_000);
    expect(failed.message).toMatch(/802\.1Qbg association on uplink0 (lost|failed): lldpad is not running/u);
    await waitFor(() => !linksIn(NS).get(mvtOf(4))!.flags.includes('UP'), 10_000, 'macvtap down');
    station = await startLldpad(NS, dirs.root, 'station');
    await waitForEvbNeighbor(NS, 'uplink0', 'bridge');
    await waitStatus(4, (x) => x.phase === 'Ready', 'Ready again', 60_000);
    expect(linksIn(NS).get(mvtOf(4))!.flags).toContain('UP');
    expect((await queryVdp('uplink0', VSI, { netns: NS }))?.status?.kind).toBe('associated');
  }, 120_000);

  it('unplug disassociates the VSI (lldpad no longer knows it) and deletes the macvtap', async () => {
    unlinkSync(join(dirs.desired, 'g4.json'));
    await waitFor(() => statusOf(4) === undefined, 30_000, 'status removed');
    expect(linksIn(NS).has(mvtOf(4))).toBe(false);
    // vdptool itself may time out talking to a busy lldpad: ask again rather than fail.
    await waitFor(async () => (await queryVdp('uplink0', VSI, { netns: NS })) === undefined, 15_000, 'lldpad no longer knows the VSI');
    await vifd!.waitForLog(/802\.1Qbg disassociated/u);
    // The Qbh ones go too; their uplinks stay.
    for (const f of ['q1.json', 'q2.json', 'q3.json']) unlinkSync(join(dirs.desired, f));
    await waitFor(() => [1, 2, 3].every((n) => !linksIn(NS).has(mvtOf(n))), 15_000, 'macvtaps removed');
    const links = linksIn(NS);
    for (const u of ['uplink0', 'upq1', 'upq2', 'upq3']) expect(links.has(u), u).toBe(true);
    expect(execFileSync('cat', [join(dirs.state, 'associations.json')], { encoding: 'utf8' })).toContain('"associations": []');
  }, 45_000);
});
