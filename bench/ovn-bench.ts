// Benchmark: N hybrid OVS ports with OVN running (ovn-northd, ovn-controller
// against a private OVS in a namespace): per port, desired → plugged and
// desired → ovn-installed (ovn-controller's external_ids:ovn-installed=true,
// seen by an OVSDB monitor), p50/p99, for vifd and for its peer in the same
// run: os-vif's plug (Debian's python3-os-vif, as Nova calls it, one port
// after the other) followed by the same ovn-controller.
//
//   npm run bench:ovn -- [--ports 200] [--peer DIR]
// "desired" is the moment the whole burst is handed over: vifd's list
// document written; os-vif's loop about to start. "plugged" is each tool's
// own word: vifd's status pluggedAt, os-vif's plug() returning. vifd runs
// with --ready-when ovn-installed, so its desired → Ready is reported too.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { OvsMonitor, ReconnectingOvsdbClient } from '../src/host/ovsdb/index.js';
import { nbctl, startOvnCentral, startOvnController, stopOvn, type PrivateOvn } from '../test/helpers/ovn.js';
import type { PrivateOvs } from '../test/helpers/ovs.js';

const ROOT = resolve(import.meta.dirname, '../..');
const { values } = parseArgs({ options: { ports: { type: 'string', default: '200' }, peer: { type: 'string', default: resolve(ROOT, 'bench/peer') } } });
const N = Number(values.ports);
const BIN = join(ROOT, 'bin/vifd.js');
const OVS_SCRIPT = join(ROOT, 'scripts/ovs-netns.sh');
const PEER = join(values.peer, 'osvif_plug_times.py');
const LIMIT_MS = 300_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Env {
  ovs: PrivateOvs;
  ovn: PrivateOvn;
  /** iface-id → epoch ms when ovn-installed=true was first seen. */
  installed: Map<string, number>;
  monitor: OvsMonitor;
  client: ReconnectingOvsdbClient;
}

async function setUp(tag: string, ids: string[]): Promise<Env> {
  const netns = `vifdbench-ovn${tag}-${process.pid}`;
  const dir = mkdtempSync(join(tmpdir(), `vifd-ovnbench-${tag}-`));
  execFileSync('bash', [OVS_SCRIPT, 'start', netns, dir], { stdio: 'ignore' });
  const socket = join(dir, 'db.sock');
  const ovs: PrivateOvs = { netns, dir, socket, address: `unix:${socket}` };
  const ovn = startOvnCentral(ovs);
  nbctl(ovn, 'ls-add', 'ls0');
  for (let i = 0; i < ids.length; i += 50) nbctl(ovn, ...ids.slice(i, i + 50).flatMap((id) => ['--', 'lsp-add', 'ls0', id]));
  startOvnController(ovn); // creates br-int (netdev)
  const client = new ReconnectingOvsdbClient(ovs.address, { minBackoffMs: 50, maxBackoffMs: 500 });
  await client.start(10_000);
  const monitor = new OvsMonitor(client);
  const installed = new Map<string, number>();
  monitor.on('change', (change, snap) => {
    const at = Date.now();
    for (const name of change.interfaces) {
      const ids = snap.interfaces.get(name)?.externalIds;
      const id = ids?.['iface-id'];
      if (id && ids['ovn-installed'] === 'true' && !installed.has(id)) installed.set(id, at);
    }
  });
  await monitor.start();
  const t0 = Date.now();
  while (!monitor.snapshot().bridges.has('br-int')) {
    if (Date.now() - t0 > 30_000) throw new Error('ovn-controller did not create br-int');
    await sleep(20);
  }
  return { ovs, ovn, installed, monitor, client };
}

async function tearDown(env: Env): Promise<void> {
  await env.monitor.stop().catch(() => undefined);
  env.client.close();
  try {
    stopOvn(env.ovn);
    execFileSync('bash', [OVS_SCRIPT, 'stop', env.ovs.netns, env.ovs.dir], { stdio: 'ignore' });
  } finally {
    execFileSync('ip', ['netns', 'del', env.ovs.netns]);
    rmSync(env.ovs.dir, { recursive: true, force: true });
  }
}

async function allInstalled(env: Env, ids: string[]): Promise<void> {
  const t0 = Date.now();
  while (ids.some((id) => !env.installed.has(id))) {
    if (Date.now() - t0 > LIMIT_MS) throw new Error(`ovn-installed on ${ids.filter((id) => env.installed.has(id)).length}/${ids.length} only`);
    await sleep(20);
  }
}

interface Result {
  plugged: number[];
  installed: number[];
  ready?: number[];
}

const vifdPort = (i: number) => `${(0x40000000 + i).toString(16)}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
const osvifPort = (i: number) => `${(0x10000000 + i).toString(16)}-0000-0000-0000-${i.toString(16).padStart(12, '0')}`;
const mac = (i: number) => `fa:16:3e:00:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;

function statuses(state: string): Map<string, { phase: string; pluggedAt?: string; readyAt?: string }> {
  const out = new Map<string, { phase: string; pluggedAt?: string; readyAt?: string }>();
  const dir = join(state, 'status');
  if (!existsSync(dir)) return out;
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.json') || f.startsWith('.')) continue;
    try {
      const s = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { port: string; phase: string; pluggedAt?: string; readyAt?: string };
      out.set(s.port, s);
    } catch {
      // being replaced; read again
    }
  }
  return out;
}

async function vifd(): Promise<Result> {
  const ids = Array.from({ length: N }, (_, i) => vifdPort(i));
  const env = await setUp('vifd', ids);
  const desired = join(env.ovs.dir, 'desired');
  const state = join(env.ovs.dir, 'state');
  mkdirSync(desired);
  const child = spawn(process.execPath, [BIN, 'run', '--desired-dir', desired, '--state-dir', state, '--netns', env.ovs.netns, '--ovsdb', env.ovs.address, '--ready-when', 'ovn-installed'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, VIFD_LOG_LEVEL: 'warn' },
  });
  try {
    while (!existsSync(join(state, 'summary.json'))) await sleep(10);
    const items = ids.map((port, i) => ({ apiVersion: 'vifd/v1', kind: 'PortBinding', port, mac: mac(i), mtu: 1450, vif: { type: 'ovs', bridge: 'br-int', hybrid: true, datapathType: 'netdev', profile: {} } }));
    const t0 = Date.now();
    writeFileSync(join(desired, 'bench.json'), JSON.stringify({ apiVersion: 'vifd/v1', kind: 'PortBindingList', items }));
    await allInstalled(env, ids);
    let s = statuses(state);
    while (ids.some((id) => s.get(id)?.readyAt === undefined)) {
      if (Date.now() - t0 > LIMIT_MS) throw new Error('vifd: not all Ready');
      await sleep(50);
      s = statuses(state);
    }
    return {
      plugged: ids.map((id) => Date.parse(s.get(id)!.pluggedAt!) - t0),
      installed: ids.map((id) => env.installed.get(id)! - t0),
      ready: ids.map((id) => Date.parse(s.get(id)!.readyAt!) - t0),
    };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await tearDown(env);
  }
}

function runPeer(args: string[]): Promise<string> {
  return new Promise((resolvePeer, reject) => {
    const child = spawn('ip', args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolvePeer(out) : reject(new Error(`os-vif peer exited ${code}: ${out.slice(-400)}`))));
  });
}

async function osvif(): Promise<Result> {
  const ids = Array.from({ length: N }, (_, i) => osvifPort(i));
  const env = await setUp('osvif', ids);
  try {
    // Not execFileSync: the monitor must see ovn-controller's writes while os-vif plugs.
    const out = await runPeer(['netns', 'exec', env.ovs.netns, '/usr/bin/python3', PEER, String(N), env.ovs.socket, 'native']);
    const start = Number(/^start (\d+)$/mu.exec(out)?.[1]);
    const plugged = new Map([...out.matchAll(/^plugged (\S+) (\d+)$/gmu)].map((m) => [m[1]!, Number(m[2])]));
    if (!Number.isFinite(start) || plugged.size !== N) throw new Error(`os-vif output: ${out.slice(0, 400)}`);
    await allInstalled(env, ids);
    return { plugged: ids.map((id) => plugged.get(id)! - start), installed: ids.map((id) => env.installed.get(id)! - start) };
  } finally {
    await tearDown(env);
  }
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}
const ms = (x: number) => `${(x / 1000).toFixed(3).padStart(7)} s`;
const line = (label: string, xs: number[]) => `  ${label.padEnd(38)} p50 ${ms(pct(xs, 50))}   p99 ${ms(pct(xs, 99))}`;

const v = await vifd();
console.log(`ovn bench: N=${N} hybrid ports on br-int, OVN (ovn-northd + ovn-controller, userspace datapath)`);
console.log(line('vifd   desired → plugged', v.plugged));
console.log(line('vifd   desired → ovn-installed', v.installed));
console.log(line('vifd   desired → Ready (ovn-installed)', v.ready!));
if (!existsSync(PEER)) {
  console.log(`  (no peer: ${PEER} missing)`);
} else {
  const o = await osvif();
  console.log(line('os-vif desired → plugged', o.plugged));
  console.log(line('os-vif desired → ovn-installed', o.installed));
  const r = (a: number[], b: number[], p: number) => (pct(b, p) / pct(a, p)).toFixed(1);
  console.log(`  vifd vs os-vif: plugged p50 ${r(v.plugged, o.plugged, 50)}x, p99 ${r(v.plugged, o.plugged, 99)}x faster; ovn-installed p50 ${r(v.installed, o.installed, 50)}x, p99 ${r(v.installed, o.installed, 99)}x faster`);
}
