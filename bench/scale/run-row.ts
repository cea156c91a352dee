// One row of the table: one N in its own fresh namespace, the real daemon,
// every figure of the row measured against it (see bench/scale/README.md).
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, watch as fsWatch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createNetns } from '../../test/helpers/netns.js';
import { portsOf, startOvs, stopOvs, vsctl, type PrivateOvs } from '../../test/helpers/ovs.js';
import { onCleanup } from './cleanup.js';
import { Daemon } from './daemon.js';
import { measureFloors, type Floors } from './floors.js';
import { LinkWatch, type LinkState } from './link-watch.js';
import { commandDelta, scrape, type Scrape } from './metrics.js';
import { ResyncTracker } from './resync-tracker.js';
import { cpuMs, fdsAndWatches, limitsOf, machineForks, rssMb } from './proc.js';
import { sleep } from './stats.js';
import { bridgeOf, deleteNamespace, documentOf, GROUP, links, OVS_BRIDGE, portOf, tapOf, tapsWrong, type RowSpec } from './topology.js';

const execFileP = promisify(execFile);

export interface RowOptions {
  repairs: number;
  adds: number;
  idleSeconds: number;
  resyncSeconds: number;
}

export interface RowResult {
  spec: RowSpec;
  floors: Floors;
  /** Bridge rows: process start → every tap marked, enslaved, up (kernel events). Hybrid: → all N Ready. */
  coldMs: number;
  readyMs: number;
  repairMs: number[];
  /** Per repair: the kernel's Deleted event → the first event of the tap back (vifd's reaction, its batch's first line included). */
  repairBackMs: number[];
  repairSpawns: number[];
  repairForks: number[];
  repairByCommand: Map<string, number>;
  repairsDiscarded: number;
  addMs: number[];
  addSpawns: number[];
  rssConvergedMb: number;
  rssEndMb: number;
  /** At convergence: open fds and inotify watches of the daemon. */
  fds: number;
  inotifyWatches: number;
  resync: { cpuMs: number; rawCpuMs: number; wallMs: number; keys: number; polls: number; detected: boolean };
  idle: { cpuMs: number; seconds: number; spawns: number; resyncInside: boolean };
  scrapeCostMs: number;
  notes: string[];
}

const progress = (msg: string): void => void process.stderr.write(`scale: ${msg}\n`);

function summaryReady(state: string): number {
  try {
    return (JSON.parse(readFileSync(join(state, 'summary.json'), 'utf8')) as Record<string, number>)['Ready'] ?? 0;
  } catch {
    return 0;
  }
}

async function sleepUntil(t: number): Promise<void> {
  const ms = t - performance.now();
  if (ms > 0) await sleep(ms);
}

/** Waits (at least minMs) until vifd's queue is empty and its counters stop moving over 100 ms. */
async function quiesce(socket: string, minMs = 300, maxMs = 5000): Promise<Scrape> {
  await sleep(minMs);
  const deadline = performance.now() + maxMs;
  let prev = await scrape(socket);
  for (;;) {
    await sleep(100);
    const s = await scrape(socket);
    if (s.queueDepth === 0 && s.commands === prev.commands && s.keys === prev.keys && s.rounds === prev.rounds) return s;
    if (performance.now() > deadline) return s;
    prev = s;
  }
}

export async function runRow(spec: RowSpec, o: RowOptions): Promise<RowResult> {
  const tag = `${spec.kind === 'bridge' ? 'b' : 'o'}${spec.n}-${process.pid}`;
  progress(`${spec.label}: floors`);
  const floors = measureFloors(spec, `scale-fl-${tag}`, o.repairs, o.adds);
  const netns = `scale-${tag}`;
  const root = mkdtempSync(join(tmpdir(), `scale-${tag}-`));
  const desired = join(root, 'desired');
  const state = join(root, 'state');
  mkdirSync(desired);
  const dropRoot = onCleanup(`dir ${root}`, () => rmSync(root, { recursive: true, force: true }));
  const dropNs = onCleanup(`netns ${netns}`, () => deleteNamespace(netns));
  let ovs: PrivateOvs | undefined;
  const dropOvs = onCleanup(`private OVS in ${netns}`, () => stopOvs(ovs));
  let daemon: Daemon | undefined;
  let watch: LinkWatch | undefined;
  const notes: string[] = [];
  try {
    createNetns(netns);
    if (spec.kind === 'ovs') {
      ovs = startOvs(netns);
      vsctl(ovs, 'add-br', OVS_BRIDGE, '--', 'set', 'bridge', OVS_BRIDGE, 'datapath_type=netdev');
    }
    for (let i = 0; i < spec.n; i++) writeFileSync(join(desired, `${portOf(spec.kind, i)}.json`), JSON.stringify(documentOf(spec, i)));

    // Cold convergence: the kernel's own events say when every tap is right.
    watch = new LinkWatch(netns);
    await watch.ready;
    const w = watch;
    const expected = new Map<string, string>();
    for (let i = 0; i < spec.n; i++) expected.set(tapOf(spec.kind, i), bridgeOf(spec, i));
    const good = new Set<string>();
    let convergedAt: number | undefined;
    w.onChange = (name, at) => {
      const bridge = expected.get(name);
      if (bridge === undefined) return;
      const s = w.state(name);
      if (s && s.master === bridge && s.up && s.group === GROUP) good.add(name);
      else good.delete(name);
      if (convergedAt === undefined && good.size === spec.n) convergedAt = at;
    };
    progress(`${spec.label}: vifd cold start with ${spec.n} bindings`);
    const t0 = performance.now();
    daemon = new Daemon({ root, desired, state, netns, resyncSeconds: o.resyncSeconds, ...(ovs ? { ovsdb: ovs.address } : {}) });
    const d = daemon;
    let readyAt: number | undefined;
    const coldDeadline = t0 + 600_000;
    while (readyAt === undefined || (spec.kind === 'bridge' && convergedAt === undefined)) {
      if (!d.running) throw new Error(`vifd exited during cold start:\n${d.lastLines()}`);
      if (performance.now() > coldDeadline) throw new Error(`not converged after 600 s: ${good.size}/${spec.n} taps right, ${summaryReady(state)} Ready`);
      if (readyAt === undefined && summaryReady(state) >= spec.n) readyAt = performance.now();
      await sleep(25);
    }
    w.onChange = undefined;
    const coldMs = (spec.kind === 'bridge' ? convergedAt! : readyAt) - t0;
    const readyMs = readyAt - t0;
    const all = links(netns);
    const wrong = tapsWrong(spec, all);
    if (wrong.length > 0) throw new Error(`all Ready but ${wrong.length} taps wrong (${wrong.slice(0, 3).join(', ')})`);
    if (ovs && portsOf(ovs, OVS_BRIDGE).length !== spec.n) throw new Error(`expected ${spec.n} OVS ports on ${OVS_BRIDGE}, found ${portsOf(ovs, OVS_BRIDGE).length}`);
    w.seed(all);
    if (d.runningAt !== undefined) notes.push(`process start → "vifd running" (files loaded, first resync queued) ${(d.runningAt - t0).toFixed(0)} ms of the cold time`);
    if (spec.kind === 'ovs' && convergedAt !== undefined) notes.push(`taps right in their qbr (kernel events) at ${(convergedAt - t0).toFixed(0)} ms, all Ready at ${readyMs.toFixed(0)} ms`);
    await d.waitSocket(10_000);
    await quiesce(d.socket, 1000, 20_000);
    const rssConvergedMb = rssMb(d.pid);
    const handles = fdsAndWatches(d.pid);
    const limits = limitsOf(d.pid);
    if (handles.fds > 0.8 * limits.maxFds || handles.inotifyWatches > 0.5 * limits.maxUserWatches) {
      notes.push(`near a limit: ${handles.fds} fds of ${limits.maxFds}, ${handles.inotifyWatches} inotify watches of ${limits.maxUserWatches} per user (raise ulimit -n / fs.inotify.max_user_watches)`);
    }

    // One scrape's own cost, to take out of the resync window that polls.
    const sc0 = cpuMs(d.pid).total;
    for (let k = 0; k < 20; k++) await scrape(d.socket);
    const scrapeCostMs = (cpuMs(d.pid).total - sc0) / 20;

    // Idle window and one periodic resync, placed between resync boundaries.
    const P = o.resyncSeconds * 1000;
    if (d.runningAt === undefined) notes.push('no "vifd running" log line: resync boundaries counted from the process start');
    const base = d.runningAt ?? t0;
    const boundary = (): number => {
      let k = 1;
      while (base + k * P < performance.now() + 2500) k++;
      return base + k * P;
    };
    const idleMs = o.idleSeconds * 1000;
    // When the measured resync ran (between two polls), to place the later ones.
    let seen: { lo: number; hi: number; done: number } | undefined;
    const measureIdle = async (): Promise<RowResult['idle']> => {
      progress(`${spec.label}: idle ${o.idleSeconds} s`);
      const s0 = await scrape(d.socket);
      const c0 = cpuMs(d.pid).total;
      const t = performance.now();
      await sleep(idleMs);
      const c1 = cpuMs(d.pid).total;
      const seconds = (performance.now() - t) / 1000;
      const s1 = await scrape(d.socket);
      return { cpuMs: c1 - c0, seconds, spawns: s1.commands - s0.commands, resyncInside: s1.keys - s0.keys >= spec.n / 2 };
    };
    const measureResync = async (b: number): Promise<Omit<RowResult['resync'], 'cpuMs'>> => {
      progress(`${spec.label}: periodic resync (due in ${((b - performance.now()) / 1000).toFixed(1)} s)`);
      await sleepUntil(b - 2000);
      const s0 = await scrape(d.socket);
      const c0 = cpuMs(d.pid).total;
      const ta = performance.now();
      await sleepUntil(b + 200);
      const cap = b + Math.min(P - 3000, Math.max(10_000, 2 * readyMs));
      let polls = 0;
      let prev: Scrape | undefined;
      let last = s0;
      let detected = false;
      let jumpLo = ta;
      // Seen by vifd's resync counter where it has one (a resync that finds
      // nothing unsettled queues no keys), else by the keys it queued.
      const resynced = (s: Scrape) => (Number.isNaN(s0.resyncs) ? s.keys - s0.keys >= spec.n / 2 : s.resyncs > s0.resyncs);
      let jumpHi: number | undefined;
      for (;;) {
        const before = performance.now();
        const s = await scrape(d.socket);
        last = s;
        polls++;
        if (jumpHi === undefined) {
          if (resynced(s)) jumpHi = performance.now();
          else jumpLo = before;
        }
        if (resynced(s) && s.queueDepth === 0 && prev && s.keys === prev.keys && s.commands === prev.commands) {
          detected = true;
          break;
        }
        if (performance.now() > cap) break;
        prev = s;
        await sleep(200);
      }
      const c1 = cpuMs(d.pid).total;
      if (detected && jumpHi !== undefined) seen = { lo: jumpLo, hi: jumpHi, done: performance.now() };
      return { rawCpuMs: c1 - c0, wallMs: performance.now() - ta, keys: last.keys - s0.keys, polls, detected };
    };
    let idle: RowResult['idle'];
    let rawResync: Omit<RowResult['resync'], 'cpuMs'>;
    const b = boundary();
    if (performance.now() + idleMs + 1000 < b - 2500) {
      idle = await measureIdle();
      rawResync = await measureResync(b);
    } else {
      rawResync = await measureResync(b);
      await quiesce(d.socket, 1000, 5000);
      idle = await measureIdle();
    }
    if (!rawResync.detected) notes.push(`resync not seen in the metrics (keys +${rawResync.keys}): CPU is over the ${(rawResync.wallMs / 1000).toFixed(1)} s window around its due time`);
    if (idle.resyncInside) notes.push('a resync fell inside the idle window');
    const idleRate = idle.cpuMs / (idle.seconds * 1000);
    // Later periodic resyncs: vifd counts each one as it ends and then starts
    // the timer for the next; the tracker bounds that moment between two of
    // the bench's scrapes and keeps the samples out of the next resync's time.
    // A sample during which the counter moved is taken again.
    const resyncWall = seen ? seen.done - seen.lo + 1000 : Math.max(5000, rawResync.wallMs);
    const tracker = new ResyncTracker(P, resyncWall, await scrape(d.socket), performance.now(), seen);
    if (!seen) notes.push('the measured resync was not seen: later samples are kept out of resyncs by the counter alone');
    let lateResyncs = 0;
    /** Before a sample that may take `ms`: wait until the next resync is not due
     * within it (if it is, until it has run and the daemon is quiet again);
     * returns the scrape the sample starts from. */
    const clear = async (ms: number): Promise<Scrape> => {
      for (;;) {
        let s = await scrape(d.socket);
        if (tracker.observe(s, performance.now())) {
          s = await quiesce(d.socket); // a resync just ran: its rounds finish first
          tracker.observe(s, performance.now());
        }
        const z = tracker.zone();
        const now = performance.now();
        if (!z || now + ms < z[0]) return s;
        if (now > z[1] + P) return s; // given up on below: the counter alone decides
        await sleepUntil(z[0]);
        const giveUp = z[1] + P;
        while (!tracker.observe(await scrape(d.socket), performance.now())) {
          if (performance.now() > giveUp) {
            lateResyncs++;
            break;
          }
          await sleep(200);
        }
        await quiesce(d.socket);
      }
    };
    /** After a sample from s0 (taken at t0): whether a resync may have run meanwhile. */
    const resyncDuring = (s0: Scrape, t0: number, s1: Scrape): boolean => {
      const z = tracker.zone();
      tracker.observe(s1, performance.now());
      return s1.resyncs !== s0.resyncs || (z !== undefined && t0 < z[1] && performance.now() > z[0]);
    };
    const resync = { ...rawResync, cpuMs: Math.max(0, rawResync.rawCpuMs - idleRate * rawResync.wallMs - rawResync.polls * scrapeCostMs) };

    // Event repair: a tap deleted behind vifd's back, timed from the kernel's
    // `Deleted` event to the event that shows it back: marked, in its bridge, up.
    progress(`${spec.label}: ${o.repairs} tap deletions`);
    const repairMs: number[] = [];
    const repairBackMs: number[] = [];
    const repairSpawns: number[] = [];
    const repairForks: number[] = [];
    const repairByCommand = new Map<string, number>();
    let discarded = 0;
    for (let attempt = 0; repairMs.length < o.repairs && attempt < o.repairs + 10; attempt++) {
      const i = (attempt * 7919 + 13) % spec.n;
      const tap = tapOf(spec.kind, i);
      const bridge = bridgeOf(spec, i);
      const s0 = await clear(Math.max(1500, 3 * (repairMs.at(-1) ?? 0) + 1000));
      const f0 = machineForks();
      const start = performance.now();
      let seenDeleted = false;
      const deletedP = w.next(tap, (_s, deleted) => (deleted ? (seenDeleted = true) : false), 5000);
      const repairedP = w.next(tap, (s: LinkState | undefined, deleted) => seenDeleted && !deleted && s !== undefined && s.master === bridge && s.up && s.group === GROUP, 30_000);
      repairedP.catch(() => undefined);
      const backP = w.next(tap, (s: LinkState | undefined, deleted) => seenDeleted && !deleted && s !== undefined, 30_000);
      backP.catch(() => undefined);
      const del = execFileP('ip', ['-n', netns, 'link', 'del', tap]);
      const deletedAt = await deletedP;
      const repairedAt = await repairedP;
      const backAt = await backP;
      await del;
      const s1 = await quiesce(d.socket);
      const forks = machineForks() - f0 - 1; // minus the bench's own `ip link del`
      if (resyncDuring(s0, start, s1)) {
        discarded++; // a periodic resync may have run meanwhile: not an event repair alone
        continue;
      }
      repairMs.push(repairedAt - deletedAt);
      repairBackMs.push(backAt - deletedAt);
      if (process.env['SCALE_TRACE']) progress(`trace repair ${tap}: ${(repairedAt - deletedAt).toFixed(2)} ms, back after ${(backAt - deletedAt).toFixed(2)} ms, rounds ${s1.rounds - s0.rounds}, at ${(performance.timeOrigin + deletedAt).toFixed(3)} ${(performance.timeOrigin + backAt).toFixed(3)}`);
      repairSpawns.push(s1.commands - s0.commands);
      repairForks.push(forks);
      for (const [k, v] of commandDelta(s0, s1)) repairByCommand.set(k, (repairByCommand.get(k) ?? 0) + v);
    }
    if (discarded > 0) notes.push(`${discarded} repair sample(s) fell in the time of a periodic resync and were taken again`);

    // Add one binding: one new file (atomic rename) → its status file says Ready.
    progress(`${spec.label}: ${o.adds} adds`);
    const statusDir = join(state, 'status');
    const addMs: number[] = [];
    const addSpawns: number[] = [];
    let added = 0;
    let addsDiscarded = 0;
    for (let a = 0; addMs.length < o.adds && a < o.adds + 10; a++) {
      const i = spec.n + a;
      const port = portOf(spec.kind, i);
      const file = `${port}.json`;
      const s0 = await clear(Math.max(1500, 3 * (addMs.at(-1) ?? 0) + 1000));
      const t0 = performance.now();
      let t = 0;
      const readyP = new Promise<number>((resolve, reject) => {
        const check = (): void => {
          try {
            if ((JSON.parse(readFileSync(join(statusDir, file), 'utf8')) as { phase?: string }).phase === 'Ready') done(performance.now());
          } catch {
            // not there yet, or being replaced
          }
        };
        const watcher = fsWatch(statusDir, (_ev, name) => {
          if (name === file) check();
        });
        const poll = setInterval(check, 50); // in case an inotify event is coalesced away
        const timer = setTimeout(() => finish(() => reject(new Error(`${port} not Ready after 30 s`))), 30_000);
        const finish = (f: () => void): void => {
          watcher.close();
          clearInterval(poll);
          clearTimeout(timer);
          f();
        };
        const done = (at: number): void => finish(() => resolve(at));
      });
      const tmp = join(desired, `.${file}.tmp`);
      writeFileSync(tmp, JSON.stringify(documentOf(spec, i)));
      t = performance.now();
      renameSync(tmp, join(desired, file));
      const readyAtAdd = await readyP;
      const s1 = await quiesce(d.socket);
      added++;
      if (resyncDuring(s0, t0, s1)) {
        addsDiscarded++; // a periodic resync may have run meanwhile
        continue;
      }
      addMs.push(readyAtAdd - t);
      addSpawns.push(s1.commands - s0.commands);
    }
    if (addsDiscarded > 0) notes.push(`${addsDiscarded} add sample(s) fell in the time of a periodic resync and were taken again`);
    if (lateResyncs > 0) notes.push(`${lateResyncs} periodic resync(s) not seen within a period of when they were due`);
    const wrongAfter = tapsWrong(spec, links(netns), spec.n + added);
    if (wrongAfter.length > 0) throw new Error(`after repairs and adds ${wrongAfter.length} taps wrong (${wrongAfter.slice(0, 3).join(', ')})`);
    const rssEndMb = rssMb(d.pid);
    if (!d.running) throw new Error(`vifd exited:\n${d.lastLines()}`);
    return {
      spec, floors, coldMs, readyMs, repairMs, repairBackMs, repairSpawns, repairForks, repairByCommand, repairsDiscarded: discarded,
      addMs, addSpawns, rssConvergedMb, rssEndMb, ...handles, resync, idle, scrapeCostMs, notes,
    };
  } finally {
    watch?.stop();
    await daemon?.stop();
    dropOvs();
    progress(`${spec.label}: deleting ${netns}`);
    dropNs();
    dropRoot();
  }
}
