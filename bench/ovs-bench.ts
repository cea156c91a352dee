// Benchmark: N hybrid OVS bindings on one bridge (tap → qbr → qvb/qvo → OVS),
// plug and unplug, against its peers measured in the same run: os-vif
// (OpenStack's plugging library, native OVSDB and ovs-vsctl backends) and the
// floor (the same host work as one `ip -batch` plus one ovs-vsctl transaction).
//
//   npm run bench:ovs -- [--bindings 200] [--peer DIR]
// The peers are in bench/peer (os-vif's plug run by Debian's /usr/bin/python3,
// and the floor script); --peer points elsewhere.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = resolve(import.meta.dirname, '../..');
const { values } = parseArgs({ options: { bindings: { type: 'string', default: '200' }, peer: { type: 'string', default: resolve(ROOT, 'bench/peer') } } });
const N = Number(values.bindings);
const SHARED = values.peer;
const BIN = join(ROOT, 'bin/vifd.js');
const OVS_SCRIPT = join(ROOT, 'scripts/ovs-netns.sh');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Env {
  netns: string;
  dir: string;
  sock: string;
}

function setUp(tag: string): Env {
  const netns = `vifdbench-${tag}-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), `vifd-ovsbench-${tag}-`));
  execFileSync('bash', [OVS_SCRIPT, 'start', netns, dir], { stdio: 'ignore' });
  const sock = join(dir, 'db.sock');
  execFileSync('ovs-vsctl', [`--db=unix:${sock}`, 'add-br', 'br-int', '--', 'set', 'bridge', 'br-int', 'datapath_type=netdev']);
  return { netns, dir, sock };
}

function tearDown(env: Env): void {
  try {
    execFileSync('bash', [OVS_SCRIPT, 'stop', env.netns, env.dir], { stdio: 'ignore' });
  } finally {
    execFileSync('ip', ['netns', 'del', env.netns]);
    rmSync(env.dir, { recursive: true, force: true });
  }
}

function seconds(output: string, pattern: RegExp): number {
  const m = pattern.exec(output);
  if (!m) throw new Error(`no figure in: ${output}`);
  return Number(m[1]);
}

function floor(): { plug: number; unplug: number } {
  const env = setUp('floor');
  try {
    const out = execFileSync('bash', [join(SHARED, 'floor.sh'), String(N), env.netns, env.sock], { encoding: 'utf8' });
    return { plug: seconds(out, /floor plug N=\d+ seconds=([\d.]+)/), unplug: seconds(out, /floor unplug N=\d+ seconds=([\d.]+)/) };
  } finally {
    tearDown(env);
  }
}

function osvif(backend: 'native' | 'vsctl'): { plug: number; unplug: number } {
  const env = setUp(`osvif${backend}`);
  try {
    const run = (op: string) =>
      execFileSync('ip', ['netns', 'exec', env.netns, '/usr/bin/python3', join(SHARED, 'osvif_plug.py'), String(N), env.sock, op, backend], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return { plug: seconds(run('plug'), /seconds=([\d.]+)/), unplug: seconds(run('unplug'), /seconds=([\d.]+)/) };
  } finally {
    tearDown(env);
  }
}

const port = (i: number) => `${(0x40000000 + i).toString(16)}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
const mac = (i: number) => `fa:16:3e:00:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;

function summary(state: string): Record<string, number> {
  try {
    return JSON.parse(readFileSync(join(state, 'summary.json'), 'utf8')) as Record<string, number>;
  } catch {
    return {};
  }
}

function ovsPortCount(env: Env): number {
  const out = execFileSync('ovs-vsctl', [`--db=unix:${env.sock}`, 'list-ports', 'br-int'], { encoding: 'utf8' }).trim();
  return out === '' ? 0 : out.split('\n').length;
}

function linkCount(env: Env): number {
  return (JSON.parse(execFileSync('ip', ['-n', env.netns, '-j', 'link', 'show'], { encoding: 'utf8', maxBuffer: 64 << 20 })) as Array<{ group?: string }>).filter((l) => l.group === '4242').length;
}

async function vifd(): Promise<{ plug: number; unplug: number }> {
  const env = setUp('vifd');
  const desired = join(env.dir, 'desired');
  const state = join(env.dir, 'state');
  mkdirSync(desired);
  let child: ReturnType<typeof spawn> | undefined;
  try {
    child = spawn(process.execPath, [BIN, 'run', '--desired-dir', desired, '--state-dir', state, '--netns', env.netns, '--ovsdb', `unix:${env.sock}`], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, VIFD_LOG_LEVEL: 'warn' },
    });
    while (!existsSync(join(state, 'summary.json'))) await sleep(10); // started, nothing to do yet
    // One list document: the whole burst arrives in one file event.
    const items = Array.from({ length: N }, (_, i) => ({
      apiVersion: 'vifd/v1', kind: 'PortBinding', port: port(i), instance: port(i), mac: mac(i), mtu: 1450,
      vif: { type: 'ovs', bridge: 'br-int', hybrid: true, datapathType: 'netdev', profile: {} },
    }));
    const t0 = performance.now();
    writeFileSync(join(desired, 'bench.json'), JSON.stringify({ apiVersion: 'vifd/v1', kind: 'PortBindingList', items }));
    while ((summary(state)['Ready'] ?? 0) < N) {
      if (performance.now() - t0 > 120_000) throw new Error(`not converged: ${JSON.stringify(summary(state))}`);
      await sleep(5);
    }
    const plug = (performance.now() - t0) / 1000;
    if (ovsPortCount(env) !== N) throw new Error(`expected ${N} OVS ports, found ${ovsPortCount(env)}`);
    await sleep(500);
    const t1 = performance.now();
    for (const f of readdirSync(desired)) unlinkSync(join(desired, f));
    while (ovsPortCount(env) > 0 || linkCount(env) > 0) {
      if (performance.now() - t1 > 120_000) throw new Error('unplug did not finish');
      await sleep(5);
    }
    return { plug, unplug: (performance.now() - t1) / 1000 };
  } finally {
    child?.kill('SIGTERM');
    await sleep(300);
    tearDown(env);
  }
}

const fmt = (x: number) => x.toFixed(3).padStart(7);
const havePeers = existsSync(join(SHARED, 'floor.sh')) && existsSync(join(SHARED, 'osvif_plug.py'));
const v = await vifd();
console.log(`ovs bench: N=${N} hybrid bindings on one OVS bridge (userspace datapath)`);
console.log(`  vifd           plug ${fmt(v.plug)} s   unplug ${fmt(v.unplug)} s`);
if (!havePeers) {
  console.log(`  (no peers: ${SHARED} has no floor.sh / osvif_plug.py)`);
} else {
  const f = floor();
  const native = osvif('native');
  const vsctl = osvif('vsctl');
  console.log(`  floor          plug ${fmt(f.plug)} s   unplug ${fmt(f.unplug)} s`);
  console.log(`  os-vif native  plug ${fmt(native.plug)} s   unplug ${fmt(native.unplug)} s`);
  console.log(`  os-vif vsctl   plug ${fmt(vsctl.plug)} s   unplug ${fmt(vsctl.unplug)} s`);
  console.log(`  vifd plug is ${(native.plug / v.plug).toFixed(1)}x faster than os-vif native (goal ≥ 5x), ${(vsctl.plug / v.plug).toFixed(1)}x than vsctl; ${(v.plug / f.plug).toFixed(2)}x the floor (goal ≤ 2x)`);
  console.log(`  vifd unplug is ${(native.unplug / v.unplug).toFixed(1)}x faster than os-vif native, ${(vsctl.unplug / v.unplug).toFixed(1)}x than vsctl; ${(v.unplug / f.unplug).toFixed(2)}x the floor`);
}
