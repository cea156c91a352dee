// The link model on a real kernel: kept current by events under random churn
// behind vifd's back, and repaired after the events it lost (its helper
// SIGKILLed, its socket overrun). One namespace for the file.
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostCounts } from '../../src/host/host-counters.js';
import { Ip } from '../../src/host/ip.js';
import { LinkObserver } from '../../src/host/link-observer.js';
import { encodeHeaderOnly, encodeLinkMessage, NLM_F_REQUEST, NLMSG_ERROR, NLMSG_NOOP, parseError, RTM_GETLINK, RTM_NEWLINK } from '../../src/host/netlink/wire.js';
import type { ObservedLink } from '../../src/observed/links.js';
import { parseIpLinkJson } from '../../src/observed/parse-ip-link.js';
import { deleteNetns, ipIn } from '../helpers/netns.js';
import { bridgeBinding, makeDirs, portUuid, readStatuses, removeDirs, VifdProcess, waitFor, writeBinding, type VifdDirs } from '../helpers/vifd-process.js';

const netns = `linkmodel-${process.pid}`;
let dirs: VifdDirs;
let vifd: VifdProcess | undefined;
let observer: LinkObserver | undefined;

const tapOf = (n: number) => `tap${portUuid(n)}`.slice(0, 14);

function ipLinks(): ReadonlyMap<string, ObservedLink> {
  return parseIpLinkJson(ipIn(netns, '-j', '-d', 'link', 'show')).links;
}

/** Runs the lines as one `ip -force -batch`; lines that fail (a random op on a missing device) are fine. */
function batch(lines: readonly string[]): void {
  const r = spawnSync('ip', ['-n', netns, '-force', '-batch', '-'], { input: lines.join('\n') + '\n', stdio: ['pipe', 'ignore', 'ignore'] });
  if (r.error) throw r.error;
}

/** mulberry32: a fixed seed makes a failing sequence replayable. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The kernel notifies alias and group changes only for devices that are up. */
const SILENT_WHEN_DOWN = new Set(['alias', 'group']);

/** "name.field: model / ip" for every field that differs (an undefined field
 * and an absent one alike); `events`: what events can tell, without the
 * fields the kernel changes silently on a device that is down. */
function differences(model: ReadonlyMap<string, ObservedLink>, ip: ReadonlyMap<string, ObservedLink>, events = false): string[] {
  const out: string[] = [];
  for (const name of new Set([...model.keys(), ...ip.keys()])) {
    const a: Record<string, unknown> = { ...model.get(name) };
    const b: Record<string, unknown> = { ...ip.get(name) };
    for (const field of new Set([...Object.keys(a), ...Object.keys(b)])) {
      if (events && SILENT_WHEN_DOWN.has(field) && a['up'] === false && b['up'] === false) continue;
      if (!Object.is(a[field], b[field])) out.push(`${name}.${field}: ${String(a[field])} / ${String(b[field])}`);
    }
  }
  return out;
}

/** Children of `pid` whose command line contains `needle`. */
function childrenOf(pid: number, needle: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/u.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(needle)) out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Rethrows with the daemon's log (debug lines but dumps left out), for a failure to be read. */
function withLogs(error: unknown): never {
  const lines = vifd?.logs.filter((l) => !l.includes('"level":20') || l.includes('dump')) ?? [];
  throw new Error(`${String(error)}\n${lines.slice(-40).join('\n')}`);
}

async function metric(name: string): Promise<number> {
  const body = execFileSync('curl', ['-s', '--max-time', '3', '--unix-socket', join(dirs.state, 'vifd.sock'), 'http://vifd/metrics'], { encoding: 'utf8' });
  const match = new RegExp(`^${name} (\\d+)$`, 'mu').exec(body);
  if (!match) throw new Error(`no ${name} in /metrics`);
  return Number(match[1]);
}

beforeAll(() => {
  execFileSync('ip', ['netns', 'add', netns]);
  ipIn(netns, 'link', 'set', 'lo', 'up');
  dirs = makeDirs('linkmodel');
});

afterAll(async () => {
  observer?.stop();
  await vifd?.stop('SIGKILL');
  deleteNetns(netns);
  removeDirs(dirs);
});

describe('the link model', () => {
  it('equals a fresh ip dump after random churn behind its back', async () => {
    observer = new LinkObserver(netns, new Ip(netns), pino({ level: 'silent' }));
    observer.start();
    const driftBefore = hostCounts().linkModelDrift;
    batch(['link add lm-br0 type bridge', 'link add lm-br1 type bridge', 'link add lm-up type veth peer name lm-upp', 'link set lm-up up']);
    const next = random(1313);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
    const names = Array.from({ length: 8 }, (_, i) => `lm-t${i}`);
    const renamed = names.map((n) => `${n}r`);
    const ops: Array<(n: string) => string[]> = [
      (n) => [`link set ${n} up`],
      (n) => [`link set ${n} down`],
      (n) => [`link set ${n} down`, `link set ${n} name ${n}r`],
      (n) => [`link set ${n}r down`, `link set ${n}r name ${n}`],
      (n) => [`link set ${n} master ${pick(['lm-br0', 'lm-br1'])}`],
      (n) => [`link set ${n} nomaster`],
      (n) => [`link del ${n}`, `tuntap add dev ${n} mode tap${next() < 0.3 ? ' multi_queue' : ''}`],
      (n) => [`link del ${n}`],
      (n) => [`tuntap add dev ${n} mode tap`],
      (n) => [`link set ${n} mtu ${pick([1280, 1400, 1450, 1500, 9000])}`],
      (n) => [`link set ${n} alias vifd:port:${Math.floor(next() * 1e6)}`],
      (n) => [`link set ${n} group ${pick([0, 7, 4242])}`],
      () => [`link set lm-br${pick([0, 1])} ${pick(['up', 'down'])}`],
      () => ['link set lm-br1 down', 'link set lm-br1 name lm-br1x', 'link set lm-br1x name lm-br1'],
      () => ['link set lm-upp up', 'link set lm-upp down'], // the peer's carrier flaps
      () => ['link add link lm-up name lm-mvt type macvtap mode bridge'],
      () => ['link del lm-mvt'],
    ];
    batch(names.map((n) => `tuntap add dev ${n} mode tap`));
    let checked = 0;
    for (let round = 0; round < 25; round++) {
      const lines = Array.from({ length: 30 }, () => pick(ops)(pick(names))).flat();
      batch(lines);
      // Carrier changes reach netlink through linkwatch, up to a second late.
      let last: string[] = [];
      await waitFor(async () => (last = differences((await observer!.snapshot(false)).links, ipLinks(), true)).length === 0, 5000, `round ${round}: model = ip`).catch((error: unknown) => {
        throw new Error(`${String(error)}: ${last.join(', ')}`);
      });
      checked += (await observer.snapshot(false)).links.size;
    }
    expect(checked).toBeGreaterThan(25 * 5);
    expect(renamed.some((n) => ipLinks().has(n)) || names.some((n) => ipLinks().has(n))).toBe(true);
    const fresh = await observer.snapshot(true); // a re-dump: now the silent fields too
    expect(differences(fresh.links, ipLinks())).toEqual([]);
    expect(hostCounts().linkModelDrift).toBe(driftBefore);
    observer.stop();
    observer = undefined;
    batch([...names, ...renamed, 'lm-br0', 'lm-br1', 'lm-up', 'lm-mvt'].map((n) => `link del ${n}`));
  });

  it('the channel answers pipelined requests in order and creates taps as ip tuntap does', async () => {
    const channel = new LinkObserver(netns, new Ip(netns), pino({ level: 'silent' }));
    channel.start();
    try {
      const [lo, missing, noop] = await channel.rtnl.request([
        encodeLinkMessage(RTM_GETLINK, NLM_F_REQUEST, 0, { index: 1 }, []),
        encodeLinkMessage(RTM_GETLINK, NLM_F_REQUEST, 0, { index: 999_999 }, []),
        encodeHeaderOnly(NLMSG_NOOP, NLM_F_REQUEST, 0),
      ]);
      expect(lo!.map((m) => m.type)).toEqual([RTM_NEWLINK, NLMSG_ERROR]);
      expect(parseError(lo!.at(-1)!).errno).toBe(0);
      expect(missing!.map((m) => parseError(m).errno)).toEqual([19]); // ENODEV
      expect(noop!.map((m) => [m.type, parseError(m).errno])).toEqual([[NLMSG_ERROR, 0]]);
      expect(new Set([lo![0]!.seq, missing![0]!.seq, noop![0]!.seq]).size).toBe(3);
      expect(await channel.rtnl.createTap('lm-ctap', { multiQueue: true, user: 4242, group: 4343 })).toBe(0);
      expect(await channel.rtnl.createTap('lm-ctap', {})).toBeGreaterThan(0); // IFF_TUN_EXCL: the name exists
      // The same tap as ip makes it, tun flags and all.
      ipIn(netns, 'tuntap', 'add', 'dev', 'lm-iptap', 'mode', 'tap', 'multi_queue', 'user', '4242', 'group', '4343');
      const info = (dev: string) => (JSON.parse(ipIn(netns, '-j', '-d', 'link', 'show', 'dev', dev)) as Array<{ linkinfo: { info_data: Record<string, unknown> } }>)[0]!.linkinfo.info_data;
      expect(info('lm-ctap')).toEqual(info('lm-iptap'));
      expect(info('lm-ctap')).toMatchObject({ type: 'tap', multi_queue: true, persist: true, user: 4242, group: 4343 });
    } finally {
      channel.stop();
      batch(['link del lm-ctap', 'link del lm-iptap']);
    }
  });

  it('without the helper, links come from ip (logged once) and repairs still work', async () => {
    writeBinding(dirs, 'b1.json', bridgeBinding(1, 'brq-lm'));
    vifd = new VifdProcess(['run', '--desired-dir', dirs.desired, '--state-dir', dirs.state, '--netns', netns, '--resync-seconds', '3600'], { VIFD_NETLINK_HELPER: '/nonexistent/vifd-netlink' });
    await waitFor(() => readStatuses(dirs).get(portUuid(1))?.phase === 'Ready', 20_000, 'Ready').catch(withLogs);
    const ifindex = ipLinks().get(tapOf(1))!.ifindex;
    ipIn(netns, 'link', 'del', tapOf(1));
    await waitFor(() => (ipLinks().get(tapOf(1))?.ifindex ?? ifindex) !== ifindex, 10_000, 'tap recreated (ip monitor fallback)').catch(withLogs);
    expect(vifd.logs.filter((l) => l.includes('netlink stream helper unusable'))).toHaveLength(1);
    await vifd.stop();
    vifd = undefined;
  });

  it('a killed stream helper is restarted and a tap deleted meanwhile is repaired', async () => {
    for (let n = 1; n <= 3; n++) writeBinding(dirs, `b${n}.json`, bridgeBinding(n, 'brq-lm'));
    vifd = VifdProcess.run(dirs, netns, ['--resync-seconds', '3600']);
    await waitFor(() => [1, 2, 3].every((n) => readStatuses(dirs).get(portUuid(n))?.phase === 'Ready'), 20_000, 'all Ready');
    const [helper] = childrenOf(vifd.child.pid!, '--stream');
    expect(helper).toBeGreaterThan(0);
    const ifindex = ipLinks().get(tapOf(2))!.ifindex;
    process.kill(helper!, 'SIGKILL');
    ipIn(netns, 'link', 'del', tapOf(2)); // within the restart backoff: nobody hears it
    await waitFor(() => ipLinks().has(tapOf(2)) && ipLinks().get(tapOf(2))!.ifindex !== ifindex && ipLinks().get(tapOf(2))!.master === 'brq-lm', 10_000, 'tap recreated');
    await waitFor(() => readStatuses(dirs).get(portUuid(2))?.phase === 'Ready', 10_000, 'Ready again');
    const [restarted] = childrenOf(vifd.child.pid!, '--stream');
    expect(restarted).toBeGreaterThan(0);
    expect(restarted).not.toBe(helper);
    await vifd.waitForLog(/netlink stream helper exited; restarting/u);
    await vifd.waitForLog(/^(?=.*link events lost; re-dumping)(?=.*helper restarted)/u);
    expect(await metric('vifd_link_events_lost_total')).toBeGreaterThanOrEqual(1);
    await vifd.stop();
    vifd = undefined;
  });

  it('an overrun socket (ENOBUFS) re-dumps, counts it, and still repairs', async () => {
    for (let n = 1; n <= 3; n++) writeBinding(dirs, `b${n}.json`, bridgeBinding(n, 'brq-lm'));
    vifd = new VifdProcess(['run', '--desired-dir', dirs.desired, '--state-dir', dirs.state, '--netns', netns, '--resync-seconds', '3600'], { VIFD_TEST_NETLINK_RCVBUF: '16384' });
    await waitFor(() => [1, 2, 3].every((n) => readStatuses(dirs).get(portUuid(n))?.phase === 'Ready'), 20_000, 'all Ready').catch(withLogs);
    await waitFor(async () => (await metric('vifd_link_events_lost_total')) >= 0, 10_000, 'API up');
    const lostBefore = await metric('vifd_link_events_lost_total');
    // One syscall changes 200 devices: a burst no reader keeps up with in 32 KiB.
    batch(Array.from({ length: 200 }, (_, i) => `tuntap add dev lm-noise${i} mode tap`).concat(Array.from({ length: 200 }, (_, i) => `link set lm-noise${i} group 77`)));
    const ifindex = ipLinks().get(tapOf(3))!.ifindex;
    batch(['link set group 77 up', 'link set group 77 down', `link del ${tapOf(3)}`, 'link set group 77 up', 'link set group 77 down']);
    await waitFor(() => ipLinks().get(tapOf(3))?.ifindex !== undefined && ipLinks().get(tapOf(3))!.ifindex !== ifindex, 10_000, 'tap recreated').catch(withLogs);
    await waitFor(() => readStatuses(dirs).get(portUuid(3))?.phase === 'Ready', 10_000, 'Ready again');
    await vifd.waitForLog(/^(?=.*link events lost; re-dumping)(?=.*overrun)/u);
    expect(await metric('vifd_link_events_lost_total')).toBeGreaterThan(lostBefore);
    expect(await metric('vifd_link_model_drift_total')).toBe(0);
    // The re-dump may wake the other two for a round; they settle Ready.
    const phases = () => [...readStatuses(dirs).values()].map((s) => s.phase);
    await waitFor(() => phases().length === 3 && phases().every((p) => p === 'Ready'), 10_000, `all Ready again (${phases().join(', ')})`);
    expect(phases()).toEqual(['Ready', 'Ready', 'Ready']);
  });
});
