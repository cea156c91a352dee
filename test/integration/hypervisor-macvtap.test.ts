// A real VM on an 802.1Qbg macvtap binding: vifd creates the macvtap on the
// station's uplink, associates the VSI with the "switch" (an evbmode=bridge
// lldpad in a second namespace behind a veth), brings it up, and names its
// character device in the status; QEMU opens that device (a private node
// made from the macvtap's own major:minor: /dev/tapN names are shared by
// all namespaces, so a test never opens one) and gets a DHCP lease from
// dnsmasq on the switch side.
import { execFileSync } from 'node:child_process';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configureEvb, startLldpad, stopLldpad, waitForEvbNeighbor, type PrivateLldpad } from '../helpers/lldpad.js';
import { createNetns, deleteNetns, ipIn, linksIn, uniqueNetnsName } from '../helpers/netns.js';
import { makeDirs, portUuid, readStatuses, removeDirs, VifdProcess, waitFor, writeBinding, type VifdDirs } from '../helpers/vifd-process.js';
import { leaseOf, macvtapNode, startDhcp, startVm, stopProcess, type Dhcp, type Vm } from '../helpers/vm.js';

const STA = uniqueNetnsName('hvmvs');
const SW = uniqueNetnsName('hvmvb');
let dirs: VifdDirs;
let vifd: VifdProcess | undefined;
let station: PrivateLldpad | undefined;
let sw: PrivateLldpad | undefined;
let dhcp: Dhcp | undefined;
let vm: Vm | undefined;
const MAC = 'fa:16:3e:71:00:01';
const port = portUuid(0x71);
const mvt = `mvt${port}`.slice(0, 14);

beforeAll(async () => {
  createNetns(STA);
  createNetns(SW);
  dirs = makeDirs('hvm-mvt');
  execFileSync('ip', ['-n', STA, 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'sw0', 'netns', SW]);
  ipIn(STA, 'link', 'set', 'up0', 'up');
  ipIn(SW, 'link', 'set', 'sw0', 'up');
  ipIn(SW, 'addr', 'add', '10.79.0.1/24', 'dev', 'sw0');
  station = await startLldpad(STA, dirs.root, 'station');
  sw = await startLldpad(SW, dirs.root, 'switch');
  configureEvb(SW, 'sw0', 'bridge');
  configureEvb(STA, 'up0', 'station');
  await waitForEvbNeighbor(STA, 'up0', 'bridge');
  await waitForEvbNeighbor(SW, 'sw0', 'station');
  dhcp = startDhcp(SW, dirs.root, 'sw0', ['10.79.0.10', '10.79.0.100']);
}, 90_000);

afterAll(async () => {
  await stopProcess(vm);
  await stopProcess(dhcp);
  await vifd?.stop('SIGKILL');
  await stopLldpad(station);
  await stopLldpad(sw);
  deleteNetns(STA);
  deleteNetns(SW);
  removeDirs(dirs);
});

describe('QEMU on an 802.1Qbg macvtap binding', () => {
  it('associated, up, its character device named in the status; the VM gets a DHCP lease through it', async () => {
    writeBinding(dirs, 'm.json', {
      apiVersion: 'vifd/v1',
      kind: 'PortBinding',
      port,
      mac: MAC,
      vif: { type: '802.1qbg', device: 'up0', profile: { managerId: 12, typeId: 1193046, typeIdVersion: 1, instanceId: '3f2a8c71-5b0e-4d2a-9c3e-7a1b2c3d4e5f' } },
    });
    vifd = VifdProcess.run(dirs, STA);
    await waitFor(() => readStatuses(dirs).get(port)?.phase === 'Ready', 60_000, 'macvtap binding Ready (associated)');
    const status = readStatuses(dirs).get(port) as unknown as { devices: Array<{ name: string; ifindex: number; chardev?: string }>; attached: boolean | null };
    const device = status.devices.find((d) => d.name === mvt)!;
    expect(device.chardev).toBe(`/dev/tap${device.ifindex}`);
    expect(status.attached).toBeNull(); // a macvtap does not say who holds it
    expect(linksIn(STA).get(mvt)?.flags).toContain('UP');
    vm = startVm(STA, dirs.root, { chardev: macvtapNode(STA, mvt, dirs.root), mac: MAC, name: 'vm-mvt' });
    await waitFor(() => leaseOf(dhcp!, MAC) !== undefined, 120_000, 'DHCP lease through the macvtap');
  }, 180_000);
});

