// Differential: the same lines through the real `ip -force -batch` in one
// namespace and through NetlinkLinkRunner (over the one-shot helper) in a twin
// namespace; the links both leave (`ip -j -d link show`, normalized), the
// failing line numbers, their texts and their retryable classification must
// be equal. Every scenario gets a fresh twin pair (test/helpers/link-twins.ts).
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { applyLinkActions, type ActuationResult } from '../../src/host/links/link-actuator.js';
import type { LinkActionError } from '../../src/errors/host-errors.js';
import { Ip } from '../../src/host/ip.js';
import { NetlinkLinkRunner } from '../../src/host/netlink/netlink-runner.js';
import type { LinkAction } from '../../src/model/actions.js';
import { DEFAULT_OWNERSHIP } from '../../src/model/ownership.js';
import { deleteNetns } from '../helpers/netns.js';
import { ipReference, links, makeNetns, twinNamespaces } from '../helpers/link-twins.js';
import { OneShotRtnlChannel } from '../helpers/one-shot-rtnl-channel.js';

const FILE_TAG = randomBytes(2).toString('hex');
let twins = 0;

afterAll(() => {
  for (const ns of twinNamespaces) deleteNetns(ns);
});

interface Run {
  ip: { ns: string; errors: LinkActionError[] };
  nl: { ns: string; errors: LinkActionError[]; channel: OneShotRtnlChannel; runner: NetlinkLinkRunner };
}

async function runBoth(lines: readonly string[]): Promise<Run> {
  const n = ++twins;
  const ipNs = `nlact-${FILE_TAG}-${n}-ip`;
  const nlNs = `nlact-${FILE_TAG}-${n}-nl`;
  makeNetns(ipNs);
  makeNetns(nlNs);
  const ipErrors = await ipReference(ipNs, lines);
  const channel = await OneShotRtnlChannel.open(nlNs);
  const runner = new NetlinkLinkRunner(channel, channel.resolve);
  const nlErrors = await runner.batch(lines);
  return { ip: { ns: ipNs, errors: ipErrors }, nl: { ns: nlNs, errors: nlErrors, channel, runner } };
}

const failures = (errors: readonly LinkActionError[]) => errors.map((e) => ({ line: e.lineNumber, text: e.line, reason: e.reason, retryable: e.retryable }));

function expectSame(run: Run): void {
  expect(failures(run.nl.errors)).toEqual(failures(run.ip.errors));
  expect(links(run.nl.ns)).toEqual(links(run.ip.ns));
}

// A repair round as the actuator renders it: bridges, taps, a hybrid veth
// pair, a macvtap, the doomed group emptied.
const REPAIR = [
  'link set dev old0 group 4243',
  'link del group 4243',
  'link add name br1 group 4242 type bridge forward_delay 0 stp_state 0',
  'link set dev br1 alias vifd:br1 addrgenmode none up',
  'link add name qbr1 group 4242 type bridge forward_delay 0 stp_state 0 ageing_time 0',
  'link set dev qbr1 alias vifd:qbr1 addrgenmode none up',
  'tuntap add dev tap1 mode tap',
  'tuntap add dev tap2 mode tap multi_queue user 0 group 0',
  'link add name qvb1 group 4242 mtu 1450 type veth peer name qvo1 group 4242 mtu 1450',
  'link add link up0 name mvt1 address 02:00:00:00:01:01 group 4242 mtu 1400 type macvtap mode vepa',
  'link set dev tap1 group 4242 alias vifd:p1 address 02:00:00:00:00:01 mtu 1450 master br1 up',
  'link set dev tap2 group 4242 alias vifd:p2 address 02:00:00:00:00:02 master qbr1 up',
  'link set dev qvb1 alias vifd:p2 master qbr1 up',
  'link set dev qvo1 alias vifd:p2 up',
  'link set dev mvt1 alias vifd:p3 up',
  'link set dev mvt1 type macvtap mode bridge',
];

describe('NetlinkLinkRunner against ip -force -batch', () => {
  it('a repair round: same links, same (no) failures; noqueue as tc sets it', async () => {
    const run = await runBoth(REPAIR);
    // "old0" is not there: the line fails, and so does the empty group delete.
    expect(failures(run.ip.errors).map((f) => f.line)).toEqual([1, 2]);
    expectSame(run);
    await new Ip(run.ip.ns).noQueue(['tap1', 'tap2', 'nosuch']);
    expect(await run.nl.runner.noQueue(['tap1', 'tap2', 'nosuch'])).toBe(1);
    expect(await run.nl.runner.noQueue(['tap1', 'tap2'])).toBe(0);
    const qdisc = (ns: string) => (links(ns) as { ifname: string; qdisc: string }[]).map((l) => `${l.ifname}:${l.qdisc}`);
    expect(qdisc(run.nl.ns)).toContain('tap1:noqueue');
    expect(qdisc(run.nl.ns)).toEqual(qdisc(run.ip.ns));
  });

  it('the same round again over what it made: every creation fails as ip fails it', async () => {
    const run = await runBoth([...REPAIR, ...REPAIR]);
    expect(run.ip.errors.length).toBeGreaterThan(4);
    expectSame(run);
  });

  it('failing lines: existing name, bad MTU, tap name held by a bridge, empty group, missing device or lower, master not a bridge', async () => {
    const run = await runBoth([
      'link add name br1 group 4242 type bridge forward_delay 0 stp_state 0',
      'link add name br1 group 4242 type bridge forward_delay 0 stp_state 0',
      'tuntap add dev br1 mode tap',
      'tuntap add dev tap1 mode tap',
      'tuntap add dev tap1 mode tap',
      'link set dev tap1 mtu 70000',
      'link set dev tap1 mtu 60',
      'link add name v1 group 7 mtu 60 type veth peer name p1 group 7 mtu 60',
      'link add name v2 group 7 mtu 70000 type veth peer name p2 group 7',
      'link del group 4243',
      'link set dev gone1 group 4242 up',
      'link add link gone2 name mvt1 address 02:00:00:00:00:09 group 4242 type macvtap mode vepa',
      'link set dev tap1 master up1',
      'link set dev tap1 master tap1',
      'link set dev up1 type macvtap mode vepa',
      'link add link up0 name mvt2 address 02:00:00:00:00:0a group 4242 mtu 9000 type macvtap mode private',
      'link add link up0 name mvt3 address 02:00:00:00:00:0b group 4242 type macvtap mode passthru',
      'link set dev tap1 master br1 up',
    ]);
    expect(run.ip.errors.length).toBeGreaterThanOrEqual(12);
    expect(run.ip.errors.some((e) => e.retryable) && run.ip.errors.some((e) => !e.retryable)).toBe(true);
    expectSame(run);
  });

  it('a name set by group on a missing device changes nothing else in that group', async () => {
    const run = await runBoth([
      'tuntap add dev tap1 mode tap',
      'link set dev tap1 group 77 alias keep',
      'link set dev gone1 group 77 alias clobbered mtu 1300',
    ]);
    expectSame(run);
    expect(links(run.nl.ns)).toContainEqual(expect.objectContaining({ ifname: 'tap1', ifalias: 'keep', mtu: 1500 }));
  });

  it('master created and deleted in the same batch: later lines see the new bridge', async () => {
    const run = await runBoth([
      'link add name br1 group 4242 type bridge forward_delay 0 stp_state 0',
      'tuntap add dev tap1 mode tap',
      'link set dev tap1 master br1 up',
      'link set dev br1 group 4243',
      'link del group 4243',
      'link add name br1 group 4242 type bridge forward_delay 0 stp_state 0 ageing_time 0',
      'link add name qvb1 group 4242 type veth peer name qvo1 group 4242',
      'link set dev qvb1 master br1 up',
      'link set dev tap1 master br1 up',
    ]);
    expect(run.ip.errors).toEqual([]);
    expectSame(run);
  });

  it('a missing master: ip ends the whole batch there, the runner fails that line only, with the same words', async () => {
    const lines = ['tuntap add dev tap1 mode tap', 'link set dev tap1 master nobr up', 'link set dev tap1 alias after'];
    const run = await runBoth(lines);
    // ip's invarg() exits: no "Command failed" line, the rest never runs.
    expect(failures(run.ip.errors)).toEqual([{ line: 0, text: '(batch)', reason: 'Error: argument "nobr" is wrong: Device does not exist', retryable: false }]);
    expect(failures(run.nl.errors)).toEqual([{ line: 2, text: lines[1], reason: 'Error: argument "nobr" is wrong: Device does not exist', retryable: false }]);
    expect(links(run.nl.ns)).toContainEqual(expect.objectContaining({ ifname: 'tap1', ifalias: 'after' }));
    // Without its last line, the batches agree.
    const rest = await runBoth(lines.slice(0, 2));
    expect(failures(rest.nl.errors).map((f) => f.reason)).toEqual(failures(rest.ip.errors).map((f) => f.reason));
    expect(links(rest.nl.ns)).toEqual(links(rest.ip.ns));
  });

  it('a line outside the vocabulary fails alone, never run, and is not retryable', async () => {
    const run = await runBoth(['tuntap add dev tap1 mode tap', 'link set dev tap1 promisc on', 'link set dev tap1 alias after']);
    expect(failures(run.ip.errors)).toEqual([]);
    expect(failures(run.nl.errors)).toEqual([expect.objectContaining({ line: 2, retryable: false })]);
    expect(links(run.nl.ns)).toContainEqual(expect.objectContaining({ ifname: 'tap1', ifalias: 'after' }));
  });

  it("the actuator's whole apply (two stages, noqueue) over ip and over the runner, with a foreign device in the way", async () => {
    const actions: LinkAction[] = [
      { op: 'create-bridge', key: 'link:brq1', name: 'brq1', group: 4242, alias: 'vifd:shared', perPort: false },
      ...[1, 2, 3].flatMap((i): LinkAction[] => [
        { op: 'create-tap', key: `p${i}`, name: `tap${i}`, ...(i === 2 ? { multiQueue: true } : {}) },
        { op: 'set-link', key: `p${i}`, name: `tap${i}`, why: 'new', settings: { group: 4242, alias: `vifd:p${i}`, mac: `02:00:00:00:00:0${i}`, mtu: 1450, master: 'brq1', up: true } },
      ]),
      // fb0 (the fixture's bridge, not vifd's) holds the name this tap wants.
      { op: 'create-tap', key: 'p4', name: 'fb0' },
      { op: 'set-link', key: 'p4', name: 'fb0', why: 'new', settings: { group: 4242, alias: 'vifd:p4', master: 'brq1', up: true } },
      { op: 'create-bridge', key: 'p5', name: 'qbr5', group: 4242, alias: 'vifd:p5', perPort: true },
      { op: 'create-veth', key: 'p5', name: 'qvb5', peer: 'qvo5', group: 4242, alias: 'vifd:p5', mtu: 1450 },
      { op: 'set-link', key: 'p5', name: 'qvb5', why: 'new', settings: { alias: 'vifd:p5', master: 'qbr5', up: true } },
      { op: 'create-macvtap', key: 'p6', name: 'mvt6', lower: 'up0', mode: 'vepa', mac: '02:00:00:00:00:06', group: 4242, alias: 'vifd:p6', mtu: 1400 },
      { op: 'set-link', key: 'p6', name: 'mvt6', why: 'new', settings: { alias: 'vifd:p6', up: true } },
      { op: 'delete-link', key: 'p7', name: 'gone7', why: 'unplugged' },
    ];
    const n = ++twins;
    const ipNs = `nlact-${FILE_TAG}-${n}-ip`;
    const nlNs = `nlact-${FILE_TAG}-${n}-nl`;
    makeNetns(ipNs);
    makeNetns(nlNs);
    const channel = await OneShotRtnlChannel.open(nlNs);
    const summary = (r: ActuationResult) => ({ ...r, failures: [...r.failures].map(([key, errors]) => [key, errors.map((e) => e.message)]) });
    const viaIp = summary(await applyLinkActions(new Ip(ipNs), actions, DEFAULT_OWNERSHIP));
    const viaNetlink = summary(await applyLinkActions(new NetlinkLinkRunner(channel, channel.resolve), actions, DEFAULT_OWNERSHIP));
    expect(viaIp.notCreated).toEqual(['fb0']);
    expect(viaIp.skipped).toEqual([expect.stringContaining('link set dev fb0')]);
    expect(viaNetlink).toEqual(viaIp);
    expect(links(nlNs)).toEqual(links(ipNs));
  });

  describe('random line sets from the vocabulary', () => {
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]) {
      it(`seed ${seed}`, async () => {
        const lines = randomLines(seed, 40);
        const run = await runBoth(lines);
        expect(run.ip.errors.length, 'the set has failing lines').toBeGreaterThan(0);
        expectSame(run);
      });
    }
  });
});

/** mulberry32: a small seeded PRNG, so a failing set can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Masters are b0, b1 (made first, never deleted), fb0, or up1 (not a bridge):
// a master that does not exist makes ip end the batch (tested above).
function randomLines(seed: number, count: number): string[] {
  const r = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const maybe = (p: number, words: string) => (r() < p ? [words] : []);
  const hex = () => Math.floor(r() * 256).toString(16).padStart(2, '0');
  const mtu = () => pick(['1400', '1500', '9000', '70000', '60']);
  const group = () => pick(['4242', '4243', '7']);
  const taps = ['t0', 't1', 't2'];
  const veths = [['v0', 'p0'], ['v1', 'p1']] as const;
  const macvtaps = ['m0', 'm1'];
  const targets = ['b2', ...taps, 'v0', 'p0', 'v1', 'p1', ...macvtaps, 'zz0'];
  const lines = [
    'link add name b0 group 4242 type bridge forward_delay 0 stp_state 0',
    'link add name b1 group 4242 type bridge forward_delay 0 stp_state 0 ageing_time 0',
  ];
  const makers: Array<() => string> = [
    () => `link add name ${pick(['b0', 'b2', 'b2'])} group ${pick(['4243', '7'])} type bridge forward_delay 0 stp_state 0${r() < 0.5 ? ' ageing_time 0' : ''}`,
    () => `link set dev ${pick(['b0', 'b1', 'b2'])} alias vifd:${hex()} addrgenmode none up`,
    () => ['tuntap', 'add', 'dev', pick([...taps, taps[0]!, 'b2']), 'mode', 'tap', ...maybe(0.3, 'multi_queue'), ...maybe(0.3, 'user 0'), ...maybe(0.3, 'group 0')].join(' '),
    () => {
      const [v, p] = pick(veths);
      const m = r() < 0.4 ? ` mtu ${mtu()}` : '';
      const g = group();
      return `link add name ${v} group ${g}${m} type veth peer name ${p} group ${g}${m}`;
    },
    () => `link add link ${pick(['up0', 'up0', 'v0', 'gone'])} name ${pick(macvtaps)} address 02:00:00:${hex()}:${hex()}:${hex()} group ${group()}${r() < 0.3 ? ` mtu ${mtu()}` : ''} type macvtap mode ${pick(['vepa', 'bridge', 'private'])}`,
    () => {
      const dev = pick(targets);
      const words = ['link', 'set', 'dev', dev, ...maybe(0.4, `group ${group()}`), ...maybe(0.3, `alias vifd:${hex()}`), ...maybe(0.2, `address 02:00:00:${hex()}:${hex()}:${hex()}`), ...maybe(0.3, `mtu ${mtu()}`)];
      if (r() < 0.4) words.push(r() < 0.2 ? 'nomaster' : `master ${pick(['b0', 'b1', 'b1', 'fb0', 'up1'])}`);
      words.push(...maybe(0.5, pick(['up', 'down'])));
      if (macvtaps.includes(dev) && r() < 0.3) words.push('type macvtap mode', pick(['vepa', 'bridge', 'private', 'passthru']));
      return words.length > 4 ? words.join(' ') : `${words.join(' ')} up`;
    },
    () => `link del group ${pick(['4243', '4243', '7', '4244'])}`,
  ];
  const weights = [1, 1, 3, 2, 2, 6, 2];
  const total = weights.reduce((a, b) => a + b, 0);
  while (lines.length < count) {
    let x = r() * total;
    const k = weights.findIndex((w) => (x -= w) < 0);
    lines.push(makers[k]!());
  }
  return lines;
}
