// A hypervisor-owned tap (tapOwner "hypervisor"), as Nova's hybrid path and
// OVS without create_tap give libvirt: vifd builds everything but the tap,
// the hypervisor (here QEMU itself, which creates a missing tap, enslaved
// as libvirt would) makes it, vifd takes it as expected (never marks,
// changes or deletes it) and reports it attached; the XML is what libvirt
// then needs; a VM on each form gets DHCP.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateWithLibvirt } from '../helpers/libvirt.js';
import { createNetns, deleteNetns, ipIn, linksIn, uniqueNetnsName } from '../helpers/netns.js';
import { interfaceIds, startOvs, stopOvs, vsctl, type PrivateOvs } from '../helpers/ovs.js';
import { bridgeBinding, makeDirs, portUuid, readStatuses, removeDirs, VifdProcess, waitFor, writeBinding, type StatusJson, type VifdDirs } from '../helpers/vifd-process.js';
import { leaseOf, startDhcp, startVm, stopProcess, type Dhcp, type Vm } from '../helpers/vm.js';

const netns = uniqueNetnsName('hvtap');
let dirs: VifdDirs;
let vifd: VifdProcess | undefined;
let ovs: PrivateOvs | undefined;
let dhcp: Dhcp | undefined;
const vms: Vm[] = [];
const name = (prefix: string, n: number) => `${prefix}${portUuid(n)}`.slice(0, 14);
const mac = (n: number) => String(bridgeBinding(n, 'x')['mac']);
type Status = StatusJson & { attached?: boolean | null; message: string };
const status = (n: number) => readStatuses(dirs).get(portUuid(n)) as Status | undefined;
const ovsDoc = (n: number, hybrid: boolean) => ({ ...bridgeBinding(n, 'x'), vif: { type: 'ovs', bridge: 'br-vm', hybrid, datapathType: 'netdev', tapOwner: 'hypervisor', profile: {} } });

beforeAll(async () => {
  createNetns(netns);
  dirs = makeDirs('hvtap');
  ovs = startOvs(netns);
  vsctl(ovs, 'add-br', 'br-vm', '--', 'set', 'bridge', 'br-vm', 'datapath_type=netdev');
  await waitFor(() => linksIn(netns).has('br-vm'), 10_000, 'br-vm');
  ipIn(netns, 'addr', 'add', '10.84.0.1/24', 'dev', 'br-vm');
  ipIn(netns, 'link', 'set', 'br-vm', 'up');
  dhcp = startDhcp(netns, dirs.root, 'br-vm', ['10.84.0.10', '10.84.0.200']);
  vifd = VifdProcess.run(dirs, netns, ['--ovsdb', ovs.address]);
});

afterAll(async () => {
  for (const vm of vms) await stopProcess(vm);
  await stopProcess(dhcp);
  await vifd?.stop('SIGKILL');
  stopOvs(ovs);
  deleteNetns(netns);
  removeDirs(dirs);
});

describe('a hypervisor-owned tap', () => {
  it('hybrid: vifd builds qbr, qvb/qvo and the OVS port, not the tap; the XML is type=bridge on the qbr', async () => {
    writeBinding(dirs, 'h1.json', ovsDoc(1, true));
    await waitFor(() => status(1)?.phase === 'Ready', 20_000, 'Ready without a tap');
    const links = linksIn(netns);
    expect(links.has(name('tap', 1))).toBe(false);
    expect(links.get(name('qvb', 1))?.master).toBe(name('qbr', 1));
    expect(interfaceIds(ovs!).get(name('qvo', 1))).toMatchObject({ 'iface-id': portUuid(1), 'attached-mac': mac(1), 'iface-status': 'active' });
    expect(status(1)?.attached).toBe(false);
    const xml = status(1)!.libvirt!;
    expect(xml).toContain("<interface type='bridge'>");
    expect(xml).toContain(`<source bridge='${name('qbr', 1)}'/>`);
    expect(xml).toContain(`<target dev='${name('tap', 1)}'/>`);
    expect(xml).not.toContain('managed=');
    validateWithLibvirt(xml);
  });

  it('the hypervisor creates and enslaves the tap: expected (never marked or changed), attached, the VM gets DHCP', async () => {
    // QEMU creates a tap that does not exist; libvirt then enslaves it to the bridge.
    vms.push(startVm(netns, dirs.root, { tap: name('tap', 1), mac: mac(1), name: 'hv1' }));
    await waitFor(() => linksIn(netns).has(name('tap', 1)), 30_000, 'the hypervisor made its tap');
    ipIn(netns, 'link', 'set', name('tap', 1), 'master', name('qbr', 1), 'up');
    await waitFor(() => status(1)?.attached === true && status(1)?.phase === 'Ready', 15_000, 'attached');
    await waitFor(() => leaseOf(dhcp!, mac(1)) !== undefined, 90_000, 'DHCP lease through the hypervisor tap');
    const tap = linksIn(netns).get(name('tap', 1))!;
    expect(tap.group).not.toBe('4242'); // never marked as vifd's
    expect(tap.ifalias).toBeUndefined();
    expect(tap.master).toBe(name('qbr', 1));
  }, 150_000);

  it('plain OVS: the OVS port is made for the tap before it exists; the XML lets libvirt create it; the VM gets DHCP', async () => {
    writeBinding(dirs, 'h2.json', ovsDoc(2, false));
    await waitFor(() => status(2)?.phase === 'Ready', 20_000, 'Ready before the tap exists');
    expect(interfaceIds(ovs!).get(name('tap', 2))).toMatchObject({ 'iface-id': portUuid(2) });
    const xml = status(2)!.libvirt!;
    expect(xml).toContain("<interface type='ethernet'>");
    expect(xml).toContain(`<target dev='${name('tap', 2)}'/>`);
    validateWithLibvirt(xml);
    vms.push(startVm(netns, dirs.root, { tap: name('tap', 2), mac: mac(2), name: 'hv2' }));
    // QEMU made the tap; libvirt (type='ethernet') brings it up. OVS opens it by itself.
    await waitFor(() => linksIn(netns).has(name('tap', 2)), 30_000, 'the hypervisor made its tap');
    ipIn(netns, 'link', 'set', name('tap', 2), 'up');
    await waitFor(() => leaseOf(dhcp!, mac(2)) !== undefined, 90_000, 'DHCP lease, plain OVS with the hypervisor tap');
    await waitFor(() => status(2)?.attached === true && status(2)?.message === '', 15_000, 'attached, nothing awaited');
  }, 150_000);

  it('unplug never deletes the hypervisor tap; the qbr holding it stays until the VM lets go', async () => {
    execFileSync('rm', [join(dirs.desired, 'h1.json'), join(dirs.desired, 'h2.json')]);
    await waitFor(() => !readStatuses(dirs).has(portUuid(2)), 20_000, 'plain unplugged');
    await waitFor(() => !linksIn(netns).has(name('qvb', 1)), 20_000, 'veth removed');
    expect(linksIn(netns).has(name('tap', 1))).toBe(true);
    expect(linksIn(netns).has(name('tap', 2))).toBe(true);
    expect(linksIn(netns).get(name('qbr', 1))).toBeDefined(); // holds the hypervisor's tap
    for (const vm of vms.splice(0)) await stopProcess(vm);
    await waitFor(() => !linksIn(netns).has(name('tap', 1)), 10_000, 'the hypervisor removed its tap');
    await waitFor(() => !linksIn(netns).has(name('qbr', 1)), 70_000, 'qbr removed once empty');
  }, 150_000);
});
