// The soak: the real `vifd run` (a child process, with --expose-gc and the
// debug GC endpoint) on a throwaway namespace under seeded churn for M
// minutes: desired files added, changed (MTU, bridge) and removed at ~20/s,
// each add a port never seen before, and taps deleted behind vifd's back
// ~1/s. Every 5 s it samples RSS, open fds and child processes from /proc;
// every minute it forces a full GC through POST /debug/gc and records the
// heap used after it. At the end: the heap slope per hour (least squares
// after warm-up), whether every desired file matches its device, and, once
// everything is removed, whether the heap is back near a fresh start's.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { ApiClient } from '../../src/api/client.js';
import type { GcReport } from '../../src/api/debug-gc.js';
import { DEFAULT_RING_MAX_AGE_MS } from '../../src/api/watch-hub.js';
import type { IpLinkJson } from '../../test/helpers/netns.js';
import { makeBinding, VIFD_GROUP, type ChaosBinding, type Topology } from '../../test/support/chaos/world.js';
import { linearFit, type LineFit } from '../../test/support/fit.js';
import { Netns } from '../../test/support/netns.js';
import { Prng } from '../../test/support/prng.js';
import { waitReady } from '../../test/support/readiness.js';
import { VifdChild } from '../../test/support/vifd-child.js';
import { sampleProcess, type ProcSample } from './proc.js';

export interface SoakOptions {
  minutes: number;
  bindings: number;
  seed: number;
  /** Desired-file changes per second. */
  changesPerSecond: number;
  /** Taps deleted behind vifd's back per second. */
  tapDeletesPerSecond: number;
  keep: boolean;
  log: (line: string) => void;
  /** Writes a heap snapshot of vifd once everything is removed (kept in the run's directory). */
  heapSnapshot?: boolean;
  /** Aborts the run (SIGINT): the namespace and vifd are still cleaned up. */
  signal?: AbortSignal;
}

export interface MinuteRow {
  minute: number;
  adds: number;
  changes: number;
  removes: number;
  tapDeletes: number;
  desired: number;
  heapUsedAfterGc: number;
  heapTotal: number;
  /** RSS right after the minute's full GC. */
  rssAfterGc: number;
  rssMin: number;
  rssMax: number;
  /** Memory outside the V8 heap: Buffers, ArrayBuffers (after the GC). */
  external: number;
  fdsMax: number;
  childrenMax: number;
}

export interface SoakResult {
  ok: boolean;
  rows: MinuteRow[];
  fit: LineFit | undefined;
  mismatches: string[];
  leaks: string[];
  freshHeap: number;
  warmHeap: number;
  emptyHeap: number;
  logErrors: number;
  root: string;
}

const MTUS = [1400, 1450, 1500] as const;
const BRIDGES = ['brq-soak-a', 'brq-soak-b', 'brq-soak-c'];
/** Heap after everything is removed may exceed the warmed-up empty daemon's by this much. */
export const GIVE_BACK_MARGIN = { bytes: 2 * 1024 * 1024, ratio: 0.1 };

const mb = (bytes: number) => (bytes / (1024 * 1024)).toFixed(1);

interface Slot {
  binding: ChaosBinding;
}

export async function runSoak(o: SoakOptions): Promise<SoakResult> {
  const sleep = (ms: number) => delay(ms, undefined, o.signal ? { signal: o.signal } : {});
  const waitFor = (test: () => Promise<boolean>, timeoutMs: number, what: string) => waitUntil(test, timeoutMs, what, sleep);
  const rng = new Prng(o.seed);
  const tag = (Math.imul(o.seed >>> 0, 2654435761) >>> 24) & 0xff;
  const nsName = `vifdsoak-${o.seed}-${randomBytes(2).toString('hex')}`;
  const root = mkdtempSync(join(tmpdir(), 'vifd-soak-'));
  const dirs = { desired: join(root, 'desired'), state: join(root, 'state'), log: join(root, 'vifd.log') };
  mkdirSync(dirs.desired);
  const topo: Topology = { vifdBridges: BRIDGES, foreignBridge: 'unused', ovsBridge: 'unused', uplink: 'unused', tag };
  const ns = Netns.create(nsName);
  const vifd = new VifdChild(['run', '--desired-dir', dirs.desired, '--state-dir', dirs.state, '--netns', nsName], dirs.log, { VIFD_DEBUG_GC: '1', RUNTIME_DIRECTORY: join(dirs.state, '..', 'run') }, [
    '--expose-gc',
    ...(o.heapSnapshot ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${root}`] : []),
  ]);
  const api = new ApiClient({ kind: 'unix', path: join(dirs.state, 'vifd.sock') });
  let ok = false;
  try {
    vifd.start();
    await waitReady(dirs.state, { timeoutMs: 40_000, alive: () => vifd.running });
    await sleep(3000);
    const freshHeap = await heapAfterGc(api);
    const freshSpaces = await heapSpaces(api);
    o.log(`soak: netns ${nsName}, seed ${o.seed}, ${o.bindings} bindings, ${o.minutes} min, ${o.changesPerSecond} changes/s, ${o.tapDeletesPerSecond} tap deletions/s; fresh start heap ${mb(freshHeap)} MB after GC; state ${root}`);

    // The model: slot i holds binding `slots[i]` or nothing; each add is a new port.
    const slots: Array<Slot | undefined> = new Array(o.bindings).fill(undefined);
    let nextN = 1;
    const write = (b: ChaosBinding) => {
      const tmp = join(dirs.desired, `.${b.file}.tmp`);
      writeFileSync(tmp, JSON.stringify(b.doc, null, 2));
      renameSync(tmp, join(dirs.desired, b.file));
    };
    const fresh = (n: number, mtu: number, bridge: string): ChaosBinding => ({ ...makeBinding(topo, n, 'bridge', { mtu, bridge }), file: `soak-${n}.json` });
    const plugAll = async (): Promise<void> => {
      for (let i = 0; i < o.bindings; i++) {
        const b = fresh(nextN++, rng.pick(MTUS), rng.pick(BRIDGES));
        slots[i] = { binding: b };
        write(b);
      }
      await waitFor(async () => (await readyCount(api)) >= o.bindings, 120_000, `${o.bindings} bindings Ready`);
    };
    const present = () => slots.filter((s): s is Slot => s !== undefined);
    /** Removes every file, waits until vifd has unplugged them all and the
     * watch history's age bound has passed; the heap after GC then. */
    const unplugAll = async (what: string): Promise<{ heap: number; spaces: Map<string, number> }> => {
      for (let i = 0; i < slots.length; i++) {
        const slot = slots[i];
        if (slot) unlinkSync(join(dirs.desired, slot.binding.file));
        slots[i] = undefined;
      }
      await waitFor(async () => (await statusTotal(api)) === 0 && [...(await ns.links()).values()].every((l) => l.group !== VIFD_GROUP), 120_000, 'every binding unplugged');
      await sleep(15_000);
      const soon = await heapAfterGc(api);
      const historyWait = DEFAULT_RING_MAX_AGE_MS + 20_000;
      o.log(`${what}: all removed; heap ${mb(soon)} MB after GC 15 s later; waiting ${historyWait / 1000} s for the watch history's age bound`);
      await sleep(historyWait);
      return { heap: await heapAfterGc(api), spaces: await heapSpaces(api) };
    };

    // Warm-up: plug and unplug K bindings once, so the reference heap has
    // vifd's code compiled too (a cold start has not run the planner yet).
    await plugAll();
    const warm = await unplugAll('warm-up');
    o.log(`warm-up: heap ${mb(warm.heap)} MB after GC with nothing desired (fresh start ${mb(freshHeap)} MB)`);
    await plugAll();

    const counts = { adds: 0, changes: 0, removes: 0, tapDeletes: 0 };
    const churnOnce = () => {
      const i = rng.int(0, o.bindings - 1);
      const slot = slots[i];
      if (!slot) {
        const b = fresh(nextN++, rng.pick(MTUS), rng.pick(BRIDGES));
        slots[i] = { binding: b };
        write(b);
        counts.adds++;
      } else if (rng.chance(0.6)) {
        const old = slot.binding;
        const mtu = old.doc.mtu ?? 1500;
        const bridge = old.spec.sharedBridge!;
        const b = rng.chance(0.3)
          ? fresh(old.n, mtu, rng.pick(BRIDGES.filter((x) => x !== bridge)))
          : fresh(old.n, rng.pick(MTUS.filter((m) => m !== mtu)), bridge);
        slot.binding = b;
        write(b);
        counts.changes++;
      } else {
        unlinkSync(join(dirs.desired, slot.binding.file));
        slots[i] = undefined;
        counts.removes++;
      }
    };
    let deleting = Promise.resolve();
    const deleteTap = () => {
      const candidates = present();
      if (candidates.length === 0) return;
      const tap = rng.pick(candidates).binding.spec.targetDev;
      deleting = deleting.then(async () => {
        try {
          await ns.ip('link', 'del', tap);
          counts.tapDeletes++;
        } catch {
          // not there right now (being re-created, or just removed): no deletion
        }
      });
    };

    // Churn on fixed ticks (seeded choices; the timing is the machine's).
    const changeEvery = 1000 / o.changesPerSecond;
    const tapEvery = o.tapDeletesPerSecond > 0 ? 1000 / o.tapDeletesPerSecond : Infinity;
    const started = Date.now();
    const end = started + o.minutes * 60_000;
    let changesDone = 0;
    let tapsDone = 0;
    const churn = setInterval(() => {
      const elapsed = Date.now() - started;
      while (changesDone < elapsed / changeEvery) {
        churnOnce();
        changesDone++;
      }
      while (tapsDone < elapsed / tapEvery) {
        deleteTap();
        tapsDone++;
      }
    }, 10);

    const rows: MinuteRow[] = [];
    const metricChecks: string[] = [];
    o.log('min  adds  chg  rm  tapdel desired | heap MB (after GC) heapTotal external | RSS MB after GC, min..max | fds | children');
    try {
      for (let minute = 1; minute <= o.minutes; minute++) {
        const before = { ...counts };
        const samples: ProcSample[] = [];
        const minuteEnd = Math.min(end, started + minute * 60_000);
        while (Date.now() < minuteEnd) {
          await sleep(Math.min(5000, Math.max(0, minuteEnd - Date.now())));
          if (!vifd.running) throw new Error(`vifd exited (${vifd.unexpectedExits.join('; ')})`);
          const s = vifd.pid !== undefined ? sampleProcess(vifd.pid) : undefined;
          if (s) samples.push(s);
        }
        // What an operator sees: /metrics against /proc, read between two scrapes
        // (and before the GC: right after one, V8 gives pages back while we read).
        const scrape = async () => metricValues((await api.request<string>('GET', '/metrics')).text);
        const m1 = await scrape();
        const p = vifd.pid !== undefined ? sampleProcess(vifd.pid) : undefined;
        const m2 = await scrape();
        if (p) metricChecks.push(agreement(p, m1, m2));
        const gc = await gcReport(api);
        const procNow = vifd.pid !== undefined ? sampleProcess(vifd.pid) : undefined;
        const row: MinuteRow = {
          minute,
          adds: counts.adds - before.adds,
          changes: counts.changes - before.changes,
          removes: counts.removes - before.removes,
          tapDeletes: counts.tapDeletes - before.tapDeletes,
          desired: present().length,
          heapUsedAfterGc: gc.after.heapUsed,
          heapTotal: gc.after.heapTotal,
          rssAfterGc: procNow?.rssBytes ?? gc.after.rss,
          external: gc.after.external,
          rssMin: Math.min(...samples.map((s) => s.rssBytes)),
          rssMax: Math.max(...samples.map((s) => s.rssBytes)),
          fdsMax: Math.max(...samples.map((s) => s.fds)),
          childrenMax: Math.max(...samples.map((s) => s.children)),
        };
        rows.push(row);
        o.log(formatRow(row));
      }
    } finally {
      clearInterval(churn);
      await deleting;
    }
    o.log(`churn done: ${counts.adds} adds, ${counts.changes} changes, ${counts.removes} removes, ${counts.tapDeletes} taps deleted behind vifd's back`);

    // Every desired file against its device, once vifd has caught up.
    const desired = present().map((s) => s.binding);
    // (unplugAll below empties the slots.)
    let mismatches: string[] = [];
    let leaks: string[] = [];
    const settleBy = Date.now() + 60_000;
    do {
      await sleep(1000);
      ({ mismatches, leaks } = check(await ns.links(), desired));
    } while ((mismatches.length > 0 || leaks.length > 0) && Date.now() < settleBy);
    if (mismatches.length > 0) mismatches = await withStatuses(api, mismatches);

    // Everything removed: memory must be given back.
    const empty = await unplugAll('end');
    const emptyHeap = empty.heap;
    o.log(`heap used by V8 space with nothing desired, fresh start / after warm-up / at the end (MB): ${[...empty.spaces].map(([space, used]) => `${space} ${mb(freshSpaces.get(space) ?? 0)}/${mb(warm.spaces.get(space) ?? 0)}/${mb(used)}`).join(', ')}`);
    if (o.heapSnapshot && vifd.pid !== undefined) o.log(`heap snapshot with nothing desired: ${await heapSnapshot(vifd.pid, root, sleep)}`);
    const logErrors = errorLines(dirs.log).length;
    const code = await vifd.stop();

    const warmMinutes = rows.length >= 5 ? 2 : rows.length >= 3 ? 1 : 0;
    const fitRows = rows.slice(warmMinutes);
    const fit = linearFit(fitRows.map((r) => r.minute / 60), fitRows.map((r) => r.heapUsedAfterGc / (1024 * 1024)));
    // Compared without the code space: machine code of the functions V8 has
    // optimised by then (it grows with run time up to the program's size,
    // not with the changes seen; a heap snapshot shows it).
    const data = (r: { heap: number; spaces: Map<string, number> }) => r.heap - (r.spaces.get('code') ?? 0);
    const margin = Math.max(GIVE_BACK_MARGIN.bytes, data(warm) * GIVE_BACK_MARGIN.ratio);
    const givenBack = data(empty) <= data(warm) + margin;
    // /metrics must agree with /proc: RSS within 10 % (read moments apart), fds within 3.
    const disagreements = metricChecks.filter((c) => c !== '');
    const metricsAgree = disagreements.length === 0;
    for (const d of disagreements.slice(0, 5)) o.log(`/metrics vs /proc: ${d}`);
    const rssFirst = fitRows[0]?.rssAfterGc ?? 0;
    const rssLast = rows.at(-1)?.rssAfterGc ?? 0;
    const rssFit = linearFit(fitRows.map((r) => r.minute / 60), fitRows.map((r) => r.rssAfterGc / (1024 * 1024)));
    o.log('');
    for (const m of mismatches.slice(0, 20)) o.log(`mismatch: ${m}`);
    for (const l of leaks.slice(0, 20)) o.log(`leak: ${l}`);
    o.log(
      `verdict: heap slope ${fit ? `${fit.slope >= 0 ? '+' : ''}${fit.slope.toFixed(2)} MB/h (least squares over minutes ${warmMinutes + 1}-${rows.length}, r2 ${fit.r2.toFixed(2)})` : 'n/a (too few minutes)'}; ` +
        `heap after GC ${mb(fitRows[0]?.heapUsedAfterGc ?? 0)} -> ${mb(rows.at(-1)?.heapUsedAfterGc ?? 0)} MB; RSS after GC ${mb(rssFirst)} -> ${mb(rssLast)} MB${rssFit ? ` (${rssFit.slope >= 0 ? '+' : ''}${rssFit.slope.toFixed(1)} MB/h)` : ''}; ` +
        `fds max ${Math.max(...rows.map((r) => r.fdsMax))}, children max ${Math.max(...rows.map((r) => r.childrenMax))}; ` +
        `files matching their device: ${desired.length - mismatches.length}/${desired.length}${leaks.length ? `, ${leaks.length} leaked devices` : ''}; ` +
        `all removed: heap ${mb(emptyHeap)} MB vs ${mb(warm.heap)} MB after the warm-up, without code space ${mb(data(empty))} vs ${mb(data(warm))} MB (${data(empty) >= data(warm) ? '+' : ''}${mb(data(empty) - data(warm))} MB, margin ${mb(margin)}: ${givenBack ? 'given back' : 'NOT given back'}; cold fresh start ${mb(freshHeap)} MB); ` +
        `/metrics process_resident_memory_bytes and process_open_fds ${metricsAgree ? 'agree' : 'DISAGREE'} with /proc (${metricChecks.length} scrapes); log errors ${logErrors}; exit ${code}`,
    );
    ok = mismatches.length === 0 && leaks.length === 0 && givenBack && metricsAgree && code === 0 && vifd.unexpectedExits.length === 0;
    o.log(ok ? 'soak: PASS' : 'soak: FAIL');
    return { ok, rows, fit, mismatches, leaks, freshHeap, warmHeap: warm.heap, emptyHeap, logErrors, root };
  } catch (error) {
    // Say what vifd said (e.g. EMFILE: no inotify instance left for the desired directory's watch).
    const said = errorLines(dirs.log).slice(-3).map((l) => (JSON.parse(l) as { msg?: string; err?: { message?: string } }));
    const why = said.map((l) => `${l.msg ?? ''}${l.err?.message ? `: ${l.err.message}` : ''}`).join('; ');
    throw new Error(`${error instanceof Error ? error.message : String(error)}${why ? ` (vifd logged: ${why})` : ''}`, { cause: error });
  } finally {
    api.destroy();
    await vifd.kill().catch(() => undefined);
    ns.destroy();
    if (ok && !o.keep) rmSync(root, { recursive: true, force: true });
    else o.log(`soak: kept ${root} (vifd.log, state)`);
  }
}

export function formatRow(r: MinuteRow): string {
  const pad = (v: string | number, n: number) => String(v).padStart(n);
  return (
    `${pad(r.minute, 3)} ${pad(r.adds, 5)} ${pad(r.changes, 4)} ${pad(r.removes, 3)} ${pad(r.tapDeletes, 7)} ${pad(r.desired, 7)} | ` +
    `${pad(mb(r.heapUsedAfterGc), 18)} ${pad(mb(r.heapTotal), 9)} ${pad(mb(r.external), 8)} | ${pad(mb(r.rssAfterGc), 14)}, ${pad(`${mb(r.rssMin)}..${mb(r.rssMax)}`, 12)} | ${pad(r.fdsMax, 3)} | ${pad(r.childrenMax, 8)}`
  );
}

/** Each desired binding's tap: exists, in the file's bridge, with the file's MTU; no vifd-marked tap beyond them. */
export function check(links: ReadonlyMap<string, IpLinkJson>, desired: readonly ChaosBinding[]): { mismatches: string[]; leaks: string[] } {
  const mismatches: string[] = [];
  const wanted = new Set<string>();
  for (const b of desired) {
    const tap = b.spec.targetDev;
    wanted.add(tap);
    const link = links.get(tap);
    const want = { master: b.spec.sharedBridge, mtu: b.doc.mtu };
    if (!link) mismatches.push(`${b.file} (port ${b.doc.port}): tap ${tap} missing`);
    else if (link.master !== want.master || link.mtu !== want.mtu) {
      mismatches.push(`${b.file} (port ${b.doc.port}): tap ${tap} master ${link.master ?? '-'} mtu ${link.mtu}, file says master ${want.master} mtu ${want.mtu}`);
    }
  }
  const leaks = [...links.values()]
    .filter((l) => l.group === VIFD_GROUP && l.linkinfo?.info_kind === 'tun' && !wanted.has(l.ifname))
    .map((l) => `${l.ifname} (${l.ifalias ?? 'no alias'})`);
  return { mismatches, leaks };
}

/** SIGUSR2 (node's --heapsnapshot-signal) and waits until the file stops growing. */
async function heapSnapshot(pid: number, dir: string, sleep: (ms: number) => Promise<unknown>): Promise<string> {
  process.kill(pid, 'SIGUSR2');
  let last = -1;
  for (let i = 0; i < 240; i++) {
    await sleep(500);
    const file = readdirSync(dir).find((f) => f.endsWith('.heapsnapshot'));
    if (!file) continue;
    const size = statSync(join(dir, file)).size;
    if (size > 0 && size === last) return join(dir, file);
    last = size;
  }
  return '(not written within 2 minutes)';
}

/** vifd's log lines at error level or worse. */
function errorLines(logFile: string): string[] {
  try {
    return readFileSync(logFile, 'utf8').split('\n').filter((l) => /^\{"level":(50|60),/u.test(l));
  } catch {
    return [];
  }
}

/** '' if /proc's RSS and fds lie within what two scrapes around it said (5 %, 3 fds of slack); else what differs. */
export function agreement(p: ProcSample, m1: Map<string, number>, m2: Map<string, number>): string {
  const out: string[] = [];
  const within = (name: string, value: number, slack: (v: number) => number) => {
    const a = m1.get(name) ?? NaN;
    const b = m2.get(name) ?? NaN;
    const lo = Math.min(a, b);
    const hi = Math.max(a, b);
    if (!(value >= lo - slack(lo) && value <= hi + slack(hi))) out.push(`${name} ${a}, ${b} vs /proc ${value}`);
  };
  within('process_resident_memory_bytes', p.rssBytes, (v) => 0.05 * v);
  within('process_open_fds', p.fds, () => 3);
  return out.join('; ');
}

/** Unlabelled samples of a Prometheus text exposition. */
export function metricValues(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const match of text.matchAll(/^([a-z_:][a-z0-9_:]*) (\S+)$/gmu)) out.set(match[1]!, Number(match[2]));
  return out;
}

/** nodejs_heap_space_size_used_bytes by space (scraped right after a GC). */
async function heapSpaces(api: ApiClient): Promise<Map<string, number>> {
  const text = (await api.request<string>('GET', '/metrics')).text;
  return new Map([...text.matchAll(/^nodejs_heap_space_size_used_bytes\{space="([^"]+)"\} (\S+)$/gmu)].map((m) => [m[1]!, Number(m[2])]));
}

async function gcReport(api: ApiClient): Promise<GcReport> {
  const res = await api.request<GcReport>('POST', '/debug/gc');
  if (res.status !== 200) throw new Error(`POST /debug/gc answered ${res.status}: is vifd running with --expose-gc and VIFD_DEBUG_GC=1?`);
  return res.body;
}

/** Heap used after two full GCs (the second collects what the first's finalizers freed). */
async function heapAfterGc(api: ApiClient): Promise<number> {
  await gcReport(api);
  return (await gcReport(api)).after.heapUsed;
}

type StatusList = { summary: Record<string, number>; items: Array<{ port: string; phase: string; message?: string }> };

async function readyCount(api: ApiClient): Promise<number> {
  return (await api.request<StatusList>('GET', '/v1/status')).body.summary['Ready'] ?? 0;
}

async function statusTotal(api: ApiClient): Promise<number> {
  return (await api.request<StatusList>('GET', '/v1/status')).body.summary['total'] ?? 0;
}

async function withStatuses(api: ApiClient, mismatches: string[]): Promise<string[]> {
  const { items } = (await api.request<StatusList>('GET', '/v1/status')).body;
  const byPort = new Map(items.map((s) => [s.port, s]));
  return mismatches.map((m) => {
    const port = /\(port ([0-9a-f-]+)\)/u.exec(m)?.[1];
    const s = port ? byPort.get(port) : undefined;
    return `${m}; status ${s ? `${s.phase}${s.message ? ` (${s.message})` : ''}` : 'none'}`;
  });
}

async function waitUntil(test: () => Promise<boolean>, timeoutMs: number, what: string, sleep: (ms: number) => Promise<unknown>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await test().catch(() => false)) return;
    await sleep(250);
  }
  throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
}

