// The line encoder, table-driven: each line of the actuator's vocabulary →
// the request decoded back into its fields (what ip 6.1 sends for it).
import { execFileSync } from 'node:child_process';
import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';
import { cannotFindDevice, masterMissing, rtnetlinkMessage, strerror, tuntapMessage } from '../../src/host/netlink/errno.js';
import { linkCreations, LinkLineError, linkReferences, parseLinkLine } from '../../src/host/netlink/link-lines.js';
import { encodeLinkCommand, getLinkRequest, type LinkRequest } from '../../src/host/netlink/link-requests.js';
import { noQueueRequest } from '../../src/host/netlink/qdisc-request.js';
import { listNlas, parseMessages, readI32, readU16, readU32 } from '../../src/host/netlink/wire.js';

const NEW = 16;
const DEL = 17;
const REQUEST = 0x1;
const CREATE_EXCL = 0x400 | 0x200;

const indexes = new Map([['br0', 7], ['eth1', 3]]);
const resolve = (name: string) => indexes.get(name);

const u32 = (d: Buffer) => readU32(d, 0);
const cstr = (d: Buffer) => {
  expect(d[d.length - 1], 'NUL-terminated').toBe(0);
  return d.subarray(0, -1).toString();
};
const raw = (d: Buffer) => {
  expect(d.includes(0), 'no NUL').toBe(false);
  return d.toString();
};
const mac = (d: Buffer) => [...d].map((b) => b.toString(16).padStart(2, '0')).join(':');

function linkAttrs(buf: Buffer): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [type, d] of listNlas(buf)) {
    const put = (key: string, value: unknown) => {
      expect(out, `${key} once`).not.toHaveProperty(key);
      out[key] = value;
    };
    switch (type) {
      case 1: put('address', mac(d)); break;
      case 3: put('ifname', cstr(d)); break;
      case 4: put('mtu', u32(d)); break;
      case 5: put('link', u32(d)); break;
      case 10: put('master', u32(d)); break;
      case 20: put('ifalias', raw(d)); break;
      case 27: put('group', u32(d)); break;
      case 26: {
        const [[family, inet6]] = listNlas(d) as [[number, Buffer]];
        expect(family).toBe(10);
        const [[attr, mode]] = listNlas(inet6) as [[number, Buffer]];
        put('addrgenmode', { attr, mode: mode.readUInt8(0), len: mode.length });
        break;
      }
      case 18: {
        const info = new Map(listNlas(d));
        const kind = raw(info.get(1)!);
        const data = listNlas(info.get(2)!);
        if (kind === 'veth') {
          const [[t, peer]] = data as [[number, Buffer]];
          expect(t).toBe(1);
          put('linkinfo', { kind, peer: { ifi: ifiOf(peer), ...linkAttrs(peer.subarray(16)) } });
        } else {
          const names: Record<string, Record<number, string>> = { bridge: { 1: 'forward_delay', 4: 'ageing_time', 5: 'stp_state' }, macvtap: { 1: 'mode' } };
          put('linkinfo', { kind, ...Object.fromEntries(data.map(([t, v]) => [names[kind]?.[t] ?? `attr${t}`, u32(v)])) });
        }
        break;
      }
      default: put(`attr${type}`, d.toString('hex'));
    }
  }
  return out;
}

function ifiOf(p: Buffer) {
  return { family: p.readUInt8(0), type: readU16(p, 2), index: readI32(p, 4), flags: readU32(p, 8), change: readU32(p, 12) };
}

function decode(request: LinkRequest) {
  if (request.kind !== 'netlink') throw new Error(`not a netlink request: ${request.kind}`);
  const [m, ...rest] = parseMessages(request.message);
  expect(rest).toEqual([]);
  expect(m!.seq).toBe(0);
  return { type: m!.type, flags: m!.flags, ifi: ifiOf(m!.payload), attrs: linkAttrs(m!.payload.subarray(16)) };
}

const encode = (line: string) => encodeLinkCommand(parseLinkLine(line), resolve);
const ifi0 = { family: 0, type: 0, index: 0, flags: 0, change: 0 };

describe('link lines → rtnetlink requests', () => {
  it.each([
    ['link set dev tap1 group 4243', { type: NEW, flags: REQUEST, ifi: ifi0, attrs: { group: 4243, ifname: 'tap1' } }],
    ['link del group 4243', { type: DEL, flags: REQUEST, ifi: ifi0, attrs: { group: 4243 } }],
    ['link add name br1 group 4242 type bridge forward_delay 0 stp_state 0', {
      type: NEW, flags: REQUEST | CREATE_EXCL, ifi: ifi0,
      attrs: { group: 4242, ifname: 'br1', linkinfo: { kind: 'bridge', forward_delay: 0, stp_state: 0 } },
    }],
    ['link add name qbr1 group 4242 type bridge forward_delay 15 stp_state 1 ageing_time 0', {
      type: NEW, flags: REQUEST | CREATE_EXCL, ifi: ifi0,
      attrs: { group: 4242, ifname: 'qbr1', linkinfo: { kind: 'bridge', forward_delay: 15, stp_state: 1, ageing_time: 0 } },
    }],
    ['link set dev br1 alias vifd:bridge addrgenmode none up', {
      type: NEW, flags: REQUEST, ifi: { ...ifi0, flags: 1, change: 1 },
      attrs: { ifalias: 'vifd:bridge', addrgenmode: { attr: 8, mode: 1, len: 1 }, ifname: 'br1' },
    }],
    ['link add name qvb1 group 4242 mtu 1450 type veth peer name qvo1 group 4242 mtu 1450', {
      type: NEW, flags: REQUEST | CREATE_EXCL, ifi: ifi0,
      attrs: { group: 4242, mtu: 1450, ifname: 'qvb1', linkinfo: { kind: 'veth', peer: { ifi: ifi0, group: 4242, mtu: 1450, ifname: 'qvo1' } } },
    }],
    ['link add name qvb2 group 9 type veth peer name qvo2 group 10', {
      type: NEW, flags: REQUEST | CREATE_EXCL, ifi: ifi0,
      attrs: { group: 9, ifname: 'qvb2', linkinfo: { kind: 'veth', peer: { ifi: ifi0, group: 10, ifname: 'qvo2' } } },
    }],
    ['link add link eth1 name mvt1 address fa:16:3e:00:00:0A group 4242 mtu 1400 type macvtap mode vepa', {
      type: NEW, flags: REQUEST | CREATE_EXCL, ifi: ifi0,
      attrs: { address: 'fa:16:3e:00:00:0a', group: 4242, mtu: 1400, link: 3, ifname: 'mvt1', linkinfo: { kind: 'macvtap', mode: 2 } },
    }],
    ['link add link eth1 name mvt2 address 2:0:0:0:0:1 group 4242 type macvtap mode passthru', {
      type: NEW, flags: REQUEST | CREATE_EXCL, ifi: ifi0,
      attrs: { address: '02:00:00:00:00:01', group: 4242, link: 3, ifname: 'mvt2', linkinfo: { kind: 'macvtap', mode: 8 } },
    }],
    ['link set dev tap1 group 4242 alias vifd:p1 address fa:16:3e:5d:12:7a mtu 1450 master br0 up', {
      type: NEW, flags: REQUEST, ifi: { ...ifi0, flags: 1, change: 1 },
      attrs: { group: 4242, ifalias: 'vifd:p1', address: 'fa:16:3e:5d:12:7a', mtu: 1450, master: 7, ifname: 'tap1' },
    }],
    ['link set dev tap1 nomaster down', { type: NEW, flags: REQUEST, ifi: { ...ifi0, flags: 0, change: 1 }, attrs: { master: 0, ifname: 'tap1' } }],
    ['link set dev mvt1 type macvtap mode bridge', { type: NEW, flags: REQUEST, ifi: ifi0, attrs: { ifname: 'mvt1', linkinfo: { kind: 'macvtap', mode: 4 } } }],
    ['link set dev mvt1 down type macvtap mode private', {
      type: NEW, flags: REQUEST, ifi: { ...ifi0, change: 1 }, attrs: { ifname: 'mvt1', linkinfo: { kind: 'macvtap', mode: 1 } },
    }],
  ])('%s', (line, expected) => {
    expect(decode(encode(line))).toEqual(expected);
  });

  it('looks one device up by name (RTM_GETLINK, no dump)', () => {
    expect(decode({ kind: 'netlink', message: getLinkRequest('tap1') })).toEqual({ type: 18, flags: REQUEST, ifi: ifi0, attrs: { ifname: 'tap1' } });
  });

  it('tuntap add becomes a tap to create, with its options', () => {
    expect(encode('tuntap add dev tap1 mode tap')).toEqual({ kind: 'tap', name: 'tap1', options: {} });
    expect(encode('tuntap add dev tap2 mode tap multi_queue user 107 group 0')).toEqual({ kind: 'tap', name: 'tap2', options: { multiQueue: true, user: 107, group: 0 } });
  });

  it('a master or lower device that is not there is unresolved, nothing is sent', () => {
    expect(encode('link set dev tap1 master br9 up')).toEqual({ kind: 'unresolved', name: 'br9', role: 'master' });
    expect(encode('link add link eth9 name mvt1 address fa:16:3e:00:00:01 group 1 type macvtap mode vepa')).toEqual({ kind: 'unresolved', name: 'eth9', role: 'lower' });
    // nomaster needs no lookup.
    expect(encode('link set dev tap1 nomaster').kind).toBe('netlink');
  });

  it('names the ifindexes a line needs and the devices it creates', () => {
    const of = (line: string) => ({ refs: linkReferences(parseLinkLine(line)), creates: linkCreations(parseLinkLine(line)) });
    expect(of('link set dev t master b up')).toEqual({ refs: ['b'], creates: [] });
    expect(of('link add link u name m address 02:00:00:00:00:01 group 1 type macvtap mode vepa')).toEqual({ refs: ['u'], creates: ['m'] });
    expect(of('link add name a group 1 type veth peer name b group 1')).toEqual({ refs: [], creates: ['a', 'b'] });
    expect(of('tuntap add dev t mode tap')).toEqual({ refs: [], creates: ['t'] });
    expect(of('link add name b group 1 type bridge forward_delay 0 stp_state 0')).toEqual({ refs: [], creates: ['b'] });
    expect(of('link del group 4243')).toEqual({ refs: [], creates: [] });
  });

  it.each([
    'link set dev tap1 promisc on',
    'link set dev tap1 group 1 group 2',
    'link set dev tap1 mtu 0x100',
    'link set dev tap1 alias "two words"',
    'link set dev tap1 up # comment',
    'link set dev tap1 master a/b',
    'link set dev thisnameistoolong0 up',
    'link set dev tap1 type macvtap mode passthrough',
    'link set dev tap1 type veth',
    'link set dev tap1 address fa:16:3e:00:01',
    'link add name x group 1 type vxlan id 1',
    'link add name x type bridge forward_delay 0 stp_state 0',
    'link add name x group 1 type bridge forward_delay 0 stp_state 0 hello_time 1',
    'link del dev tap1',
    'link del group 4243 extra',
    'tuntap add dev t0 mode tun',
    'tuntap add dev t0 mode tap vnet_hdr',
    'tuntap del dev t0 mode tap',
    'addr add 10.0.0.1/24 dev tap1',
    'link set dev',
    '',
  ])('refuses %j with a stable code', (line) => {
    let caught: unknown;
    try {
      parseLinkLine(line);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(LinkLineError);
    expect((caught as LinkLineError).code).toBe('NETLINK_LINE_UNSUPPORTED');
    expect((caught as LinkLineError).fields).toMatchObject({ line });
  });

  it('refuses an alias ip would refuse (256 bytes or more), sends a 255-byte one', () => {
    expect(() => parseLinkLine(`link set dev t alias ${'a'.repeat(256)}`)).toThrow(LinkLineError);
    expect(decode(encode(`link set dev t alias ${'a'.repeat(255)}`)).attrs).toMatchObject({ ifalias: 'a'.repeat(255) });
  });
});

describe('tc qdisc replace dev D root noqueue', () => {
  it('is one RTM_NEWQDISC at the root of the ifindex, kind noqueue', () => {
    const [m, ...rest] = parseMessages(noQueueRequest(42));
    expect(rest).toEqual([]);
    expect({ type: m!.type, flags: m!.flags }).toEqual({ type: 36, flags: REQUEST | 0x400 | 0x100 });
    const p = m!.payload;
    expect({ family: p.readUInt8(0), ifindex: readI32(p, 4), handle: readU32(p, 8), parent: readU32(p, 12), info: readU32(p, 16) })
      .toEqual({ family: 0, ifindex: 42, handle: 0, parent: 0xffffffff, info: 0 });
    expect(listNlas(p.subarray(20)).map(([t, d]) => [t, cstr(d)])).toEqual([[1, 'noqueue']]);
  });
});

describe("ip's error texts", () => {
  it('strerror matches the C library for every errno in its table', () => {
    const numbers = Object.values(constants.errno).filter((n) => !strerror(n).startsWith('Unknown error'));
    expect(numbers.length).toBeGreaterThan(30);
    const glibc = JSON.parse(execFileSync('/usr/bin/python3', ['-c', 'import os,sys,json; print(json.dumps([os.strerror(int(n)) for n in sys.argv[1:]]))', ...numbers.map(String)], { encoding: 'utf8' })) as string[];
    expect(numbers.map(strerror)).toEqual(glibc);
    expect(strerror(4095)).toBe('Unknown error 4095');
  });

  it('prints an extended ack as ip does (only it, with a full stop), else RTNETLINK answers', () => {
    expect(rtnetlinkMessage({ errno: constants.errno.EEXIST })).toBe('RTNETLINK answers: File exists');
    expect(rtnetlinkMessage({ errno: constants.errno.EINVAL, extAck: 'mtu greater than device maximum' })).toBe('Error: mtu greater than device maximum.');
    expect(rtnetlinkMessage({ errno: constants.errno.EINVAL, extAck: 'Invalid MTU.' })).toBe('Error: Invalid MTU.');
    expect(rtnetlinkMessage({ errno: constants.errno.ENODEV, extAck: '' })).toBe('RTNETLINK answers: No such device');
    expect(cannotFindDevice('tap1')).toBe('Cannot find device "tap1"');
    expect(masterMissing('br9')).toBe('Error: argument "br9" is wrong: Device does not exist');
    expect(tuntapMessage(constants.errno.EBUSY)).toBe('ioctl(TUNSETIFF): Device or resource busy');
  });
});
