// A real hypervisor on a vifd port: QEMU (TCG, iPXE sends DHCP) boots on a
// bridge binding's tap and gets a lease from dnsmasq in the test namespace;
// the status says when a hypervisor holds the tap; a tap deleted under the
// running VM makes the binding Detached (not Ready) within a second, and a
// fresh VM attaching makes it Ready again; a vifd restart under a running VM
// changes nothing.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNetns, deleteNetns, ipIn, linksIn, uniqueNetnsName } from '../helpers/netns.js';
import { bridgeBinding, makeDirs, portUuid, readStatuses, removeDirs, VifdProcess, waitFor, writeBinding, type StatusJson, type VifdDirs } from '../helpers/vifd-process.js';
import { startOvs, stopOvs, vsctl, type PrivateOvs } from '../helpers/ovs.js';
import { leaseOf, startDhcp, startVm, stopProcess, type Dhcp, type Vm } from '../helpers/vm.js';
import { waitReady } from '../support/readiness.js';

const netns = uniqueNetnsName('hyperv');
let dirs: VifdDirs;
let vifd: VifdProcess | undefined;
let dhcp: Dhcp | undefined;
let ovsDhcp: Dhcp | undefined;
let ovs: PrivateOvs | undefined;
const vms: Vm[] = [];
const BRIDGE = 'brvm';
const tapOf = (n: number) => `tap${portUuid(n)}`.slice(0, 14);
type Status = StatusJson & { attached?: boolean | null; lastAttachedAt?: string };
const status = (n: number) => readStatuses(dirs).get(portUuid(n)) as Status | undefined;
const mac = (n: number) => String(bridgeBinding(n, 'x')['mac']);

function metric(name: string): number {
  const out = execFileSync('curl', ['-s', '--max-time', '3', '--unix-socket', join(dirs.state, 'vifd.sock'), 'http://vifd/metrics'], { encoding: 'utf8' });
  const line = out.split('\n').find((l) => l.startsWith(name));
  return line ? Number(line.split(' ').pop()) : 0;
}

beforeAll(() => {
  createNetns(netns);
  dirs = makeDirs('hyperv');
  // An operator's bridge with the DHCP server on it (vifd uses it, never changes it).
  ipIn(netns, 'link', 'add', BRIDGE, 'type', 'bridge');
  ipIn(netns, 'addr', 'add', '10.77.0.1/24', 'dev', BRIDGE);
  ipIn(netns, 'link', 'set', BRIDGE, 'up');
  dhcp = startDhcp(netns, dirs.root, BRIDGE, ['10.77.0.10', '10.77.0.200']);
});

afterAll(async () => {
  for (const vm of vms) await stopProcess(vm);
  await stopProcess(dhcp);
  await stopProcess(ovsDhcp);
  await vifd?.stop('SIGKILL');
  stopOvs(ovs);
  deleteNetns(netns);
  removeDirs(dirs);
});

async function bootOn(n: number, name: string): Promise<Vm> {
  const vm = startVm(netns, dirs.root, { tap: tapOf(n), mac: mac(n), name });
  vms.push(vm);
  return vm;
}

describe('QEMU on a vifd bridge port', () => {
  it('a VM boots on the port and gets a DHCP lease; the status says a hypervisor holds the tap', async () => {
    writeBinding(dirs, 'b1.json', bridgeBinding(1, BRIDGE));
    vifd = VifdProcess.run(dirs, netns);
    await waitFor(() => status(1)?.phase === 'Ready', 15_000, 'Ready');
    expect(status(1)?.attached).toBe(false);
    await bootOn(1, 'vm1');
    await waitFor(() => leaseOf(dhcp!, mac(1)) !== undefined, 90_000, 'DHCP lease for the VM');
    await waitFor(() => status(1)?.attached === true, 10_000, 'attached');
    expect(status(1)?.lastAttachedAt).toBeDefined();
    expect(status(1)?.phase).toBe('Ready');
  }, 120_000);

  it('a vifd restart under the running VM changes nothing', async () => {
    const before = linksIn(netns).get(tapOf(1))!.ifindex;
    await vifd!.stop('SIGTERM');
    vifd = VifdProcess.run(dirs, netns);
    await waitReady(dirs.state, { timeoutMs: 15_000 });
    await new Promise((r) => setTimeout(r, 1000));
    expect(linksIn(netns).get(tapOf(1))!.ifindex).toBe(before);
    expect(status(1)?.phase).toBe('Ready');
    expect(status(1)?.attached).toBe(true);
  }, 60_000);

  it('a tap deleted under the running VM: Detached within a second (never a quiet Ready); a fresh VM makes it Ready', async () => {
    const detachedBefore = metric('vifd_binding_problem_transitions_total{phase="Detached"}');
    const deletedAt = Date.now();
    ipIn(netns, 'link', 'del', tapOf(1));
    await waitFor(() => status(1)?.phase === 'Detached', 5000, 'Detached');
    const tookMs = Date.now() - deletedAt;
    expect(status(1)?.message).toMatch(/recreated.*NIC is detached.*(re-)?plug|Hot-unplug/u);
    expect(linksIn(netns).get(tapOf(1))?.master).toBe(BRIDGE); // the port itself is repaired
    expect(status(1)?.attached).toBe(false);
    expect(metric('vifd_binding_problem_transitions_total{phase="Detached"}')).toBe(detachedBefore + 1);
    await vifd!.waitForLog(/recreating a tap a hypervisor held|the tap a hypervisor held is gone/u);
    // The old VM still holds the dead device: it stays Detached.
    await new Promise((r) => setTimeout(r, 1500));
    expect(status(1)?.phase).toBe('Detached');
    // The compute agent acts: the VM is restarted on the new tap.
    for (const vm of vms.splice(0)) await stopProcess(vm);
    await bootOn(1, 'vm1-again');
    await waitFor(() => status(1)?.phase === 'Ready' && status(1)?.attached === true, 30_000, 'Ready again once attached');
    console.log(`tap deleted -> Detached in ${tookMs} ms`);
  }, 120_000);

  it('plain and hybrid OVS ports (userspace datapath): VMs get DHCP; a recreated plain OVS tap carries traffic again for a fresh VM', async () => {
    ovs = startOvs(netns);
    // An operator's OVS bridge with the DHCP server on its internal port.
    vsctl(ovs, 'add-br', 'br-vm', '--', 'set', 'bridge', 'br-vm', 'datapath_type=netdev');
    await waitFor(() => linksIn(netns).has('br-vm'), 10_000, 'br-vm internal port');
    ipIn(netns, 'addr', 'add', '10.78.0.1/24', 'dev', 'br-vm');
    ipIn(netns, 'link', 'set', 'br-vm', 'up');
    ovsDhcp = startDhcp(netns, dirs.root, 'br-vm', ['10.78.0.10', '10.78.0.200']);
    await vifd?.stop('SIGTERM');
    vifd = VifdProcess.run(dirs, netns, ['--ovsdb', ovs.address]);
    const ovsDoc = (n: number, hybrid: boolean) => ({ ...bridgeBinding(n, 'x'), vif: { type: 'ovs', bridge: 'br-vm', ...(hybrid ? { hybrid: true } : {}), datapathType: 'netdev', profile: {} } });
    writeBinding(dirs, 'o2.json', ovsDoc(2, false));
    writeBinding(dirs, 'o3.json', ovsDoc(3, true));
    await waitFor(() => status(2)?.phase === 'Ready' && status(3)?.phase === 'Ready', 20_000, 'OVS bindings Ready');
    await bootOn(2, 'vm-ovs-plain');
    await bootOn(3, 'vm-ovs-hybrid');
    await waitFor(() => leaseOf(ovsDhcp!, mac(2)) !== undefined, 90_000, 'DHCP lease, plain OVS');
    await waitFor(() => leaseOf(ovsDhcp!, mac(3)) !== undefined, 90_000, 'DHCP lease, hybrid OVS');
    await waitFor(() => status(2)?.attached === true && status(3)?.attached === true, 10_000, 'attached');
    // The plain tap deleted under its VM: Detached; a fresh VM on the recreated tap gets DHCP again.
    const plainVm = vms.find((v) => v.logFile.endsWith('qemu-vm-ovs-plain.log'))!;
    ipIn(netns, 'link', 'del', tapOf(2));
    await waitFor(() => status(2)?.phase === 'Detached', 5000, 'Detached');
    await stopProcess(plainVm);
    const acks = () => fs.readFileSync(ovsDhcp!.logFile, 'utf8').match(new RegExp(`DHCPACK\\(br-vm\\) \\S+ ${mac(2)}`, 'gu'))?.length ?? 0;
    const acksBefore = acks();
    expect(acksBefore).toBeGreaterThan(0);
    await bootOn(2, 'vm-ovs-plain-again');
    await waitFor(() => status(2)?.phase === 'Ready', 30_000, 'Ready once the fresh VM attached');
    await waitFor(() => acks() > acksBefore, 90_000, 'a new lease through the recreated plain OVS tap');
  }, 300_000);

  it('queues: 2 makes a multi_queue tap (noqueue qdisc, owner uid/gid) a 2-queue VM starts on; a change of queues under it says so', async () => {
    writeBinding(dirs, 'q5.json', bridgeBinding(5, BRIDGE, { vif: { type: 'bridge', bridge: BRIDGE, queues: 2, tapUser: 1234, tapGroup: 4321 } }));
    await waitFor(() => status(5)?.phase === 'Ready', 20_000, 'Ready');
    const tap = linksIn(netns).get(tapOf(5))!;
    expect(tap.linkinfo?.info_data?.['multi_queue']).toBe(true);
    expect(status(5)?.libvirt).toContain("<driver name='vhost' queues='2'/>");
    expect(ipIn(netns, 'link', 'show', tapOf(5))).toContain('qdisc noqueue');
    expect(ipIn(netns, '-d', 'link', 'show', tapOf(5))).toMatch(/user 1234 group 4321/u);
    const vm = startVm(netns, dirs.root, { tap: tapOf(5), mac: mac(5), name: 'vm-mq', queues: 2 });
    vms.push(vm);
    await waitFor(() => leaseOf(dhcp!, mac(5)) !== undefined, 90_000, 'DHCP lease for the 2-queue VM');
    await waitFor(() => status(5)?.attached === true, 10_000, 'attached');
    // One queue now: the tap must be made anew, which cuts the running VM off.
    writeBinding(dirs, 'q5.json', bridgeBinding(5, BRIDGE));
    await waitFor(() => status(5)?.phase === 'Detached', 10_000, 'Detached after the queues change');
    expect(status(5)?.message).toMatch(/change of queues needs a new tap/u);
    expect(linksIn(netns).get(tapOf(5))?.linkinfo?.info_data?.['multi_queue']).toBe(false);
    await vifd!.waitForLog(/recreating the tap for the new queue count/u);
    await stopProcess(vm);
  }, 150_000);

  it('queues outside 1..256, or on a macvtap binding, are Invalid and change nothing live', async () => {
    const before = linksIn(netns).get(tapOf(1))!.ifindex;
    writeBinding(dirs, 'b1.json', bridgeBinding(1, BRIDGE, { vif: { type: 'bridge', bridge: BRIDGE, queues: 257 } }));
    await waitFor(() => status(1)?.phase === 'Invalid', 10_000, 'Invalid');
    expect(status(1)?.problems?.[0]?.path).toBe('vif.queues');
    expect(linksIn(netns).get(tapOf(1))!.ifindex).toBe(before);
    const out = execFileSync('sh', ['-c', `printf '%s' '${JSON.stringify({ apiVersion: 'vifd/v1', kind: 'PortBinding', port: portUuid(6), mac: mac(6), vif: { type: '802.1qbh', device: 'x', profile: { profileId: 'p' }, queues: 2 } })}' > ${dirs.root}/mq.json; node ${process.cwd()}/bin/vifd.js validate ${dirs.root}/mq.json || true`], { encoding: 'utf8' });
    expect(out).toMatch(/queues/u);
    writeBinding(dirs, 'b1.json', bridgeBinding(1, BRIDGE));
    await waitFor(() => status(1)?.phase === 'Ready', 10_000, 'Ready again');
  });
});
