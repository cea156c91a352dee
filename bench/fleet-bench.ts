// Benchmark: a fleet converging from one 3-member etcd cluster. For each size
// N (one run per size, fresh cluster): N vifd processes, each on its own
// throwaway netns as one simulated host, B bridge bindings each, written in
// one burst (one transaction per host): time until all N*B statuses are Ready
// in etcd. Then the member a third of the hosts watch on (each host lists the
// members in a rotated order) is SIGKILLed: time until those watches resumed
// on another member, full relists (goal 0), and time until one new binding per
// host is Ready through the surviving members. And each vifd's RSS.
//
// Floors and peers, measured in the same run:
//  - kernel floor: the same N*B taps (and bridges) made with `ip -batch`, one
//    process per namespace, before any vifd starts (then deleted);
//  - etcd floor: one watcher in this process sees the whole burst (time from
//    the first write to the last event);
//  - RSS peer: an idle `node` process.
// Sizes go up until one does not fit (a timeout, or memory below a floor);
// the last size that converged is reported as the largest that fits.
//
//   npm run bench:fleet -- [--sizes 10,25,50,100] [--bindings 100] [--timeout-s 600] [--write-timeout-s 5]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { freemem, loadavg, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { EtcdClient } from '../src/sources/etcd/client.js';
import { HOSTS_ROOT, bindingsPrefix, parseHostKey } from '../src/sources/etcd/keys.js';
import { WatchSession } from '../src/sources/etcd/watch.js';
import { TestEtcdCluster } from '../test/helpers/etcd.js';
import { createNetns, deleteNetns, uniqueNetnsName } from '../test/helpers/netns.js';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10,25,50,100' },
    bindings: { type: 'string', default: '100' },
    'timeout-s': { type: 'string', default: '600' },
    /** The controller's (this bench's) per-request etcd timeout, for the burst. */
    'write-timeout-s': { type: 'string', default: '5' },
  },
});
const SIZES = values.sizes.split(',').map(Number);
const B = Number(values.bindings);
const TIMEOUT_MS = Number(values['timeout-s']) * 1000;
const WRITE_TIMEOUT_MS = Number(values['write-timeout-s']) * 1000;
const BIN = resolve(import.meta.dirname, '../../bin/vifd.js');
const BRIDGES = 5;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const secs = (ms: number) => (ms / 1000).toFixed(2);
const mib = (kib: number) => (kib / 1024).toFixed(0);

const port = (h: number, i: number) => `${(0x40000000 + h * 0x10000 + i).toString(16)}-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;
const mac = (h: number, i: number) => `fa:16:3e:${h.toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
const tap = (h: number, i: number) => `tap${port(h, i)}`.slice(0, 14);
const binding = (h: number, i: number) =>
  JSON.stringify({ apiVersion: 'vifd/v1', kind: 'PortBinding', port: port(h, i), mac: mac(h, i), vif: { type: 'bridge', bridge: `brb${i % BRIDGES}` } });

interface SimHost {
  name: string;
  netns: string;
  root: string;
  /** Index of the member it lists first (and watches on first). */
  first: number;
  child?: ChildProcess;
}

let hosts: SimHost[] = [];
let cluster: TestEtcdCluster | undefined;

function summary(h: SimHost): Record<string, number> | undefined {
  try {
    return JSON.parse(readFileSync(join(h.root, 'state', 'summary.json'), 'utf8')) as Record<string, number>;
  } catch {
    return undefined;
  }
}

function rssKiB(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    return Number(/VmRSS:\s+(\d+)/u.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

async function waitUntil(what: string, timeoutMs: number, check: () => boolean | Promise<boolean>, everyMs = 100): Promise<number> {
  const start = performance.now();
  for (;;) {
    if (await check()) return performance.now() - start;
    if (performance.now() - start > timeoutMs) throw new Error(`timed out after ${secs(timeoutMs)} s: ${what}`);
    await sleep(everyMs);
  }
}

async function cleanup(): Promise<void> {
  await Promise.all(
    hosts.map(async (h) => {
      const child = h.child;
      if (child && child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, sleep(5000).then(() => child.kill('SIGKILL'))]);
      }
      deleteNetns(h.netns);
      rmSync(h.root, { recursive: true, force: true });
    }),
  );
  hosts = [];
  await cluster?.stop();
  cluster = undefined;
}

/** Kernel floor: the same taps and bridges with `ip -batch`, one process per namespace (in parallel, 2 at a time per core). */
async function kernelFloorMs(n: number): Promise<number> {
  const start = performance.now();
  const batch = (h: number, del: boolean) => {
    const lines: string[] = [];
    if (!del) for (let b = 0; b < BRIDGES; b++) lines.push(`link add brb${b} type bridge`, `link set brb${b} up`);
    for (let i = 0; i < B; i++) lines.push(del ? `link del ${tap(h, i)}` : `tuntap add dev ${tap(h, i)} mode tap`);
    if (!del) for (let i = 0; i < B; i++) lines.push(`link set ${tap(h, i)} address ${mac(h, i)} master brb${i % BRIDGES} up`);
    if (del) for (let b = 0; b < BRIDGES; b++) lines.push(`link del brb${b}`);
    return lines.join('\n') + '\n';
  };
  const run = (h: number, del: boolean) =>
    new Promise<void>((ok, fail) => {
      const child = spawn('ip', ['-n', hosts[h]!.netns, '-batch', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      child.on('exit', (code) => (code === 0 ? ok() : fail(new Error(`ip -batch in ${hosts[h]!.netns}: ${err}`))));
      child.stdin.end(batch(h, del));
    });
  const parallel = async (del: boolean) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < n) await run(next++, del);
      }),
    );
  };
  await parallel(false);
  const ms = performance.now() - start;
  await parallel(true);
  return ms;
}

interface SizeResult {
  n: number;
  ok: boolean;
  line: string;
}

async function runSize(n: number): Promise<SizeResult> {
  cluster = await TestEtcdCluster.start(3);
  const urls = cluster.members.map((m) => m.url);
  const client = new EtcdClient(urls, WRITE_TIMEOUT_MS);
  for (let h = 0; h < n; h++) {
    const netns = uniqueNetnsName(`fb${h}`);
    hosts.push({ name: `sim-${h}-${netns}`, netns, root: mkdtempSync(join(tmpdir(), 'vifd-fleetbench-')), first: h % 3 });
    createNetns(netns);
  }
  const floorMs = await kernelFloorMs(n);
  console.log(`[N=${n}] kernel floor: ${n * B} taps on ${n * BRIDGES} bridges with ip -batch in ${secs(floorMs)} s`);

  for (const sim of hosts) {
    const order = [...urls.slice(sim.first), ...urls.slice(0, sim.first)].join(',');
    sim.child = spawn(
      process.execPath,
      [BIN, 'run', '--desired-dir', join(sim.root, 'desired'), '--state-dir', join(sim.root, 'state'), '--netns', sim.netns, '--etcd', order, '--hostname', sim.name],
      { stdio: 'ignore', env: { ...process.env, VIFD_LOG_LEVEL: 'warn' } },
    );
  }
  const aliveMs = await waitUntil('all hosts alive', Math.max(120_000, n * 3000), async () => {
    const { kvs } = await client.rangePrefix(HOSTS_ROOT, { keysOnly: true });
    return kvs.filter((kv) => parseHostKey(kv.key)?.kind === 'alive').length === n;
  }, 500);
  console.log(`[N=${n}] ${n} vifd processes up and alive in etcd after ${secs(aliveMs)} s (load ${loadavg()[0]!.toFixed(1)})`);

  // etcd floor: one watcher sees every binding put of the burst.
  const total = n * B;
  let seen = 0;
  let firstEvent = 0;
  let lastEvent = 0;
  const startRev = (await client.rangePrefix('/vifd/v1/none/', { keysOnly: true })).revision;
  const watcher = new WatchSession(client, HOSTS_ROOT, startRev + 1, {
    onCreated: () => undefined,
    onEvents: (events) => {
      for (const e of events) if (e.type === 'put' && parseHostKey(e.kv.key)?.kind === 'binding') seen++;
      if (!firstEvent) firstEvent = performance.now();
      if (seen >= total && !lastEvent) lastEvent = performance.now();
    },
    onProgress: () => undefined,
  });
  const watching = watcher.run().catch(() => undefined);
  await sleep(200);

  const burstStart = performance.now();
  await Promise.all(
    hosts.map((sim, h) => client.txn(Array.from({ length: B }, (_, i) => ({ put: { key: `${bindingsPrefix(sim.name)}${port(h, i)}`, value: binding(h, i) } })))),
  );
  const writeMs = performance.now() - burstStart;
  let ready = 0;
  let readyMs: number;
  try {
    await waitUntil(`all ${total} statuses Ready (${ready} so far)`, TIMEOUT_MS, async () => {
      const { kvs } = await client.rangePrefix(HOSTS_ROOT);
      ready = kvs.filter((kv) => parseHostKey(kv.key)?.kind === 'status' && (JSON.parse(kv.value) as { phase?: string }).phase === 'Ready').length;
      return ready === total;
    }, 500);
    readyMs = performance.now() - burstStart;
  } catch (error) {
    watcher.close();
    return { n, ok: false, line: `N=${n}: did not converge: ${ready}/${total} Ready after ${secs(TIMEOUT_MS)} s (${(error as Error).message}); load ${loadavg()[0]!.toFixed(1)}, free memory ${(freemem() / 2 ** 30).toFixed(1)} GiB` };
  }
  watcher.close();
  await watching;
  const etcdFloorMs = lastEvent ? lastEvent - burstStart : NaN;
  const rss = hosts.map((h) => rssKiB(h.child?.pid)).sort((a, b) => a - b);
  const idle = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  await sleep(500);
  const idleRss = rssKiB(idle.pid);
  idle.kill('SIGKILL');
  const etcdRss = cluster.members.map((m) => rssKiB(m.pid));
  console.log(
    `[N=${n}] burst: ${total} bindings written in ${secs(writeMs)} s; all Ready in etcd after ${secs(readyMs)} s (${Math.round(total / (readyMs / 1000))} bindings/s); ` +
      `floors: kernel ${secs(floorMs)} s (x${(readyMs / floorMs).toFixed(1)}), etcd watch ${secs(etcdFloorMs)} s`,
  );
  console.log(
    `[N=${n}] RSS per vifd: min ${mib(rss[0]!)} / median ${mib(rss[Math.floor(n / 2)]!)} / max ${mib(rss[n - 1]!)} MiB (idle node peer ${mib(idleRss)} MiB); ` +
      `all vifd ${(rss.reduce((a, b) => a + b, 0) / 2 ** 20).toFixed(2)} GiB; etcd members ${etcdRss.map(mib).join('/')} MiB; free ${(freemem() / 2 ** 30).toFixed(1)}/${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
  );

  // Kill the member a third of the hosts watch on.
  await waitUntil('summaries live', 30_000, () => hosts.every((h) => summary(h)?.['etcdStale'] === 0));
  const before = hosts.map((h) => summary(h)?.['etcdResumes'] ?? 0);
  const relistsBefore = hosts.reduce((s, h) => s + (summary(h)?.['etcdRelists'] ?? 0), 0);
  // Hosts list member 0 first for a third of them, but a host whose first call
  // timed out at start already moved on: which watches break is observed, not assumed.
  const listFirst = hosts.filter((h) => h.first === 0).length;
  const killAt = performance.now();
  await cluster.members[0]!.kill('SIGKILL');
  const resumedAt = new Map<number, number>();
  let resumeNote = '';
  let quietSince = performance.now();
  try {
    await waitUntil('watches on the killed member resumed', 120_000, () => {
      let live = true;
      hosts.forEach((h, i) => {
        const s = summary(h);
        if (!s || s['etcdStale'] !== 0) live = false;
        else if (!resumedAt.has(i) && (s['etcdResumes'] ?? 0) > before[i]!) {
          resumedAt.set(i, performance.now() - killAt);
          quietSince = performance.now();
        }
      });
      return live && resumedAt.size > 0 && performance.now() - quietSince > 5000;
    }, 50);
  } catch (error) {
    resumeNote = ` (${(error as Error).message}: ${resumedAt.size} resumed, ${hosts.filter((h) => summary(h)?.['etcdStale'] !== 0).length} still stale)`;
  }
  const times = [...resumedAt.values()].sort((a, b) => a - b);
  const relists = hosts.reduce((s, h) => s + (summary(h)?.['etcdRelists'] ?? 0), 0) - relistsBefore;
  // One new binding per host, written through the survivors, Ready via the resumed watches.
  const survivors = new EtcdClient(urls.slice(1), WRITE_TIMEOUT_MS);
  const afterStart = performance.now();
  await Promise.all(hosts.map((sim, h) => survivors.put(`${bindingsPrefix(sim.name)}${port(h, B)}`, binding(h, B))));
  const afterMs = await waitUntil('new bindings Ready after the kill', 120_000, async () => {
    const { kvs } = await survivors.rangePrefix(HOSTS_ROOT);
    const all = kvs.filter((kv) => parseHostKey(kv.key)?.kind === 'status' && (JSON.parse(kv.value) as { phase?: string }).phase === 'Ready').length;
    return all === total + n;
  }, 200).catch(() => NaN);
  console.log(
    `[N=${n}] member killed (listed first by ${listFirst} host(s)): ${resumedAt.size} watch(es) broke and resumed on another member after median ${secs(times[Math.floor(times.length / 2)] ?? NaN)} / max ${secs(times[times.length - 1] ?? NaN)} s${resumeNote}; ` +
      `full relists: ${relists}; ${n} new bindings written after the kill Ready after ${secs(afterMs)} s`,
  );
  const ok = resumeNote === '' && relists === 0 && Number.isFinite(afterMs);
  return {
    n,
    ok,
    line:
      `N=${n} x ${B}: ${total} Ready ${secs(readyMs)} s (kernel floor ${secs(floorMs)} s, x${(readyMs / floorMs).toFixed(1)}; etcd watch floor ${secs(etcdFloorMs)} s); ` +
      `resume after member kill max ${secs(times[times.length - 1] ?? NaN)} s, relists ${relists}; RSS median ${mib(rss[Math.floor(n / 2)]!)} MiB (idle node ${mib(idleRss)} MiB)`,
  };
}

let exitCode = 0;
process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));
const results: SizeResult[] = [];
try {
  for (const n of SIZES) {
    const free = freemem();
    if (free < 2 * 2 ** 30) {
      results.push({ n, ok: false, line: `N=${n}: not started: only ${(free / 2 ** 30).toFixed(1)} GiB free` });
      break;
    }
    let result: SizeResult;
    try {
      result = await runSize(n);
    } catch (error) {
      result = { n, ok: false, line: `N=${n}: failed: ${(error as Error).message}` };
    }
    await cleanup();
    results.push(result);
    console.log(`[N=${n}] ${result.ok ? 'fits' : 'DOES NOT FIT'}`);
    if (!result.ok) break;
  }
} catch (error) {
  console.error(error);
  exitCode = 1;
} finally {
  await cleanup();
}
console.log('\nsummary:');
for (const r of results) console.log(`  ${r.ok ? 'ok ' : 'NO '} ${r.line}`);
const largest = results.filter((r) => r.ok).pop();
console.log(largest ? `largest size that fits: N=${largest.n} (x ${B} bindings)` : 'no size fit');
process.exit(exitCode);
