// Benchmark: a binding file written → the VM's first DHCP packet, per VIF
// type, and the part of it that is vifd's (file → Ready). The VM is started
// the moment vifd says Ready (what a compute agent does); the rest is the VM
// booting (QEMU TCG + iPXE: no KVM on these machines).
//
//   npm run bench:vm -- [--runs 3]
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { configureEvb, startLldpad, stopLldpad, waitForEvbNeighbor, type PrivateLldpad } from '../test/helpers/lldpad.js';
import { createNetns, deleteNetns, uniqueNetnsName } from '../test/helpers/netns.js';
import { startOvs, stopOvs, vsctl, type PrivateOvs } from '../test/helpers/ovs.js';
import { makeDirs, removeDirs, VifdProcess, type VifdDirs } from '../test/helpers/vifd-process.js';
import { macvtapNode, startDhcp, startVm, stopProcess, type Dhcp } from '../test/helpers/vm.js';
import { waitServing } from '../test/support/readiness.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' } } });
const RUNS = Number(values.runs);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'ignore' });

type Kind = 'bridge' | 'ovs' | 'hybrid' | '802.1qbg';
const KINDS: Kind[] = ['bridge', 'ovs', 'hybrid', '802.1qbg'];
const port = (k: number, run: number) => `${(0x50000000 + k * 16 + run).toString(16)}-0000-4000-8000-${(k * 16 + run).toString(16).padStart(12, '0')}`;
const mac = (k: number, run: number) => `fa:16:3e:50:${k.toString(16).padStart(2, '0')}:${run.toString(16).padStart(2, '0')}`;

function vifOf(kind: Kind, p: string): Record<string, unknown> {
  switch (kind) {
    case 'bridge':
      return { type: 'bridge', bridge: 'brvm' };
    case 'ovs':
      return { type: 'ovs', bridge: 'br-vm', datapathType: 'netdev', profile: {} };
    case 'hybrid':
      return { type: 'ovs', bridge: 'br-vm', hybrid: true, datapathType: 'netdev', profile: {} };
    case '802.1qbg':
      return { type: '802.1qbg', device: 'up0', profile: { managerId: 12, typeId: 1193046, typeIdVersion: 1, instanceId: p } };
  }
}

function statusPhase(dirs: VifdDirs, p: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(join(dirs.state, 'status', `${p}.json`), 'utf8')) as { phase: string }).phase;
  } catch {
    return undefined;
  }
}

const discovered = (d: Dhcp, m: string) => existsSync(d.logFile) && new RegExp(`DHCPDISCOVER\\([^)]*\\) ${m}`, 'u').test(readFileSync(d.logFile, 'utf8'));

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(5);
  }
  return performance.now();
}

const STA = uniqueNetnsName('benchvm');
const SW = uniqueNetnsName('benchvmsw');
let dirs: VifdDirs | undefined;
let vifd: VifdProcess | undefined;
let ovs: PrivateOvs | undefined;
const lldpads: PrivateLldpad[] = [];
const dhcps: Dhcp[] = [];

async function main(): Promise<void> {
  createNetns(STA);
  createNetns(SW);
  dirs = makeDirs('bench-vm');
  // Linux bridge side: an operator bridge with dnsmasq.
  ip('-n', STA, 'link', 'add', 'brvm', 'type', 'bridge');
  ip('-n', STA, 'addr', 'add', '10.81.0.1/24', 'dev', 'brvm');
  ip('-n', STA, 'link', 'set', 'brvm', 'up');
  const brDhcp = startDhcp(STA, dirs.root, 'brvm', ['10.81.0.10', '10.81.0.200']);
  dhcps.push(brDhcp);
  // OVS side.
  ovs = startOvs(STA);
  vsctl(ovs, 'add-br', 'br-vm', '--', 'set', 'bridge', 'br-vm', 'datapath_type=netdev');
  for (let i = 0; i < 100 && !JSON.parse(execFileSync('ip', ['-n', STA, '-j', 'link', 'show'], { encoding: 'utf8' })).some((l: { ifname: string }) => l.ifname === 'br-vm'); i++) await sleep(50);
  ip('-n', STA, 'addr', 'add', '10.82.0.1/24', 'dev', 'br-vm');
  ip('-n', STA, 'link', 'set', 'br-vm', 'up');
  const ovsDhcp = startDhcp(STA, dirs.root, 'br-vm', ['10.82.0.10', '10.82.0.200']);
  dhcps.push(ovsDhcp);
  // 802.1Qbg side: station and switch lldpads; dnsmasq behind the switch.
  ip('-n', STA, 'link', 'add', 'up0', 'type', 'veth', 'peer', 'name', 'sw0', 'netns', SW);
  ip('-n', STA, 'link', 'set', 'up0', 'up');
  ip('-n', SW, 'link', 'set', 'sw0', 'up');
  ip('-n', SW, 'addr', 'add', '10.83.0.1/24', 'dev', 'sw0');
  lldpads.push(await startLldpad(STA, dirs.root, 'station'), await startLldpad(SW, dirs.root, 'switch'));
  configureEvb(SW, 'sw0', 'bridge');
  configureEvb(STA, 'up0', 'station');
  await waitForEvbNeighbor(STA, 'up0', 'bridge');
  await waitForEvbNeighbor(SW, 'sw0', 'station');
  const qbgDhcp = startDhcp(SW, dirs.root, 'sw0', ['10.83.0.10', '10.83.0.200']);
  dhcps.push(qbgDhcp);
  const dhcpOf: Record<Kind, Dhcp> = { bridge: brDhcp, ovs: ovsDhcp, hybrid: ovsDhcp, '802.1qbg': qbgDhcp };

  vifd = VifdProcess.run(dirs, STA, ['--ovsdb', ovs.address]);
  await waitServing(dirs.state, { timeoutMs: 30_000 });

  const rows: string[] = [];
  for (const [k, kind] of KINDS.entries()) {
    const toReady: number[] = [];
    const toDhcp: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const p = port(k, run);
      const m = mac(k, run);
      const file = join(dirs.desired, `${p}.json`);
      const tmp = join(dirs.desired, `.${p}.tmp`);
      writeFileSync(tmp, JSON.stringify({ apiVersion: 'vifd/v1', kind: 'PortBinding', port: p, mac: m, vif: vifOf(kind, p) }));
      const t0 = performance.now();
      renameSync(tmp, file);
      const ready = await until(() => statusPhase(dirs!, p) === 'Ready', 60_000, `${kind} Ready`);
      const chardev = kind === '802.1qbg' ? macvtapNode(STA, `mvt${p}`.slice(0, 14), dirs.root) : undefined;
      const vm = startVm(STA, dirs.root, { ...(chardev ? { chardev } : { tap: `tap${p}`.slice(0, 14) }), mac: m, name: `${kind}-${run}` });
      const dhcp = await until(() => discovered(dhcpOf[kind], m), 120_000, `${kind} DHCP`);
      await stopProcess(vm);
      toReady.push(ready - t0);
      toDhcp.push(dhcp - t0);
      unlinkSync(file);
      await until(() => statusPhase(dirs!, p) === undefined, 60_000, `${kind} removed`);
    }
    const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
    const r = med(toReady);
    const d = med(toDhcp);
    rows.push(`| ${kind} | ${(d / 1000).toFixed(2)} s | ${r.toFixed(0)} ms | ${((r / d) * 100).toFixed(1)} % |`);
  }
  console.log(`\nfile written → VM's first DHCP packet (median of ${RUNS}; VM started when vifd said Ready)\n`);
  console.log('| type | file → first DHCP | vifd: file → Ready | vifd\'s share |');
  console.log('|---|---|---|---|');
  for (const row of rows) console.log(row);
}

try {
  await main();
} finally {
  await vifd?.stop('SIGTERM');
  for (const d of dhcps) await stopProcess(d);
  for (const l of lldpads) await stopLldpad(l);
  stopOvs(ovs);
  deleteNetns(STA);
  deleteNetns(SW);
  if (dirs) removeDirs(dirs);


}
