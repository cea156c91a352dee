// A real hypervisor on a vifd port: QEMU (TCG, iPXE sends DHCP) boots on a
// bridge binding's tap and gets a lease from dnsmasq in the test namespace;
// the status says when a hypervisor holds the tap; a tap deleted under the
// running VM makes the binding Detached (not Ready) within a second, and a
// fresh VM attaching makes it Ready again; a vifd restart under a running VM
// changes nothing.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNetns, deleteNetns, ipIn, linksIn, uniqueNetnsName } from '../helpers/netns.js';
import { bridgeBinding, makeDirs, portUuid, readStatuses, removeDirs, VifdProcess, waitFor, writeBinding, type StatusJson, type VifdDirs } from '../helpers/vifd-process.js';
import { leaseOf, startDhcp, startVm, stopProcess, type Dhcp, type Vm } from '../helpers/vm.js';

const netns = uniqueNetnsName('hyperv');
let dirs: VifdDirs;
let vifd: VifdProcess | undefined;
let dhcp: Dhcp | undefined;
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
  await vifd?.stop('SIGKILL');
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
    await waitFor(() => vifd!.logs.some((l) => l.includes('"msg":"vifd running"')), 15_000, 'running');
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
    expect(vifd!.logs.some((l) => l.includes('recreating a tap a hypervisor held'))).toBe(true);
    // The old VM still holds the dead device: it stays Detached.
    await new Promise((r) => setTimeout(r, 1500));
    expect(status(1)?.phase).toBe('Detached');
    // The compute agent acts: the VM is restarted on the new tap.
    for (const vm of vms.splice(0)) await stopProcess(vm);
    await bootOn(1, 'vm1-again');
    await waitFor(() => status(1)?.phase === 'Ready' && status(1)?.attached === true, 30_000, 'Ready again once attached');
    console.log(`tap deleted -> Detached in ${tookMs} ms`);
  }, 120_000);
});
