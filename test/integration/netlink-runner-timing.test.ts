// What one ~300-line round costs through `ip -force -batch` (one process)
// and through NetlinkLinkRunner over the one-shot test channel (one
// vifd-netlink process per pipelined run of requests, one `ip tuntap add`
// per tap: the long-lived channel does both in-process). Prints the times;
// asserts both leave the same links, so the figures compare like with like.
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { applyLinkActions } from '../../src/host/links/link-actuator.js';
import { Ip } from '../../src/host/ip.js';
import { NetlinkLinkRunner } from '../../src/host/netlink/netlink-runner.js';
import type { LinkAction } from '../../src/model/actions.js';
import { DEFAULT_OWNERSHIP } from '../../src/model/ownership.js';
import { links, makeNetns, twinNamespaces } from '../helpers/link-twins.js';
import { deleteNetns } from '../helpers/netns.js';
import { OneShotRtnlChannel } from '../helpers/one-shot-rtnl-channel.js';

const TAG = randomBytes(2).toString('hex');
const hex = (n: number) => n.toString(16).padStart(2, '0');

afterAll(() => {
  for (const ns of twinNamespaces) deleteNetns(ns);
});

const bridges = Array.from({ length: 5 }, (_, b) => [
  `link add name br${b} group 4242 type bridge forward_delay 0 stp_state 0`,
  `link set dev br${b} alias vifd:br${b} addrgenmode none up`,
]).flat();

/** 5 bridges, 100 taps (create, mark, enslave + up): 310 lines. */
const TAPS = [...bridges, ...Array.from({ length: 100 }, (_, i) => [
  `tuntap add dev tap${i} mode tap`,
  `link set dev tap${i} group 4242 alias vifd:p${i} address 02:00:00:00:${hex(i)}:01 mtu 1450`,
  `link set dev tap${i} master br${i % 5} up`,
]).flat()];

/** 5 bridges, 100 veth pairs (create, enslave + up, peer up): 310 lines, no taps. */
const VETHS = [...bridges, ...Array.from({ length: 100 }, (_, i) => [
  `link add name qvb${i} group 4242 mtu 1450 type veth peer name qvo${i} group 4242 mtu 1450`,
  `link set dev qvb${i} alias vifd:p${i} master br${i % 5} up`,
  `link set dev qvo${i} alias vifd:p${i} up`,
]).flat()];

/** The same 100 taps into 5 bridges as the actuator plans them: creations
 * first (taps back to back), then one set-up stage, then noqueue. */
const TAP_ACTIONS: LinkAction[] = [
  ...Array.from({ length: 5 }, (_, b): LinkAction => ({ op: 'create-bridge', key: `link:br${b}`, name: `br${b}`, group: 4242, alias: `vifd:br${b}`, perPort: false })),
  ...Array.from({ length: 100 }, (_, i): LinkAction[] => [
    { op: 'create-tap', key: `p${i}`, name: `tap${i}` },
    { op: 'set-link', key: `p${i}`, name: `tap${i}`, why: 'new', settings: { group: 4242, alias: `vifd:p${i}`, mac: `02:00:00:00:${hex(i)}:01`, mtu: 1450, master: `br${i % 5}`, up: true } },
  ]).flat(),
];

async function measure(name: string, lines: string[]) {
  const ipNs = `nlact-${TAG}-${name}-ip`;
  const nlNs = `nlact-${TAG}-${name}-nl`;
  makeNetns(ipNs);
  makeNetns(nlNs);
  let t = performance.now();
  const ipErrors = await new Ip(ipNs).batch(lines);
  const ipMs = performance.now() - t;
  const channel = await OneShotRtnlChannel.open(nlNs);
  const before = channel.spawns;
  t = performance.now();
  const nlErrors = await new NetlinkLinkRunner(channel, channel.resolve).batch(lines);
  const nlMs = performance.now() - t;
  console.log(`${name}: ${lines.length} lines: ip -force -batch ${ipMs.toFixed(0)} ms; netlink runner over the one-shot helper ${nlMs.toFixed(0)} ms (${channel.spawns - before} processes)`);
  expect(ipErrors).toEqual([]);
  expect(nlErrors).toEqual([]);
  expect(links(nlNs)).toEqual(links(ipNs));
}

describe('a 300-line round: ip -batch vs the netlink runner', () => {
  it('100 tap bindings into 5 bridges through the actuator (2 ip batches + tc -batch, or the runner)', async () => {
    const ipNs = `nlact-${TAG}-act-ip`;
    const nlNs = `nlact-${TAG}-act-nl`;
    makeNetns(ipNs);
    makeNetns(nlNs);
    let t = performance.now();
    const viaIp = await applyLinkActions(new Ip(ipNs), TAP_ACTIONS, DEFAULT_OWNERSHIP);
    const ipMs = performance.now() - t;
    const channel = await OneShotRtnlChannel.open(nlNs);
    const before = channel.spawns;
    t = performance.now();
    const viaNetlink = await applyLinkActions(new NetlinkLinkRunner(channel, channel.resolve), TAP_ACTIONS, DEFAULT_OWNERSHIP);
    const nlMs = performance.now() - t;
    console.log(`actuator: ${viaIp.linesRun} lines: ip ${ipMs.toFixed(0)} ms (${viaIp.batches} ip batches + tc); netlink runner over the one-shot helper ${nlMs.toFixed(0)} ms (${channel.spawns - before} processes, ${TAP_ACTIONS.filter((a) => a.op === 'create-tap').length} of them ip tuntap)`);
    expect(viaIp.failures.size + viaNetlink.failures.size).toBe(0);
    expect(links(nlNs)).toEqual(links(ipNs));
  });

  it('100 taps into 5 bridges', () => measure('taps', TAPS));
  it('100 veth pairs into 5 bridges', () => measure('veths', VETHS));
});
