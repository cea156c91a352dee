// Benchmark: Nova's real call path, os_vif.plug / os_vif.unplug one VIF at a
// time, for N hybrid OVS VIFs (VIFBridge + VIFPortProfileOpenVSwitch), through
// the vifd plugin (integrations/os-vif: PUT to vifd, wait for Ready at that
// generation) against os-vif's own ovs plugin (the peer, in-process, native
// OVSDB and ovs-vsctl backends), in the same run, on the same private OVS and
// namespace. Also a re-plug of all N already plugged (Nova does it at start).
//
//   npm run bench:osvif -- [--vifs 100] [--threads 10] [--peer DIR]
// --threads: also plug and unplug from that many threads at once (nova-compute
// builds up to max_concurrent_builds = 10 instances at a time).
// The peer script is bench/peer/osvif_plug.py (os-vif's own plugging, run by
// Debian's /usr/bin/python3); --peer points elsewhere.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ApiClient } from '../src/api/client.js';

const ROOT = resolve(import.meta.dirname, '../..');
const { values } = parseArgs({ options: { vifs: { type: 'string', default: '100' }, threads: { type: 'string', default: '10' }, peer: { type: 'string', default: resolve(ROOT, 'bench/peer') } } });
const N = Number(values.vifs);
const THREADS = Number(values.threads);
const PEER = join(values.peer, 'osvif_plug.py');
const DRIVER = join(ROOT, 'integrations/os-vif/tools/bench_plug.py');
const PYTHON = '/usr/bin/python3';
const BIN = join(ROOT, 'bin/vifd.js');
const OVS_SCRIPT = join(ROOT, 'scripts/ovs-netns.sh');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

if (!existsSync(PEER)) throw new Error(`the peer ${PEER} is missing (--peer DIR)`);
const tapOwner = readFileSync(join(ROOT, 'schema/portbinding.v1.json'), 'utf8').includes('"tapOwner"');

const netns = `vifdbench-osvif-${process.pid}`;
const dir = mkdtempSync(join(tmpdir(), 'vifd-osvifbench-'));
const sock = join(dir, 'db.sock');
const cache = join(dir, 'cache'); // stevedore's entry-point cache, private
const pyEnv = { ...process.env, PYTHONPATH: join(ROOT, 'integrations/os-vif'), XDG_CACHE_HOME: cache };

function figures(out: string): Record<string, number> {
  const found: Record<string, number> = {};
  for (const m of out.matchAll(/^\S+ (\w+) N=\d+ seconds=([\d.]+)$/gmu)) found[m[1]!] = Number(m[2]);
  return found;
}

function inNetns(args: string[]): string {
  return execFileSync('ip', ['netns', 'exec', netns, ...args], { encoding: 'utf8', env: pyEnv, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
}

function hybridDevices(): number {
  const links = JSON.parse(execFileSync('ip', ['-n', netns, '-j', 'link', 'show'], { encoding: 'utf8', maxBuffer: 64 << 20 })) as Array<{ ifname: string }>;
  return links.filter((l) => /^(qbr|qvb|qvo|tap)/u.test(l.ifname)).length;
}

function ovsPorts(): number {
  const out = execFileSync('ovs-vsctl', [`--db=unix:${sock}`, 'list-ports', 'br-int'], { encoding: 'utf8' }).trim();
  return out === '' ? 0 : out.split('\n').length;
}

function expectClean(after: string): void {
  const devices = hybridDevices();
  const ports = ovsPorts();
  if (devices !== 0 || ports !== 0) throw new Error(`after ${after}: ${devices} hybrid devices and ${ports} OVS ports left`);
}

function expectPlugged(who: string, taps: boolean): void {
  const devices = hybridDevices();
  const want = N * (taps ? 4 : 3);
  if (devices !== want || ovsPorts() !== N) throw new Error(`after ${who} plug: ${devices} devices (want ${want}), ${ovsPorts()} OVS ports (want ${N})`);
}

/** The peer as given (bench/peer/osvif_plug.py): plug, then unplug. */
function peer(backend: 'native' | 'vsctl'): Record<string, number> {
  const plug = figures(inNetns([PYTHON, PEER, String(N), sock, 'plug', backend]));
  expectPlugged(`os-vif ${backend}`, false);
  const unplug = figures(inNetns([PYTHON, PEER, String(N), sock, 'unplug', backend]));
  expectClean(`os-vif ${backend} unplug`);
  return { plug: plug['plug']!, unplug: unplug['unplug']! };
}

/** os-vif's ovs plugin (same objects as the peer): re-plug of what it
 * plugged, then plug and unplug from THREADS threads at once. */
function peerMore(): Record<string, number | string> {
  const out: Record<string, number | string> = figures(inNetns([PYTHON, DRIVER, String(N), 'ovs', sock, 'plug,replug,unplug', 'native']));
  expectClean('os-vif replug run');
  try {
    Object.assign(out, figures(inNetns([PYTHON, DRIVER, String(N), 'ovs', sock, `plug@${THREADS}`, 'native'])));
    expectPlugged(`os-vif ${THREADS} threads`, false);
    Object.assign(out, figures(inNetns([PYTHON, DRIVER, String(N), 'ovs', sock, `unplug@${THREADS}`, 'native'])));
    expectClean(`os-vif ${THREADS} threads unplug`);
  } catch (error) {
    out['threadsError'] = String(error).split('\n')[0]!;
  }
  return out;
}

async function throughVifd(): Promise<Record<string, number>> {
  const desired = join(dir, 'desired');
  const state = join(dir, 'state');
  mkdirSync(desired);
  let child: ChildProcess | undefined;
  const client = new ApiClient({ kind: 'unix', path: join(state, 'vifd.sock') });
  try {
    child = spawn(process.execPath, [BIN, 'run', '--desired-dir', desired, '--state-dir', state, '--netns', netns, '--ovsdb', `unix:${sock}`], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, VIFD_LOG_LEVEL: 'warn' },
    });
    const t0 = Date.now();
    for (;;) {
      try {
        if ((await client.request('GET', '/readyz')).status === 200) break;
      } catch {
        // not listening yet
      }
      if (Date.now() - t0 > 60_000) throw new Error('vifd did not become ready');
      await sleep(20);
    }
    // One process: plug all, re-plug all (Ready: returns at once), then check, then unplug.
    const plugOut = inNetns([PYTHON, DRIVER, String(N), 'vifd', `unix:${join(state, 'vifd.sock')}`, 'plug,replug', ...(tapOwner ? [] : ['--no-tap-owner'])]);
    expectPlugged('vifd', !tapOwner);
    const unplugOut = inNetns([PYTHON, DRIVER, String(N), 'vifd', `unix:${join(state, 'vifd.sock')}`, 'unplug']);
    expectClean('vifd unplug');
    const threadsOut = inNetns([PYTHON, DRIVER, String(N), 'vifd', `unix:${join(state, 'vifd.sock')}`, `plug@${THREADS}`, ...(tapOwner ? [] : ['--no-tap-owner'])]);
    expectPlugged(`vifd ${THREADS} threads`, !tapOwner);
    const threadsUnplugOut = inNetns([PYTHON, DRIVER, String(N), 'vifd', `unix:${join(state, 'vifd.sock')}`, `unplug@${THREADS}`]);
    expectClean(`vifd ${THREADS} threads unplug`);
    return { ...figures(plugOut), ...figures(unplugOut), ...figures(threadsOut), ...figures(threadsUnplugOut) };
  } finally {
    client.destroy();
    child?.kill('SIGTERM');
    if (child && child.exitCode === null) await new Promise((r) => child!.once('exit', r));
  }
}

execFileSync('bash', [OVS_SCRIPT, 'start', netns, dir], { stdio: 'ignore' });
try {
  execFileSync('ovs-vsctl', [`--db=unix:${sock}`, 'add-br', 'br-int', '--', 'set', 'bridge', 'br-int', 'datapath_type=netdev']);
  const native = peer('native');
  const vifd = await throughVifd();
  const vsctl = peer('vsctl');
  const more = peerMore();
  const nativeReplug = more['replug'] as number;

  const fmt = (x: number | undefined) => (x === undefined ? '      -' : x.toFixed(3).padStart(7));
  const ratio = (peerS: number, vifdS: number) => `${(peerS / vifdS).toFixed(2)}x`;
  console.log(`os-vif bench: N=${N} hybrid VIFs (VIFBridge + OVS port profile), os_vif.plug/unplug one at a time, same private OVS (userspace datapath) and namespace`);
  console.log(`  path                                   plug s   re-plug s   unplug s`);
  console.log(`  os-vif ovs plugin, native OVSDB (peer) ${fmt(native.plug)}   ${fmt(nativeReplug)}     ${fmt(native.unplug)}`);
  console.log(`  os-vif ovs plugin, ovs-vsctl           ${fmt(vsctl.plug)}   ${fmt(undefined)}     ${fmt(vsctl.unplug)}`);
  console.log(`  os-vif vifd plugin -> vifd             ${fmt(vifd['plug'])}   ${fmt(vifd['replug'])}     ${fmt(vifd['unplug'])}`);
  const tp = more[`plug_x${THREADS}`] as number | undefined;
  const tu = more[`unplug_x${THREADS}`] as number | undefined;
  console.log(`  os-vif ovs plugin, native, ${String(THREADS).padStart(2)} threads ${fmt(tp)}   ${fmt(undefined)}     ${fmt(tu)}${more['threadsError'] ? `   (failed: ${String(more['threadsError'])})` : ''}`);
  console.log(`  os-vif vifd plugin -> vifd, ${String(THREADS).padStart(2)} threads${fmt(vifd[`plug_x${THREADS}`])}   ${fmt(undefined)}     ${fmt(vifd[`unplug_x${THREADS}`])}`);
  console.log(`  peer/vifd time ratio (>1: vifd faster): plug ${ratio(native.plug!, vifd['plug']!)} (vsctl ${ratio(vsctl.plug!, vifd['plug']!)}), re-plug ${ratio(nativeReplug, vifd['replug']!)}, unplug ${ratio(native.unplug!, vifd['unplug']!)} (vsctl ${ratio(vsctl.unplug!, vifd['unplug']!)})${tp && tu ? `; ${THREADS} threads: plug ${ratio(tp, vifd[`plug_x${THREADS}`]!)}, unplug ${ratio(tu, vifd[`unplug_x${THREADS}`]!)}` : ''}`);
  console.log(
    tapOwner
      ? `  vifd builds qbr, qvb/qvo and the OVS port and leaves the tap to the hypervisor (vif.tapOwner: hypervisor), as os-vif does`
      : `  NOTE: vifd's schema has no vif.tapOwner yet: vifd also created the ${N} taps, which os-vif leaves to libvirt (more work on vifd's side)`,
  );
  console.log(`  each vifd plug/unplug returns only when vifd reports that change Ready / removed (status observedGeneration >= the PUT's generation)`);
} finally {
  try {
    execFileSync('bash', [OVS_SCRIPT, 'stop', netns, dir], { stdio: 'ignore' });
  } finally {
    execFileSync('ip', ['netns', 'del', netns]);
    rmSync(dir, { recursive: true, force: true });
  }
}
