// A private Open vSwitch for one test file: ovsdb-server + ovs-vswitchd with
// the userspace datapath, devices in the test's namespace, files in a temp dir.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './repo-root.js';

export const OVS_NETNS_SCRIPT = join(repoRoot(), 'scripts/ovs-netns.sh');

export interface PrivateOvs {
  netns: string;
  dir: string;
  socket: string;
  /** `unix:<socket>`, for --ovsdb. */
  address: string;
}

/** Files (database, sockets, logs) in `dir`, a new temp dir unless given. */
export function startOvs(netns: string, dir = mkdtempSync(join(tmpdir(), 'vifd-ovs-'))): PrivateOvs {
  execFileSync('bash', [OVS_NETNS_SCRIPT, 'start', netns, dir], { stdio: 'ignore' });
  const socket = join(dir, 'db.sock');
  return { netns, dir, socket, address: `unix:${socket}` };
}

/** Stops both daemons; the directory (and socket path) stay for a restart. */
export function stopOvsDaemons(ovs: PrivateOvs): void {
  execFileSync('bash', [OVS_NETNS_SCRIPT, 'stop', ovs.netns, ovs.dir], { stdio: 'ignore' });
}

/** Starts again in the same directory with a fresh, empty database. */
export function startFreshOvs(ovs: PrivateOvs): void {
  execFileSync('bash', [OVS_NETNS_SCRIPT, 'start', ovs.netns, ovs.dir], { stdio: 'ignore' });
}

export function stopOvs(ovs: PrivateOvs | undefined): void {
  if (!ovs) return;
  try {
    execFileSync('bash', [OVS_NETNS_SCRIPT, 'stop', ovs.netns, ovs.dir], { stdio: 'ignore' });
  } finally {
    rmSync(ovs.dir, { recursive: true, force: true });
  }
}

export function vsctl(ovs: PrivateOvs, ...args: string[]): string {
  return execFileSync('ovs-vsctl', [`--db=${ovs.address}`, '--timeout=10', ...args], { encoding: 'utf8' }).trim();
}

/** Interface name → external_ids, from `ovs-vsctl --format=json list Interface`. */
export function interfaceIds(ovs: PrivateOvs): Map<string, Record<string, string>> {
  const out = JSON.parse(vsctl(ovs, '--format=json', '--columns=name,external_ids', 'list', 'Interface')) as { data: [string, ['map', [string, string][]]][] };
  return new Map(out.data.map(([name, ids]) => [name, Object.fromEntries(ids[1])]));
}

export function portsOf(ovs: PrivateOvs, bridge: string): string[] {
  const text = vsctl(ovs, 'list-ports', bridge);
  return text === '' ? [] : text.split('\n').sort();
}

/** ovs-vswitchd alone: kill it (SIGKILL) and start it again on the same database. */
export function restartVswitchd(ovs: PrivateOvs): void {
  try {
    execFileSync('pkill', ['-9', '-F', join(ovs.dir, 'ovs-vswitchd.pid')]);
  } catch {
    // already gone
  }
  startVswitchd(ovs);
}

/** Starts ovs-vswitchd again after it was killed (its pid file, now stale, is replaced). */
export function startVswitchd(ovs: PrivateOvs): void {
  const env = { ...process.env, OVS_RUNDIR: ovs.dir, OVS_LOGDIR: ovs.dir, OVS_DBDIR: ovs.dir };
  rmSync(join(ovs.dir, 'ovs-vswitchd.pid'), { force: true });
  execFileSync('ip', ['netns', 'exec', ovs.netns, 'ovs-vswitchd', ovs.address, `--pidfile=${join(ovs.dir, 'ovs-vswitchd.pid')}`, '--detach', `--log-file=${join(ovs.dir, 'ovs-vswitchd.log')}`, `--unixctl=${join(ovs.dir, 'ovs-vswitchd.ctl')}`], { env, stdio: 'ignore' });
}

/** ovsdb-server alone, restarted on the same database file. */
export function restartOvsdbServer(ovs: PrivateOvs): void {
  const env = { ...process.env, OVS_RUNDIR: ovs.dir, OVS_LOGDIR: ovs.dir, OVS_DBDIR: ovs.dir };
  try {
    execFileSync('pkill', ['-9', '-F', join(ovs.dir, 'ovsdb-server.pid')]);
  } catch {
    // already gone
  }
  rmSync(ovs.socket, { force: true });
  execFileSync('ip', ['netns', 'exec', ovs.netns, 'ovsdb-server', join(ovs.dir, 'conf.db'), `--remote=punix:${ovs.socket}`, `--pidfile=${join(ovs.dir, 'ovsdb-server.pid')}`, '--detach', `--log-file=${join(ovs.dir, 'ovsdb-server.log')}`, `--unixctl=${join(ovs.dir, 'ovsdb-server.ctl')}`], { env, stdio: 'ignore' });
}
