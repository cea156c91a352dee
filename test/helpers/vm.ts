// A real, tiny VM and a DHCP server inside a test namespace: QEMU (TCG: no
// KVM here) with no disk, booting iPXE from its virtio-net option ROM, which
// sends DHCP; dnsmasq in the namespace answers and logs the lease. Started
// by the test, stopped by pid; nothing outside the test's namespace and
// temp dir.
//
// dnsmasq sends option 175 and an IPv6 router advertisement: without them
// iPXE waits ~16 s more before it asks for an address.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Dhcp {
  pid: number;
  logFile: string;
  child: ChildProcess;
}

/** dnsmasq on `iface` (which must have `address` on it) in the namespace. */
export function startDhcp(netns: string, dir: string, iface: string, range: [string, string]): Dhcp {
  mkdirSync(dir, { recursive: true });
  const logFile = join(dir, `dnsmasq-${iface}.log`);
  const log = openSync(logFile, 'a');
  const child = spawn(
    'ip',
    ['netns', 'exec', netns, 'dnsmasq', '--no-daemon', '--conf-file=/dev/null', `--interface=${iface}`, '--bind-interfaces', '--except-interface=lo',
      `--dhcp-range=${range[0]},${range[1]},1h`, '--dhcp-option=175', '--enable-ra', '--dhcp-range=fd00:99::,ra-only', '--log-dhcp',
      `--dhcp-leasefile=${join(dir, `leases-${iface}`)}`, '--port=0'],
    { stdio: ['ignore', log, log] },
  );
  closeSync(log);
  return { pid: child.pid!, logFile, child };
}

/** The address dnsmasq gave `mac` (a DHCPACK in its log), if any yet. */
export function leaseOf(dhcp: Dhcp, mac: string): string | undefined {
  if (!existsSync(dhcp.logFile)) return undefined;
  const text = readFileSync(dhcp.logFile, 'utf8');
  const match = new RegExp(`DHCPACK\\([^)]*\\) (\\S+) ${mac.toLowerCase()}`, 'u').exec(text);
  return match?.[1];
}

export interface Vm {
  pid: number;
  child: ChildProcess;
  exited: Promise<void>;
  logFile: string;
}

export interface VmOptions {
  mac: string;
  /** A tap (or an existing tap name) in the namespace. */
  tap?: string;
  /** A macvtap: the path of a character device node the test made for its own macvtap. */
  chardev?: string;
  queues?: number;
  name: string;
}

/** Boots a diskless VM whose only NIC is the binding's device. */
export function startVm(netns: string, dir: string, o: VmOptions): Vm {
  mkdirSync(dir, { recursive: true });
  const logFile = join(dir, `qemu-${o.name}.log`);
  const log = openSync(logFile, 'a');
  const queues = o.queues ?? 1;
  const mq = queues > 1 ? `,queues=${queues}` : '';
  const netdev = o.chardev ? `tap,id=n0,fd=3` : `tap,id=n0,ifname=${o.tap},script=no,downscript=no${mq}`;
  const device = `virtio-net-pci,netdev=n0,mac=${o.mac}${queues > 1 ? `,mq=on,vectors=${2 * queues + 2}` : ''}`;
  const fds: Array<'ignore' | number> = ['ignore', log, log];
  let tapFd: number | undefined;
  if (o.chardev) {
    tapFd = openSync(o.chardev, 'r+');
    fds.push(tapFd);
  }
  const child = spawn(
    'ip',
    ['netns', 'exec', netns, 'qemu-system-x86_64', '-accel', 'tcg', '-m', '64', '-nographic', '-nodefaults', '-no-user-config', '-display', 'none',
      '-serial', 'none', '-monitor', 'none', '-boot', 'n', '-netdev', netdev, '-device', device],
    { stdio: fds },
  );
  closeSync(log);
  if (tapFd !== undefined) closeSync(tapFd);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { pid: child.pid!, child, exited, logFile };
}

export async function stopProcess(p: { child: ChildProcess } | undefined): Promise<void> {
  if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => p.child.once('exit', () => resolve()));
  p.child.kill('SIGTERM');
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 3000);
  await gone;
  clearTimeout(timer);
}

/** A private character device node for a macvtap of the namespace (never
 * another namespace's /dev/tapN: those names are shared by all of them). */
export function macvtapNode(netns: string, macvtap: string, dir: string): string {
  const sys = execFileSync('ip', ['netns', 'exec', netns, 'sh', '-c', `cat /sys/class/net/${macvtap}/macvtap/tap*/dev`], { encoding: 'utf8' }).trim();
  const [major, minor] = sys.split(':');
  const node = join(dir, `${macvtap}.chr`);
  if (!existsSync(node)) execFileSync('mknod', [node, 'c', major!, minor!]);
  return node;
}
