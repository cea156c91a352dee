// Benchmark: N `bridge` bindings across B bridges. Cold start to all Ready,
// unplug of all, RSS and idle CPU of the daemon; beside it, in the same run,
// the same host operations as one `ip -batch` (the floor).
//
//   npm run bench -- [--bindings 1000] [--bridges 50] [--idle-seconds 10]
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    bindings: { type: 'string', default: '1000' },
    bridges: { type: 'string', default: '50' },
    'idle-seconds': { type: 'string', default: '10' },
  },
});
const N = Number(values.bindings);
const B = Number(values.bridges);
const IDLE_S = Number(values['idle-seconds']);
const BIN = resolve(import.meta.dirname, '../../bin/vifd.js');
const CLK_TCK = 100;

const port = (i: number) => {
  const hex = (0x30000000 + i).toString(16);
  return `${hex}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
};
const mac = (i: number) => `fa:16:3e:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
const bridgeOf = (i: number) => `brbench-${i % B}`;
const tapOf = (i: number) => `tap${port(i)}`.slice(0, 14);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ip = (netns: string, ...args: string[]) => execFileSync('ip', ['-n', netns, ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
const linkCount = (netns: string) => (JSON.parse(ip(netns, '-j', 'link', 'show')) as unknown[]).length - 1; // minus lo

function ipBatch(netns: string, lines: string[]): number {
  const t = performance.now();
  execFileSync('ip', ['-n', netns, '-batch', '-'], { input: lines.join('\n') + '\n' });
  return (performance.now() - t) / 1000;
}

function floor(): { plug: number; unplug: number } {
  const netns = `vifdbench-floor-${process.pid}`;
  execFileSync('ip', ['netns', 'add', netns]);
  try {
    const plug: string[] = [];
    for (let b = 0; b < B; b++) plug.push(`link add name brbench-${b} group 4242 type bridge forward_delay 0 stp_state 0`, `link set dev brbench-${b} alias vifd:bridge addrgenmode none up`);
    for (let i = 0; i < N; i++) plug.push(`tuntap add dev ${tapOf(i)} mode tap`);
    for (let i = 0; i < N; i++) plug.push(`link set dev ${tapOf(i)} group 4242 alias vifd:port:${port(i)} address fe${mac(i).slice(2)} mtu 1450 master ${bridgeOf(i)} up`);
    const plugS = ipBatch(netns, plug);
    const unplug = ['link del group 4242'];
    const unplugS = ipBatch(netns, unplug);
    if (linkCount(netns) !== 0) throw new Error('floor unplug left devices');
    return { plug: plugS, unplug: unplugS };
  } finally {
    execFileSync('ip', ['netns', 'del', netns]);
  }
}

function hostConverged(netns: string): boolean {
  const out = execFileSync('ip', ['-n', netns, '-j', 'link', 'show'], { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
  const links = JSON.parse(out) as Array<{ ifname: string; master?: string; flags: string[]; group?: string }>;
  const byName = new Map(links.map((l) => [l.ifname, l]));
  for (let i = 0; i < N; i++) {
    const tap = byName.get(tapOf(i));
    if (!tap || tap.master !== bridgeOf(i) || !tap.flags.includes('UP') || tap.group !== '4242') return false;
  }
  return true;
}

function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}

function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))!;
  return Number(line.split(/\s+/)[1]) / 1024;
}

function summary(stateDir: string): Record<string, number> {
  try {
    return JSON.parse(readFileSync(join(stateDir, 'summary.json'), 'utf8')) as Record<string, number>;
  } catch {
    return {};
  }
}

async function vifdRun(): Promise<Record<string, number>> {
  const netns = `vifdbench-${process.pid}`;
  const root = mkdtempSync(join(tmpdir(), 'vifd-bench-'));
  const desired = join(root, 'desired');
  const state = join(root, 'state');
  mkdirSync(desired);
  execFileSync('ip', ['netns', 'add', netns]);
  let child: ReturnType<typeof spawn> | undefined;
  try {
    for (let i = 0; i < N; i++) {
      writeFileSync(join(desired, `${port(i)}.json`), JSON.stringify({ apiVersion: 'vifd/v1', kind: 'PortBinding', port: port(i), mac: mac(i), mtu: 1450, vif: { type: 'bridge', bridge: bridgeOf(i) } }));
    }
    const t0 = performance.now();
    child = spawn(process.execPath, [BIN, 'run', '--desired-dir', desired, '--state-dir', state, '--netns', netns], { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, VIFD_LOG_LEVEL: 'warn' } });
    // Converged: every tap exists, marked, in its bridge, up (what the floor does).
    let converged: number | undefined;
    while ((summary(state)['Ready'] ?? 0) < N) {
      if (child.exitCode !== null) throw new Error('vifd exited');
      if (performance.now() - t0 > 120_000) throw new Error(`not converged: ${JSON.stringify(summary(state))}`);
      if (converged === undefined && hostConverged(netns)) converged = (performance.now() - t0) / 1000;
      await sleep(10);
    }
    const cold = converged ?? (performance.now() - t0) / 1000;
    const allReady = (performance.now() - t0) / 1000;
    if (linkCount(netns) !== N + B) throw new Error(`expected ${N + B} links, found ${linkCount(netns)}`);
    await sleep(1000); // let the events of its own changes settle
    const rss = rssMb(child.pid!);
    const ticks0 = cpuTicks(child.pid!);
    await sleep(IDLE_S * 1000);
    const idleCpu = ((cpuTicks(child.pid!) - ticks0) / CLK_TCK / IDLE_S) * 100;
    const rssAfterIdle = rssMb(child.pid!);

    const t1 = performance.now();
    for (const name of readdirSync(desired)) unlinkSync(join(desired, name));
    while (linkCount(netns) > 0) {
      if (performance.now() - t1 > 120_000) throw new Error('unplug did not finish');
      await sleep(10);
    }
    const unplug = (performance.now() - t1) / 1000;
    return { cold, allReady, unplug, rss: Math.max(rss, rssAfterIdle), idleCpu };
  } finally {
    child?.kill('SIGTERM');
    await sleep(200);
    execFileSync('ip', ['netns', 'del', netns]);
    rmSync(root, { recursive: true, force: true });
  }
}

const f = floor();
const v = await vifdRun();
const fmt = (x: number) => x.toFixed(3);
console.log(`bridge bench: N=${N} bindings on ${B} bridges`);
console.log(`  floor  plug   ${fmt(f.plug)} s   (one ip -batch: ${B} bridges + ${N} taps, marked, enslaved, up)`);
console.log(`  vifd   cold   ${fmt(v.cold!)} s   (process start → host converged: every tap marked, enslaved, up)   ratio ${(v.cold! / f.plug).toFixed(2)}x floor   goal ≤ 3x and < 2 s`);
console.log(`  vifd   ready  ${fmt(v.allReady!)} s   (process start → all ${N} Ready in <state>/status: ${N} files created, fsynced by one syncfs)`);
console.log(`  floor  unplug ${fmt(f.unplug)} s   (ip link del group)`);
console.log(`  vifd   unplug ${fmt(v.unplug!)} s   (files removed → no device left)   ratio ${(v.unplug! / f.unplug).toFixed(2)}x floor   goal ≤ 2x`);
console.log(`  vifd   RSS    ${v.rss!.toFixed(1)} MB   goal < 150 MB`);
console.log(`  vifd   idle   ${v.idleCpu!.toFixed(2)} % of a core over ${IDLE_S} s with ${N} converged bindings   goal < 1 %`);
