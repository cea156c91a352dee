// A parsed line (link-lines.ts) → the rtnetlink request iproute2 6.1 sends
// for it (ip/iplink.c, link_veth.c, iplink_bridge.c, iplink_macvlan.c), or the
// tap ip creates by ioctl (ip/iptuntap.c). Pure: the names that must become
// ifindexes (a master, a macvtap's lower device) are resolved by a function
// given at send time.
//
// One deliberate difference from ip: `link set dev X` goes out with ifindex 0
// and IFLA_IFNAME, so the kernel looks X up when it runs the request (ip looks
// it up first and sends the index). A pipelined request can then name a
// device an earlier request of the same batch creates. A name that is not a
// device then gets ENODEV, even with IFLA_GROUP in the request: older kernels
// instead applied such a request to every device of that group
// (rtnl_group_changelink), which test/integration/netlink-runner.test.ts
// checks does not happen on the kernel it runs on.
import { IFF_UP, IFLA_ADDRESS, IFLA_GROUP, IFLA_IFALIAS, IFLA_IFNAME, IFLA_INFO_DATA, IFLA_INFO_KIND, IFLA_LINK, IFLA_LINKINFO, IFLA_MACVLAN_MODE, IFLA_MASTER, IFLA_MTU } from './if-link.js';
import {
  encodeIfInfoMsg, encodeMessage, encodeNlas, type Nla, nlaNested, nlaString, nlaU32, nlaU8,
  NLM_F_CREATE, NLM_F_EXCL, NLM_F_REQUEST, RTM_DELLINK, RTM_GETLINK, RTM_NEWLINK,
} from './wire.js';
import type { LinkCommand, LinkSettings, MacvtapMode, TapOptions } from './link-lines.js';

// linux/if_link.h, linux/veth.h, linux/if.h, linux/socket.h
const IFLA_AF_SPEC = 26;
const IFLA_INET6_ADDR_GEN_MODE = 8;
const IN6_ADDR_GEN_MODE_NONE = 1;
const IFLA_BR_FORWARD_DELAY = 1;
const IFLA_BR_AGEING_TIME = 4;
const IFLA_BR_STP_STATE = 5;
const VETH_INFO_PEER = 1;
const AF_INET6 = 10;

/** MACVLAN_MODE_* of each mode name. */
const MACVTAP_MODES: Readonly<Record<MacvtapMode, number>> = { private: 1, vepa: 2, bridge: 4, passthru: 8, source: 16 };

/** What a line becomes at send time. */
export type LinkRequest =
  | { kind: 'netlink'; message: Buffer }
  | { kind: 'tap'; name: string; options: TapOptions }
  /** A name that had to become an ifindex is not a device (ip fails the line before sending). */
  | { kind: 'unresolved'; name: string; role: 'master' | 'lower' };

export type IfIndexResolver = (name: string) => number | undefined;

/** The request for a parsed line; seq 0 and no NLM_F_ACK (the channel sets both). */
export function encodeLinkCommand(cmd: LinkCommand, resolve: IfIndexResolver): LinkRequest {
  switch (cmd.op) {
    case 'add-tap':
      return { kind: 'tap', name: cmd.name, options: cmd.options };
    case 'delete-group':
      // No name and no index: the kernel deletes every device in the group.
      return netlink(RTM_DELLINK, NLM_F_REQUEST, { index: 0 }, [nlaU32(IFLA_GROUP, cmd.group)]);
    case 'add-bridge': {
      const data = [nlaU32(IFLA_BR_FORWARD_DELAY, cmd.forwardDelay), nlaU32(IFLA_BR_STP_STATE, cmd.stpState)];
      if (cmd.ageingTime !== undefined) data.push(nlaU32(IFLA_BR_AGEING_TIME, cmd.ageingTime));
      return netlink(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL, { index: 0 }, [
        nlaU32(IFLA_GROUP, cmd.group), ...mtuAttr(cmd.mtu), ifname(cmd.name), linkInfo('bridge', data),
      ]);
    }
    case 'add-veth': {
      const peer = [nlaU32(IFLA_GROUP, cmd.peer.group), ...mtuAttr(cmd.peer.mtu), ifname(cmd.peer.name)];
      const peerInfo: Nla = { type: VETH_INFO_PEER, data: Buffer.concat([encodeIfInfoMsg({ index: 0 }), encodeNlas(peer)]) };
      return netlink(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL, { index: 0 }, [
        nlaU32(IFLA_GROUP, cmd.group), ...mtuAttr(cmd.mtu), ifname(cmd.name), linkInfo('veth', [peerInfo]),
      ]);
    }
    case 'add-macvtap': {
      const lower = resolve(cmd.lower);
      if (lower === undefined) return { kind: 'unresolved', name: cmd.lower, role: 'lower' };
      return netlink(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL, { index: 0 }, [
        { type: IFLA_ADDRESS, data: macBytes(cmd.mac) }, nlaU32(IFLA_GROUP, cmd.group), ...mtuAttr(cmd.mtu),
        nlaU32(IFLA_LINK, lower), ifname(cmd.name), linkInfo('macvtap', [nlaU32(IFLA_MACVLAN_MODE, MACVTAP_MODES[cmd.mode])]),
      ]);
    }
    case 'set':
      return encodeSet(cmd.name, cmd.settings, resolve);
  }
}

/** RTM_GETLINK of one device by name (answered by its RTM_NEWLINK, or ENODEV). */
export function getLinkRequest(name: string): Buffer {
  return encodeMessage(RTM_GETLINK, NLM_F_REQUEST, 0, encodeIfInfoMsg({ index: 0 }), [ifname(name)]);
}

function encodeSet(name: string, s: LinkSettings, resolve: IfIndexResolver): LinkRequest {
  const attrs: Nla[] = [];
  if (s.group !== undefined) attrs.push(nlaU32(IFLA_GROUP, s.group));
  // No NUL: ip sends the alias's bytes only (a NUL would count towards IFALIASZ).
  if (s.alias !== undefined) attrs.push({ type: IFLA_IFALIAS, data: Buffer.from(s.alias, 'utf8') });
  if (s.mac !== undefined) attrs.push({ type: IFLA_ADDRESS, data: macBytes(s.mac) });
  attrs.push(...mtuAttr(s.mtu));
  if (s.master === null) attrs.push(nlaU32(IFLA_MASTER, 0));
  else if (s.master !== undefined) {
    const master = resolve(s.master);
    if (master === undefined) return { kind: 'unresolved', name: s.master, role: 'master' };
    attrs.push(nlaU32(IFLA_MASTER, master));
  }
  if (s.addrGenModeNone) attrs.push(nlaNested(IFLA_AF_SPEC, [nlaNested(AF_INET6, [nlaU8(IFLA_INET6_ADDR_GEN_MODE, IN6_ADDR_GEN_MODE_NONE)])]));
  attrs.push(ifname(name));
  if (s.macvtapMode !== undefined) attrs.push(linkInfo('macvtap', [nlaU32(IFLA_MACVLAN_MODE, MACVTAP_MODES[s.macvtapMode])]));
  const ifi = s.up === undefined ? { index: 0 } : { index: 0, flags: s.up ? IFF_UP : 0, change: IFF_UP };
  return netlink(RTM_NEWLINK, NLM_F_REQUEST, ifi, attrs);
}

function netlink(type: number, flags: number, ifi: Parameters<typeof encodeIfInfoMsg>[0], attrs: Nla[]): LinkRequest {
  return { kind: 'netlink', message: encodeMessage(type, flags, 0, encodeIfInfoMsg(ifi), attrs) };
}

function ifname(name: string): Nla {
  return nlaString(IFLA_IFNAME, name);
}

function mtuAttr(mtu: number | undefined): Nla[] {
  return mtu === undefined ? [] : [nlaU32(IFLA_MTU, mtu)];
}

/** IFLA_LINKINFO { IFLA_INFO_KIND (no NUL, as ip sends it), IFLA_INFO_DATA { ... } }. */
function linkInfo(kind: string, data: Nla[]): Nla {
  return nlaNested(IFLA_LINKINFO, [{ type: IFLA_INFO_KIND, data: Buffer.from(kind, 'utf8') }, nlaNested(IFLA_INFO_DATA, data)]);
}

function macBytes(mac: string): Buffer {
  return Buffer.from(mac.split(':').map((h) => parseInt(h, 16)));
}

