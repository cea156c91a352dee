// A private OVN for one test file, next to a private OVS (helpers/ovs.ts):
// NB and SB ovsdb-servers on unix sockets in a temp dir, ovn-northd, and
// ovn-controller inside the test namespace against the private OVS. Every
// pid, socket and log lives in the temp dir (OVN_RUNDIR/OVS_RUNDIR point
// there: ovn-controller takes no --unixctl); nothing lands in /var/run.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { vsctl, type PrivateOvs } from './ovs.js';

export interface PrivateOvn {
  dir: string;
  nb: string;
  sb: string;
  chassis: string;
  ovs: PrivateOvs;
}

const DAEMONS = ['ovn-controller', 'ovn-northd', 'sb', 'nb'] as const;

function env(ovn: { dir: string }, ovs: PrivateOvs): NodeJS.ProcessEnv {
  return { ...process.env, OVN_RUNDIR: ovn.dir, OVN_LOGDIR: ovn.dir, OVN_DBDIR: ovn.dir, OVS_RUNDIR: ovs.dir, OVS_LOGDIR: ovs.dir, OVS_DBDIR: ovs.dir };
}

function dbServer(dir: string, netns: string, name: 'nb' | 'sb', e: NodeJS.ProcessEnv): string {
  const db = join(dir, `${name}.db`);
  const sock = join(dir, `${name}.sock`);
  execFileSync('ovsdb-tool', ['create', db, `/usr/share/ovn/ovn-${name}.ovsschema`], { env: e, stdio: 'ignore' });
  execFileSync('ip', ['netns', 'exec', netns, 'ovsdb-server', db, `--remote=punix:${sock}`, `--pidfile=${join(dir, `${name}.pid`)}`, '--detach', `--log-file=${join(dir, `${name}.log`)}`, `--unixctl=${join(dir, `${name}.ctl`)}`], { env: e, stdio: 'ignore' });
  return `unix:${sock}`;
}

/** Starts NB, SB and ovn-northd. ovn-controller: startOvnController (so a
 * test can let vifd create br-int first). */
export function startOvnCentral(ovs: PrivateOvs): PrivateOvn {
  const dir = mkdtempSync(join(tmpdir(), 'vifd-ovn-'));
  const ovn = { dir, nb: '', sb: '', chassis: `chassis-${ovs.netns}`, ovs };
  const e = env(ovn, ovs);
  try {
    ovn.nb = dbServer(dir, ovs.netns, 'nb', e);
    ovn.sb = dbServer(dir, ovs.netns, 'sb', e);
    execFileSync('ovn-nbctl', [`--db=${ovn.nb}`, 'init'], { env: e, stdio: 'ignore' });
    execFileSync('ovn-sbctl', [`--db=${ovn.sb}`, 'init'], { env: e, stdio: 'ignore' });
    execFileSync('ip', ['netns', 'exec', ovs.netns, 'ovn-northd', `--ovnnb-db=${ovn.nb}`, `--ovnsb-db=${ovn.sb}`, `--pidfile=${join(dir, 'ovn-northd.pid')}`, '--detach', `--log-file=${join(dir, 'ovn-northd.log')}`, `--unixctl=${join(dir, 'ovn-northd.ctl')}`], { env: e, stdio: 'ignore' });
  } catch (error) {
    stopOvn(ovn);
    throw error;
  }
  return ovn;
}

/** Points the private OVS at the SB database and starts ovn-controller in the namespace. */
export function startOvnController(ovn: PrivateOvn): void {
  const { ovs } = ovn;
  vsctl(ovs, 'set', 'Open_vSwitch', '.',
    `external_ids:system-id=${ovn.chassis}`,
    `external_ids:ovn-remote=${ovn.sb}`,
    'external_ids:ovn-encap-type=geneve',
    'external_ids:ovn-encap-ip=127.0.0.1',
    'external_ids:ovn-bridge-datapath-type=netdev');
  execFileSync('ip', ['netns', 'exec', ovs.netns, 'ovn-controller', ovs.address, `--pidfile=${join(ovn.dir, 'ovn-controller.pid')}`, '--detach', `--log-file=${join(ovn.dir, 'ovn-controller.log')}`], { env: env(ovn, ovs), stdio: 'ignore' });
}

function pidOf(dir: string, name: string): number | undefined {
  const file = join(dir, `${name}.pid`);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stops every OVN daemon by its pid (TERM, then KILL), then removes the dir. */
export function stopOvn(ovn: Pick<PrivateOvn, 'dir'> | undefined): void {
  if (!ovn) return;
  for (const name of DAEMONS) {
    const pid = pidOf(ovn.dir, name);
    if (pid === undefined || !alive(pid)) continue;
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      continue;
    }
    const deadline = Date.now() + 5000;
    while (alive(pid) && Date.now() < deadline) execFileSync('sleep', ['0.1']);
    if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
  rmSync(ovn.dir, { recursive: true, force: true });
}

export function nbctl(ovn: PrivateOvn, ...args: string[]): string {
  return execFileSync('ovn-nbctl', [`--db=${ovn.nb}`, '--timeout=10', ...args], { encoding: 'utf8', env: env(ovn, ovn.ovs) }).trim();
}

export function sbctl(ovn: PrivateOvn, ...args: string[]): string {
  return execFileSync('ovn-sbctl', [`--db=${ovn.sb}`, '--timeout=10', ...args], { encoding: 'utf8', env: env(ovn, ovn.ovs) }).trim();
}

/** The chassis name an SB Port_Binding is bound to ('' when unclaimed). */
export function boundChassis(ovn: PrivateOvn, logicalPort: string): string {
  const uuid = sbctl(ovn, '--bare', '--columns=chassis', 'find', 'Port_Binding', `logical_port=${logicalPort}`);
  return uuid === '' ? '' : sbctl(ovn, '--bare', '--columns=name', 'list', 'Chassis', uuid);
}

/** NB Logical_Switch_Port.up ('true', 'false' or '' before northd set it). */
export function lspUp(ovn: PrivateOvn, name: string): string {
  return nbctl(ovn, '--bare', '--columns=up', 'list', 'Logical_Switch_Port', name);
}
