// A private lldpad inside a test network namespace, never touching the host's.
//
// Isolation, as measured on lldpad 1.1 (Debian):
// - control socket: the abstract unix socket "/com/intel/lldpad" is per
//   network namespace, so lldptool/vdptool under `ip netns exec NS` reach
//   only that namespace's lldpad;
// - lldpad refuses to start ("lldpad already running") when another one
//   recorded its pid in /dev/shm/lldpad.state, and /dev/shm is shared by all
//   namespaces: so each private lldpad gets its own tmpfs on /dev/shm, mounted
//   inside the mount namespace `ip netns exec` creates for it (never visible
//   to the host);
// - -p: no /var/run/lldpad.pid; -f: the config file lives in the test dir.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface PrivateLldpad {
  netns: string;
  pid: number;
  configFile: string;
  logFile: string;
  exited: Promise<void>;
}

const SHM_WRAPPER = 'mount -t tmpfs -o size=1m,mode=1777 vifdt-lldpad-shm /dev/shm && exec "$@"';

/** lldptool in the namespace; returns stdout, throws on a non-zero exit. */
export function lldptool(netns: string, ...args: string[]): string {
  return execFileSync('ip', ['netns', 'exec', netns, 'lldptool', ...args], { encoding: 'utf8', timeout: 10_000 });
}

export async function startLldpad(netns: string, dir: string, name = 'lldpad'): Promise<PrivateLldpad> {
  const configFile = join(dir, `${name}.conf`);
  const logFile = join(dir, `${name}.log`);
  const log = openSync(logFile, 'a');
  const child = spawn('ip', ['netns', 'exec', netns, 'sh', '-c', SHM_WRAPPER, 'sh', 'lldpad', '-p', '-t', '-V', process.env['VIFDT_LLDPAD_DEBUG'] ? '7' : '6', '-f', configFile], {
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let dead = false;
  void exited.then(() => { dead = true; });
  for (let i = 0; i < 50; i++) {
    if (dead) throw new Error(`lldpad in ${netns} exited at start: ${readFileSync(logFile, 'utf8').slice(-500)}`);
    try {
      const out = execFileSync('ip', ['netns', 'exec', netns, 'vdptool', '-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      if (/^\d+/u.test(out.trim())) return { netns, pid: child.pid!, configFile, logFile, exited };
    } catch {
      // not up yet
    }
    await sleep(100);
  }
  await stopLldpad({ netns, pid: child.pid!, configFile, logFile, exited });
  throw new Error(`lldpad in ${netns} did not answer within 5 s`);
}

/** SIGTERM (then SIGKILL) to this lldpad only, by pid: `ip netns exec` and sh exec'd into it. */
export async function stopLldpad(l: PrivateLldpad | undefined): Promise<void> {
  if (!l) return;
  try {
    process.kill(l.pid, 'SIGTERM');
  } catch {
    return;
  }
  const done = await Promise.race([l.exited.then(() => true), sleep(3000).then(() => false)]);
  if (!done) {
    try { process.kill(l.pid, 'SIGKILL'); } catch { /* gone */ }
    await l.exited;
  }
}

export interface EvbOptions {
  /** evb22 vdprwd exponent: resource wait delay 10us * 2^n (lldpad default 20 ~ 10 s). */
  vdprwd?: number;
}

/** LLDP rx/tx on the nearest customer bridge agent and the EVB 802.1Qbg TLV in the given role. */
export function configureEvb(netns: string, ifname: string, role: 'station' | 'bridge', opts: EvbOptions = {}): void {
  lldptool(netns, '-L', '-i', ifname, '-g', 'ncb', 'adminStatus=rxtx');
  lldptool(netns, '-T', '-i', ifname, '-g', 'ncb', '-V', 'evb', '-c', 'enableTx=yes');
  lldptool(netns, '-T', '-i', ifname, '-g', 'ncb', '-V', 'evb', '-c', `evbmode=${role}`);
  if (opts.vdprwd !== undefined) lldptool(netns, '-T', '-i', ifname, '-g', 'ncb', '-V', 'evb', '-c', `vdprwd=${opts.vdprwd}`);
}

/**
 * Waits until the interface has received the neighbour's EVB TLV in the given
 * mode with the r/l bits set: the peer has then applied the negotiated values.
 * (Measured: a bridge first sends "mode:bridge r/l:0", and only about a second
 * later, once it has handed its VDP the negotiated keep-alive and resource
 * wait times, "r/l:1"; a VSI associated before that is dropped by the bridge
 * at once, its keep-alive timer being zero.)
 */
export async function waitForEvbNeighbor(netns: string, ifname: string, peerMode: 'station' | 'bridge', timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      last = lldptool(netns, '-t', '-n', '-i', ifname, '-g', 'ncb', '-V', 'evb');
      if (last.includes(`mode:${peerMode} r/l:1`)) return last;
    } catch (e) {
      last = String(e);
    }
    await sleep(250);
  }
  throw new Error(`no EVB neighbour (${peerMode}) on ${ifname} in ${netns}: ${last}`);
}
