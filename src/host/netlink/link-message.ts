// RTM_NEWLINK / RTM_DELLINK messages -> what `ip -j -d link show` would say
// about the same device (src/observed/parse-ip-link.ts), field for field, so
// the link model and the `ip` fallback hand the planner identical links. Pure.
//
// A message names its master and lower/peer device by ifindex; names are
// resolved later (resolveLink), against the whole table: in a dump a slave
// may come before its master.
import { IFF_UP, IFLA_ADDRESS, IFLA_GROUP, IFLA_IFALIAS, IFLA_IFNAME, IFLA_INFO_DATA, IFLA_INFO_KIND, IFLA_LINK, IFLA_LINKINFO, IFLA_MACVLAN_MODE, IFLA_MASTER, IFLA_MTU } from './if-link.js';
import type { LinkKind, ObservedLink } from '../../observed/links.js';
import { AF_UNSPEC, parseIfInfo, parseNlas, pickNlas, readU32, RTM_DELLINK, RTM_NEWLINK, type NlMsg } from './wire.js';

const IFLA_LINK_NETNSID = 37;
const IFLA_TUN_TYPE = 3;
const IFLA_TUN_PERSIST = 6;
const IFLA_TUN_MULTI_QUEUE = 7;
const IFLA_TUN_NUM_QUEUES = 8;
const IFF_LOWER_UP = 0x10000;
const IFF_TAP = 0x2;
const MACVLAN_MODES: ReadonlyMap<number, string> = new Map([[1, 'private'], [2, 'vepa'], [4, 'bridge'], [8, 'passthru'], [16, 'source']]);
// ARPHRD types whose 4- or 16-byte address ip prints as an IP address (lib/ll_addr.c).
const IPV4_ADDRESS_TYPES = new Set([768, 776, 778]);
const IPV6_ADDRESS_TYPES = new Set([769, 823]);
/** The attributes read (the others are skipped unparsed). */
const LINK_ATTRS: ReadonlySet<number> = new Set([IFLA_IFNAME, IFLA_LINKINFO, IFLA_MTU, IFLA_ADDRESS, IFLA_MASTER, IFLA_GROUP, IFLA_IFALIAS, IFLA_LINK, IFLA_LINK_NETNSID]);
const DELLINK_ATTRS: ReadonlySet<number> = new Set([IFLA_IFNAME]);
const INFO_ATTRS: ReadonlySet<number> = new Set([IFLA_INFO_KIND, IFLA_INFO_DATA]);
const EMPTY = Buffer.alloc(0);

/** One device as a message describes it; master and link still as ifindexes. */
export interface LinkRecord extends Omit<ObservedLink, 'master' | 'link'> {
  masterIndex: number | undefined;
  /** IFLA_LINK in this namespace (0: none). undefined when absent, or when
   * the peer lives in another namespace (IFLA_LINK_NETNSID): ip then prints
   * only `link_index`, which parse-ip-link does not read. */
  linkIndex: number | undefined;
}

export type LinkMessage = { op: 'new'; record: LinkRecord } | { op: 'del'; ifindex: number; name: string | undefined };

/** undefined for messages that are not about whole links: acks, and the
 * AF_BRIDGE messages a bridge sends about its ports on the same group (partial
 * attributes; its RTM_DELLINK means "left the bridge", not "deleted"). */
export function parseLinkMessage(msg: NlMsg): LinkMessage | undefined {
  if (msg.type !== RTM_NEWLINK && msg.type !== RTM_DELLINK) return undefined;
  const { ifi, attrs: raw } = parseIfInfo(msg.payload);
  if (ifi.family !== AF_UNSPEC) return undefined;
  const attrs = pickNlas(raw, msg.type === RTM_DELLINK ? DELLINK_ATTRS : LINK_ATTRS);
  const name = string(attrs.get(IFLA_IFNAME));
  if (msg.type === RTM_DELLINK) return { op: 'del', ifindex: ifi.index, name };
  if (name === undefined) throw new RangeError(`RTM_NEWLINK of ifindex ${ifi.index} without IFLA_IFNAME`);
  const info = pickNlas(attrs.get(IFLA_LINKINFO) ?? EMPTY, INFO_ATTRS);
  const rawKind = string(info.get(IFLA_INFO_KIND));
  const data = parseNlas(info.get(IFLA_INFO_DATA) ?? EMPTY);
  const kind = kindOf(rawKind, data);
  const tun = kind === 'tap' || kind === 'tun';
  const multiQueue = tun ? u8(data.get(IFLA_TUN_MULTI_QUEUE)) === 1 : undefined;
  const queues = multiQueue ? u32(data.get(IFLA_TUN_NUM_QUEUES)) : undefined; // ip prints numqueues only for multi_queue
  const mode = kind === 'macvtap' || kind === 'macvlan' ? u32(data.get(IFLA_MACVLAN_MODE)) : undefined;
  const link = u32(attrs.get(IFLA_LINK));
  return {
    op: 'new',
    record: {
      ifindex: ifi.index,
      name,
      kind,
      rawKind,
      mtu: u32(attrs.get(IFLA_MTU)) ?? 0,
      mac: address(attrs.get(IFLA_ADDRESS), ifi.type),
      up: (ifi.flags & IFF_UP) !== 0,
      masterIndex: u32(attrs.get(IFLA_MASTER)),
      group: u32(attrs.get(IFLA_GROUP)) ?? 0,
      alias: string(attrs.get(IFLA_IFALIAS)),
      linkIndex: attrs.has(IFLA_LINK_NETNSID) ? undefined : link,
      macvtapMode: mode === undefined ? undefined : (MACVLAN_MODES.get(mode) ?? 'unknown'),
      persistent: tun ? u8(data.get(IFLA_TUN_PERSIST)) === 1 : undefined,
      carrier: (ifi.flags & IFF_LOWER_UP) !== 0,
      ...(tun ? { multiQueue: multiQueue!, ...(queues !== undefined ? { tunQueues: queues } : {}) } : {}),
    },
  };
}

/** The record with master and link named as ip names them (lib/ll_map.c):
 * an unknown ifindex is "ifN", master 0 "*", link 0 none. */
export function resolveLink(record: LinkRecord, nameOf: (ifindex: number) => string | undefined): ObservedLink {
  const { masterIndex, linkIndex } = record;
  const named = (index: number) => nameOf(index) ?? `if${index}`;
  // Field by field (not a rest/spread copy): this runs for every message.
  const link: ObservedLink = {
    ifindex: record.ifindex,
    name: record.name,
    kind: record.kind,
    rawKind: record.rawKind,
    mtu: record.mtu,
    mac: record.mac,
    up: record.up,
    master: masterIndex === undefined ? undefined : masterIndex === 0 ? '*' : named(masterIndex),
    group: record.group,
    alias: record.alias,
    link: linkIndex === undefined || linkIndex === 0 ? undefined : named(linkIndex),
    macvtapMode: record.macvtapMode,
    persistent: record.persistent,
  };
  if (record.carrier !== undefined) link.carrier = record.carrier;
  if (record.tunQueues !== undefined) link.tunQueues = record.tunQueues;
  if (record.multiQueue !== undefined) link.multiQueue = record.multiQueue;
  return link;
}

/** The ifindexes a record names (its master, its lower device or peer). */
export function referencesOf(record: LinkRecord): number[] {
  const out: number[] = [];
  if (record.masterIndex) out.push(record.masterIndex);
  if (record.linkIndex) out.push(record.linkIndex);
  return out;
}

function kindOf(rawKind: string | undefined, data: Map<number, Buffer>): LinkKind {
  switch (rawKind) {
    case 'bridge':
    case 'veth':
    case 'macvtap':
    case 'macvlan':
      return rawKind;
    case 'tun':
      return u8(data.get(IFLA_TUN_TYPE)) === IFF_TAP ? 'tap' : 'tun';
    default:
      return 'other';
  }
}

function string(b: Buffer | undefined): string | undefined {
  if (!b) return undefined;
  const end = b.indexOf(0);
  const text = b.subarray(0, end < 0 ? b.length : end).toString('utf8');
  return text === '' ? undefined : text;
}

function u8(b: Buffer | undefined): number | undefined {
  return b && b.length >= 1 ? b.readUInt8(0) : undefined;
}

function u32(b: Buffer | undefined): number | undefined {
  return b && b.length >= 4 ? readU32(b, 0) : undefined;
}

function address(b: Buffer | undefined, arphrd: number): string | undefined {
  if (!b || b.length === 0) return undefined;
  if (b.length === 4 && IPV4_ADDRESS_TYPES.has(arphrd)) return [...b].join('.');
  if (b.length === 16 && IPV6_ADDRESS_TYPES.has(arphrd)) return ipv6(b);
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/** inet_ntop(AF_INET6): the longest run of two or more zero groups becomes "::". */
function ipv6(b: Buffer): string {
  const groups = Array.from({ length: 8 }, (_, i) => b.readUInt16BE(i * 2));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}
