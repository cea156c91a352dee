// 802.1Qbh netlink messages, byte for byte against the kernel uapi layout
// (linux/netlink.h, linux/rtnetlink.h, linux/if_link.h). The expected bytes
// are written out by hand; x86/arm64 hosts are little endian.
import { describe, expect, it } from 'vitest';
import { NLMSG_ERROR, parseError, parseMessages } from '../../src/host/netlink/wire.js';
import {
  buildGetLink, buildSetPortProfile, IFLA_PORT_SELF, IFLA_VF_PORTS, parsePortStatus, uuidBytes,
} from '../../src/host/portprofile/qbh-message.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+|#[^\n]*/gu, ''), 'hex');
const INSTANCE = 'b1e2c3d4-0000-4000-8000-000000000001';
const HOST = '11111111-2222-4333-8444-555555555555';

describe('uapi constants', () => {
  it('match linux/if_link.h', () => {
    expect(IFLA_VF_PORTS).toBe(24);
    expect(IFLA_PORT_SELF).toBe(25);
  });
});

describe('buildSetPortProfile', () => {
  it('builds RTM_SETLINK + IFLA_PORT_SELF for associate', () => {
    const msg = buildSetPortProfile({ ifname: 'veth0', request: 'associate', profileId: 'prof1', instanceUuid: INSTANCE, hostUuid: HOST, seq: 0x01020304 });
    expect(msg.toString('hex')).toBe(hex(`
      6c000000 1300 0500 04030201 00000000      # nlmsghdr: len 108, RTM_SETLINK, REQUEST|ACK, seq, pid 0
      00 00 0000 00000000 00000000 00000000     # ifinfomsg: AF_UNSPEC, type 0, index 0, flags, change
      0a00 0300 7665746830 00 0000              # IFLA_IFNAME "veth0\\0" + 2 pad
      4000 1980                                 # IFLA_PORT_SELF | NLA_F_NESTED, len 64
        0a00 0200 70726f6631 00 0000            #   IFLA_PORT_PROFILE "prof1\\0" + pad
        1400 0400 b1e2c3d4000040008000000000000001   # IFLA_PORT_INSTANCE_UUID
        1400 0500 11111111222243338444555555555555   # IFLA_PORT_HOST_UUID
        0500 0600 02 000000                     #   IFLA_PORT_REQUEST = PORT_REQUEST_ASSOCIATE + pad
    `).toString('hex'));
  });

  it('builds IFLA_VF_PORTS/IFLA_VF_PORT with IFLA_PORT_VF for a VF, by ifindex', () => {
    const msg = buildSetPortProfile({ ifindex: 7, vf: 3, request: 'disassociate', profileId: 'prof1', instanceUuid: INSTANCE, hostUuid: HOST, seq: 9 });
    expect(msg.toString('hex')).toBe(hex(`
      6c000000 1300 0500 09000000 00000000
      00 00 0000 07000000 00000000 00000000     # index 7
      4c00 1880                                 # IFLA_VF_PORTS | NESTED, len 76
        4800 0180                               #   IFLA_VF_PORT | NESTED, len 72
          0a00 0200 70726f6631 00 0000
          1400 0400 b1e2c3d4000040008000000000000001
          1400 0500 11111111222243338444555555555555
          0800 0100 03000000                    #     IFLA_PORT_VF = 3
          0500 0600 03 000000                   #     PORT_REQUEST_DISASSOCIATE
    `).toString('hex'));
  });

  it('encodes every request code of enum port_request', () => {
    const req = (r: 'preassociate' | 'preassociate-rr' | 'associate' | 'disassociate') =>
      buildSetPortProfile({ ifindex: 1, request: r, seq: 1 }).subarray(-4, -3)[0];
    expect([req('preassociate'), req('preassociate-rr'), req('associate'), req('disassociate')]).toEqual([0, 1, 2, 3]);
  });

  it('rejects bad input before building anything', () => {
    expect(() => buildSetPortProfile({ request: 'associate', seq: 1 })).toThrow(/ifindex or an ifname/u);
    expect(() => buildSetPortProfile({ ifname: 'x', request: 'associate', profileId: 'p'.repeat(40), seq: 1 })).toThrow(/1\.\.39/u);
    expect(() => buildSetPortProfile({ ifname: 'x', request: 'associate', instanceUuid: 'nope', seq: 1 })).toThrow(/UUID/u);
    expect(() => buildSetPortProfile({ ifname: 'a-very-long-name0', request: 'associate', seq: 1 })).toThrow(/interface name/u);
    expect(uuidBytes(INSTANCE.replaceAll('-', '')).length).toBe(16);
  });
});

describe('buildGetLink', () => {
  it('asks for VF/port info with IFLA_EXT_MASK = RTEXT_FILTER_VF', () => {
    expect(buildGetLink({ ifname: 'veth0', seq: 5 }).toString('hex')).toBe(hex(`
      34000000 1200 0500 05000000 00000000      # len 52, RTM_GETLINK, REQUEST|ACK
      00 00 0000 00000000 00000000 00000000
      0a00 0300 7665746830 00 0000              # IFLA_IFNAME
      0800 1d00 01000000                        # IFLA_EXT_MASK = RTEXT_FILTER_VF
    `).toString('hex'));
  });
});

describe('reply parsing', () => {
  // An RTM_NEWLINK as a port-profile driver (enic) sends it: IFLA_IFNAME, then
  // IFLA_PORT_SELF with the profile, instance UUID and IFLA_PORT_RESPONSE.
  const newlink = hex(`
    68000000 1000 0000 05000000 d2040000        # len 104, RTM_NEWLINK
    00 00 0100 07000000 43100100 00000000       # ifinfomsg: ARPHRD_ETHER, index 7
    0a00 0300 7665746830 00 0000
    3400 1900                                   # IFLA_PORT_SELF, len 52 (no NESTED flag, as older kernels send it)
      0a00 0200 70726f6631 00 0000
      1400 0400 b1e2c3d4000040008000000000000001
      0500 0600 02 000000
      0600 0700 0101 0000                       # IFLA_PORT_RESPONSE = 0x101 in progress
    0800 1800 0400 0000                         # an empty-ish IFLA_VF_PORTS (nested junk ignored)
  `);

  it('extracts the IFLA_PORT_SELF response', () => {
    const [msg] = parseMessages(newlink);
    expect(parsePortStatus(msg!)).toEqual({
      response: 0x101, responseName: 'in-progress', profileId: 'prof1', instanceUuid: INSTANCE, request: 2,
    });
    expect(parsePortStatus(msg!, 0)).toBeUndefined();
  });

  it('finds a VF port by IFLA_PORT_VF', () => {
    const vfPorts = hex(`
      3c000000 1000 0000 01000000 00000000
      00 00 0100 07000000 00000000 00000000
      1c00 1880
        0c00 0180 0800 0100 00000000            # VF 0: no response
        0c00 0180 0800 0100 02000000            # VF 2 ...
    `);
    const [msg] = parseMessages(vfPorts);
    expect(parsePortStatus(msg!, 2)).toEqual({ vf: 2 });
    expect(parsePortStatus(msg!, 5)).toBeUndefined();
    expect(parsePortStatus(msg!)).toBeUndefined();
  });

  it('decodes an NLMSG_ERROR with EOPNOTSUPP and an extended ack message', () => {
    const err = hex(`
      34000000 0200 0003 05000000 d2040000      # len 52, NLMSG_ERROR, CAPPED|ACK_TLVS
      a1ffffff                                  # error = -95 (EOPNOTSUPP)
      6c000000 1300 0500 05000000 00000000      # the request's header only (capped)
      0e00 0100 6e6f7420 68657265 2100 0000     # NLMSGERR_ATTR_MSG "not here!"
    `);
    const [msg] = parseMessages(err);
    expect(msg!.type).toBe(NLMSG_ERROR);
    expect(parseError(msg!)).toEqual({ errno: 95, extAck: 'not here!' });
  });

  it('decodes an ack and rejects truncated input', () => {
    const ack = hex('24000000 0200 0001 05000000 00000000 00000000 6c000000 1300 0500 05000000 00000000');
    expect(parseError(parseMessages(ack)[0]!)).toEqual({ errno: 0 });
    expect(() => parseMessages(ack.subarray(0, 20))).toThrow(/truncated/u);
  });
});
