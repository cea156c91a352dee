// The encoder against the bytes ip (and tc) really send: each line runs under
// strace in a throwaway namespace, and its RTM_NEWLINK / RTM_DELLINK /
// RTM_NEWQDISC request is compared, attribute by attribute, with the
// encoder's. Expected differences only: the channel adds NLM_F_ACK and the
// sequence number; ip leaves NLA_F_NESTED off (the kernel ignores it here);
// and `link set` names its device (ifindex 0 + IFLA_IFNAME) where ip sends
// the ifindex it looked up.
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseLinkLine } from '../../src/host/netlink/link-lines.js';
import { encodeLinkCommand } from '../../src/host/netlink/link-requests.js';
import { noQueueRequest } from '../../src/host/netlink/qdisc-request.js';
import { listNlas, parseMessages, readI32 } from '../../src/host/netlink/wire.js';
import { deleteNetns } from '../helpers/netns.js';

const NS = `nlact-bytes-${randomBytes(2).toString('hex')}`;
const hasStrace = existsSync('/usr/bin/strace');

beforeAll(() => {
  execFileSync('ip', ['netns', 'add', NS]);
  execFileSync('ip', ['-n', NS, '-batch', '-'], { input: 'link add up0 type veth peer name up1\nlink add br0 type bridge\ntuntap add dev tap1 mode tap\nlink add link up0 name mvt0 type macvtap mode vepa\n' });
});
afterAll(() => deleteNetns(NS));

const ifindexOf = (name: string) => (JSON.parse(execFileSync('ip', ['-n', NS, '-j', 'link', 'show', 'dev', name], { encoding: 'utf8' })) as { ifindex: number }[])[0]!.ifindex;

interface Sent {
  type: number;
  flags: number;
  payload: Buffer;
}

/** The last netlink request of `type` the command sent, as strace saw it. */
function sentBy(argv: string[], types: number[]): Sent {
  const r = spawnSync('strace', ['-e', 'trace=sendmsg', '-xx', '-s', '65536', ...argv], { encoding: 'utf8' });
  const requests = [...r.stderr.matchAll(/nlmsg_type=(0x[0-9a-f]+)[^,]*, nlmsg_flags=([^,]+), nlmsg_seq=\d+, nlmsg_pid=\d+\}, "((?:\\x[0-9a-f]{2})*)"/gu)]
    .map((m) => ({ type: Number(m[1]), flags: flagsOf(m[2]!), payload: Buffer.from(m[3]!.replaceAll('\\x', ''), 'hex') }))
    .filter((s) => types.includes(s.type));
  expect(requests.length, `${argv.join(' ')}: ${r.stderr.slice(-400)}`).toBeGreaterThan(0);
  return requests[requests.length - 1]!;
}

function flagsOf(text: string): number {
  const names: Record<string, number> = { NLM_F_REQUEST: 1, NLM_F_ACK: 4, NLM_F_ECHO: 8 };
  return text.split('|').reduce((sum, f) => sum + (names[f] ?? Number(f)), 0);
}

type Tree = Array<[number, string | Tree]>;

/** Attributes as [type, hex or children]; which are nested is known per
 * path (IFLA_LINKINFO, its INFO_DATA, IFLA_AF_SPEC, a veth peer). */
function tree(buf: Buffer, path = ''): Tree {
  const kind = listNlas(buf).find(([t]) => path === '/18' && t === 1)?.[1].toString();
  return listNlas(buf).map(([type, data]) => {
    const at = `${path}/${type}`;
    if (['/18', '/26', '/26/10'].includes(at)) return [type, tree(data, at)];
    if (at === '/18/2') {
      if (kind !== 'veth') return [type, tree(data, `${at}:${kind}`)];
      return [type, listNlas(data).map(([t, peer]): [number, string | Tree] => [t, [[-1, peer.subarray(0, 16).toString('hex')], ...tree(peer.subarray(16))]])];
    }
    return [type, data.toString('hex')];
  });
}

function ours(message: Buffer): Sent {
  const [m] = parseMessages(message);
  return { type: m!.type, flags: m!.flags | 4, payload: m!.payload };
}

describe.skipIf(!hasStrace)('the encoder sends what ip sends', () => {
  it.each([
    'link add name br1 group 4242 type bridge forward_delay 0 stp_state 0',
    'link add name qbr1 group 4242 type bridge forward_delay 0 stp_state 0 ageing_time 0',
    'link add name qvb1 group 4242 mtu 1450 type veth peer name qvo1 group 4242 mtu 1450',
    'link add name qvb2 group 7 type veth peer name qvo2 group 8',
    'link add link up0 name mvt1 address fa:16:3e:00:00:0a group 4242 mtu 1400 type macvtap mode vepa',
    'link add link up0 name mvt2 address 02:00:00:00:00:01 group 4242 type macvtap mode private',
    'link del group 4243',
    'link set dev br0 alias vifd:bridge addrgenmode none up',
    'link set dev tap1 group 4242 alias vifd:p1 address fa:16:3e:5d:12:7a mtu 1450 master br0 up',
    'link set dev tap1 group 4243',
    'link set dev tap1 nomaster down',
    'link set dev mvt0 type macvtap mode bridge',
    'link set dev mvt0 alias vifd:p3 up type macvtap mode private',
  ])('%s', (line) => {
    const ip = sentBy(['ip', '-n', NS, ...line.split(' ')], [16, 17]);
    const request = encodeLinkCommand(parseLinkLine(line), (name) => ifindexOf(name));
    if (request.kind !== 'netlink') throw new Error(request.kind);
    const nl = ours(request.message);
    expect({ type: nl.type, flags: nl.flags }).toEqual({ type: ip.type, flags: ip.flags });
    const ifi = (p: Buffer) => p.subarray(0, 16).toString('hex');
    let attrs = tree(nl.payload.subarray(16));
    if (line.startsWith('link set')) {
      const name = line.split(' ')[3]!;
      expect(readI32(ip.payload, 4)).toBe(ifindexOf(name));
      expect(readI32(nl.payload, 4)).toBe(0);
      expect(attrs).toContainEqual([3, Buffer.from(`${name}\0`).toString('hex')]);
      attrs = attrs.filter(([t]) => t !== 3);
      const withoutIndex = (p: Buffer) => Buffer.concat([p.subarray(0, 4), Buffer.alloc(4), p.subarray(8, 16)]).toString('hex');
      expect(withoutIndex(nl.payload)).toBe(withoutIndex(ip.payload));
    } else {
      expect(ifi(nl.payload)).toBe(ifi(ip.payload));
    }
    expect(attrs).toEqual(tree(ip.payload.subarray(16)));
    expect(ip.payload.length - 16).toBeGreaterThan(0);
  });

  it('tc qdisc replace dev D root noqueue', () => {
    const tc = sentBy(['tc', '-n', NS, 'qdisc', 'replace', 'dev', 'tap1', 'root', 'noqueue'], [36]);
    const nl = ours(noQueueRequest(ifindexOf('tap1')));
    expect({ type: nl.type, flags: nl.flags }).toEqual({ type: tc.type, flags: tc.flags });
    expect(nl.payload.toString('hex')).toBe(tc.payload.toString('hex'));
  });
});
