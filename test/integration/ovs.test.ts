// OVS bindings, plain and hybrid, end to end: the real `vifd run` against a
// private Open vSwitch whose devices live in a throwaway namespace.
import { unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNetns, deleteNetns, ipIn, linksIn, uniqueNetnsName } from '../helpers/netns.js';
import { interfaceIds, portsOf, restartOvsdbServer, restartVswitchd, startFreshOvs, startOvs, stopOvs, stopOvsDaemons, vsctl, type PrivateOvs } from '../helpers/ovs.js';
import { macFor, makeDirs, portUuid, readStatuses, removeDirs, VifdProcess, waitFor, writeBinding, type VifdDirs } from '../helpers/vifd-process.js';
import { waitReady } from '../support/readiness.js';

const netns = uniqueNetnsName('ovs');
let dirs: VifdDirs;
let ovs: PrivateOvs;
let vifd: VifdProcess | undefined;

const name = (prefix: string, n: number) => `${prefix}${portUuid(n)}`.slice(0, 14);
const INSTANCE = 'b1e2c3d4-0000-4000-8000-000000000001';

function ovsBinding(n: number, extra: { hybrid?: boolean; bridge?: string; mtu?: number; profileId?: string } = {}) {
  return {
    apiVersion: 'vifd/v1',
    kind: 'PortBinding',
    port: portUuid(n),
    instance: INSTANCE,
    mac: macFor(n),
    ...(extra.mtu ? { mtu: extra.mtu } : {}),
    vif: {
      type: 'ovs',
      bridge: extra.bridge ?? 'br-int',
      datapathType: 'netdev',
      ...(extra.hybrid ? { hybrid: true } : {}),
      profile: extra.profileId ? { profileId: extra.profileId } : {},
    },
  };
}

const ready = (n: number) => readStatuses(dirs).get(portUuid(n))?.phase === 'Ready';
const run = () => VifdProcess.run(dirs, netns, ['--ovsdb', ovs.address]);

beforeAll(() => {
  createNetns(netns);
  ovs = startOvs(netns);
  dirs = makeDirs('ovs');
  // The operator's integration bridge, with a port of its own: used, never touched.
  vsctl(ovs, 'add-br', 'br-int', '--', 'set', 'bridge', 'br-int', 'datapath_type=netdev');
  ipIn(netns, 'tuntap', 'add', 'dev', 'op-port', 'mode', 'tap');
  vsctl(ovs, 'add-port', 'br-int', 'op-port');
});

afterAll(async () => {
  await vifd?.stop('SIGKILL');
  stopOvs(ovs);
  deleteNetns(netns);
  removeDirs(dirs);
});

describe('ovs bindings on a real Open vSwitch', () => {
  it('plugs plain and hybrid ports with the external_ids agents look for', async () => {
    writeBinding(dirs, 'p1.json', ovsBinding(1, { mtu: 1450, profileId: 'gold' }));
    writeBinding(dirs, 'h2.json', ovsBinding(2, { hybrid: true, mtu: 1450 }));
    vifd = run();
    await waitFor(() => ready(1) && ready(2), 20_000, 'both Ready');

    expect(portsOf(ovs, 'br-int')).toEqual([name('qvo', 2), name('tap', 1), 'op-port'].sort());
    const ids = interfaceIds(ovs);
    expect(ids.get(name('tap', 1))).toEqual({
      'iface-id': portUuid(1),
      'iface-status': 'active',
      'attached-mac': macFor(1),
      'vm-uuid': INSTANCE,
      'vifd-port': portUuid(1),
      'vifd-profile-id': 'gold',
    });
    expect(ids.get(name('qvo', 2))).toMatchObject({ 'iface-id': portUuid(2), 'attached-mac': macFor(2), 'vifd-port': portUuid(2) });

    const links = linksIn(netns);
    expect(links.get(name('tap', 1))).toMatchObject({ mtu: 1450, group: '4242', address: `fe${macFor(1).slice(2)}` });
    // hybrid: tap → qbr → qvb/qvo veth → OVS
    const qbr = links.get(name('qbr', 2))!;
    expect(qbr.linkinfo?.info_kind).toBe('bridge');
    expect(qbr.linkinfo?.info_data).toMatchObject({ forward_delay: 0, stp_state: 0, ageing_time: 0 });
    expect(links.get(name('tap', 2))).toMatchObject({ master: name('qbr', 2), mtu: 1450 });
    expect(links.get(name('qvb', 2))).toMatchObject({ master: name('qbr', 2), mtu: 1450 });
    expect(links.get(name('qvo', 2))).toMatchObject({ mtu: 1450 });
    expect(links.get(name('qvo', 2))!.flags).toContain('UP');
    const status = readStatuses(dirs).get(portUuid(2))!;
    expect(status.libvirt).toContain(`<target dev='${name('tap', 2)}' managed='no'/>`);
  });

  it('repairs a port removed or whose external_ids were changed behind its back', async () => {
    vsctl(ovs, 'del-port', 'br-int', name('tap', 1));
    vsctl(ovs, 'set', 'Interface', name('qvo', 2), 'external_ids:iface-id=wrong');
    await waitFor(() => {
      const ids = interfaceIds(ovs);
      return ids.get(name('tap', 1))?.['iface-id'] === portUuid(1) && ids.get(name('qvo', 2))?.['iface-id'] === portUuid(2);
    }, 10_000, 'OVS repaired');
  });

  it('creates an OVS bridge it needs (owned) and removes it with its last binding', async () => {
    writeBinding(dirs, 'p3.json', ovsBinding(3, { bridge: 'br-vifd' }));
    await waitFor(() => ready(3), 10_000, 'p3 Ready');
    expect(vsctl(ovs, 'br-get-external-id', 'br-vifd', 'vifd-owner')).toBe('vifd');
    expect(portsOf(ovs, 'br-vifd')).toEqual([name('tap', 3)]);
    unlinkSync(join(dirs.desired, 'p3.json'));
    await waitFor(() => !vsctl(ovs, 'list-br').split('\n').includes('br-vifd'), 10_000, 'br-vifd removed');
    expect(linksIn(netns).has(name('tap', 3))).toBe(false);
  });

  it('migrates plain ↔ hybrid cleanly', async () => {
    writeBinding(dirs, 'p1.json', ovsBinding(1, { hybrid: true, mtu: 1450 }));
    await waitFor(() => portsOf(ovs, 'br-int').includes(name('qvo', 1)) && !portsOf(ovs, 'br-int').includes(name('tap', 1)), 10_000, 'now hybrid');
    await waitFor(() => ready(1), 10_000, 'p1 Ready');
    expect(linksIn(netns).get(name('tap', 1))?.master).toBe(name('qbr', 1));
    writeBinding(dirs, 'p1.json', ovsBinding(1, { mtu: 1450 }));
    await waitFor(() => portsOf(ovs, 'br-int').includes(name('tap', 1)) && !linksIn(netns).has(name('qbr', 1)), 10_000, 'plain again');
    await waitFor(() => ready(1), 10_000, 'p1 Ready');
    expect(linksIn(netns).has(name('qvo', 1))).toBe(false);
  });

  it('never touches ports it does not own, even on a bridge it owns', async () => {
    expect(interfaceIds(ovs).get('op-port')).toEqual({});
    writeBinding(dirs, 'p4.json', ovsBinding(4, { bridge: 'br-mine' }));
    await waitFor(() => ready(4), 10_000, 'p4 Ready');
    ipIn(netns, 'tuntap', 'add', 'dev', 'op-port2', 'mode', 'tap');
    vsctl(ovs, 'add-port', 'br-mine', 'op-port2');
    unlinkSync(join(dirs.desired, 'p4.json'));
    await waitFor(() => !portsOf(ovs, 'br-mine').includes(name('tap', 4)), 10_000, 'p4 unplugged');
    await new Promise((r) => setTimeout(r, 500));
    // The owned bridge stays while a foreign port is on it; the port is untouched.
    expect(portsOf(ovs, 'br-mine')).toEqual(['op-port2']);
    expect(interfaceIds(ovs).get('op-port2')).toEqual({});
    vsctl(ovs, 'del-br', 'br-mine');
    ipIn(netns, 'link', 'del', 'op-port2');
  });

  it('survives ovs-vswitchd killed and restarted', async () => {
    restartVswitchd(ovs);
    ipIn(netns, 'link', 'del', name('qvb', 2)); // breaks the hybrid port meanwhile
    await waitFor(() => linksIn(netns).has(name('qvo', 2)) && ready(2), 15_000, 'hybrid rebuilt');
  });

  it('survives ovsdb-server restarted on the same database', async () => {
    restartOvsdbServer(ovs);
    vsctl(ovs, 'del-port', 'br-int', name('tap', 1));
    await waitFor(() => portsOf(ovs, 'br-int').includes(name('tap', 1)), 15_000, 'port re-added after reconnect');
    await waitFor(() => ready(1) && ready(2), 15_000, 'Ready again');
  });

  it('reports not-Ready while OVSDB is gone, then rebuilds on a fresh empty database', async () => {
    stopOvsDaemons(ovs);
    await waitFor(() => readStatuses(dirs).get(portUuid(1))?.phase === 'Failed', 15_000, 'p1 Failed while OVS is down');
    expect(readStatuses(dirs).get(portUuid(1))!.message).toMatch(/OVSDB/);
    startFreshOvs(ovs); // same socket path, empty database
    await waitFor(() => portsOf(ovs, 'br-int').length === 2, 20_000, 'ports rebuilt on the fresh database');
    expect(portsOf(ovs, 'br-int')).toEqual([name('qvo', 2), name('tap', 1)].sort());
    await waitFor(() => ready(1) && ready(2), 15_000, 'Ready again');
    // The bridge vanished with the database; vifd had to create it, so it is vifd's now.
    expect(vsctl(ovs, 'br-get-external-id', 'br-int', 'vifd-owner')).toBe('vifd');
  }, 60_000);

  it('a restart over a converged host re-adds no port and recreates no device', async () => {
    const before = linksIn(netns);
    const uuids = vsctl(ovs, '--columns=_uuid,name', '--format=csv', 'list', 'Port');
    expect(await vifd!.stop('SIGTERM')).toBe(0);
    vifd = run();
    await waitReady(dirs.state, { timeoutMs: 10_000 });
    await new Promise((r) => setTimeout(r, 1000));
    expect(vsctl(ovs, '--columns=_uuid,name', '--format=csv', 'list', 'Port')).toBe(uuids);
    const after = linksIn(netns);
    for (const [n, link] of before) expect(after.get(n)?.ifindex, n).toBe(link.ifindex);
  });
});
