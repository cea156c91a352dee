// The lines vifd's actuator renders for `ip -batch` (actuators/ip-batch.ts)
// → the rtnetlink request iproute2 6.1 sends for each (ip/iplink.c,
// link_veth.c, iplink_bridge.c, iplink_macvlan.c), or the tap ip creates by
// ioctl (ip/iptuntap.c). Pure: the names that must become ifindexes (a
// master, a macvtap's lower device) are resolved by a function given at send
// time. A line outside that vocabulary is refused, never guessed at.
//
// One deliberate difference from ip: `link set dev X` goes out with ifindex 0
// and IFLA_IFNAME, so the kernel looks X up when it runs the request (ip looks
// it up first and sends the index). A pipelined request can then name a
// device an earlier request of the same batch creates. A name that is not a
// device then gets ENODEV, even with IFLA_GROUP in the request: older kernels
// instead applied such a request to every device of that group
// (rtnl_group_changelink), which test/integration/netlink-runner.test.ts
// checks does not happen on the kernel it runs on.
import { VifdError } from '../../errors/vifd-error.js';
import {
  encodeIfInfoMsg, encodeMessage, encodeNlas, type Nla, nlaNested, nlaString, nlaU32, nlaU8,
  NLM_F_CREATE, NLM_F_EXCL, NLM_F_REQUEST, RTM_DELLINK, RTM_GETLINK, RTM_NEWLINK,
} from './wire.js';

// linux/if_link.h, linux/veth.h, linux/if.h, linux/socket.h
const IFLA_ADDRESS = 1;
const IFLA_IFNAME = 3;
const IFLA_MTU = 4;
const IFLA_LINK = 5;
const IFLA_MASTER = 10;
const IFLA_LINKINFO = 18;
const IFLA_IFALIAS = 20;
const IFLA_AF_SPEC = 26;
const IFLA_GROUP = 27;
const IFLA_INFO_KIND = 1;
const IFLA_INFO_DATA = 2;
const IFLA_INET6_ADDR_GEN_MODE = 8;
const IN6_ADDR_GEN_MODE_NONE = 1;
const IFLA_BR_FORWARD_DELAY = 1;
const IFLA_BR_AGEING_TIME = 4;
const IFLA_BR_STP_STATE = 5;
const VETH_INFO_PEER = 1;
const IFLA_MACVLAN_MODE = 1;
const AF_INET6 = 10;
const IFF_UP = 1;

/** Macvtap modes as ip spells them, with their MACVLAN_MODE_* values. */
const MACVTAP_MODES: Readonly<Record<string, number>> = { private: 1, vepa: 2, bridge: 4, passthru: 8, source: 16 };

export interface LinkSettings {
  group?: number;
  alias?: string;
  mac?: string;
  mtu?: number;
  /** A bridge's name, or null for nomaster. */
  master?: string | null;
  up?: boolean;
  addrGenModeNone?: boolean;
  macvtapMode?: string;
}

export interface TapOptions {
  multiQueue?: boolean;
  user?: number;
  group?: number;
}

/** One parsed line. Bridge times are the kernel's clock_t (centiseconds), passed as written, as ip does. */
export type LinkCommand =
  | { op: 'set'; name: string; settings: LinkSettings }
  | { op: 'delete-group'; group: number }
  | { op: 'add-bridge'; name: string; group: number; mtu?: number; forwardDelay: number; stpState: number; ageingTime?: number }
  | { op: 'add-veth'; name: string; group: number; mtu?: number; peer: { name: string; group: number; mtu?: number } }
  | { op: 'add-macvtap'; lower: string; name: string; mac: string; group: number; mtu?: number; mode: string }
  | { op: 'add-tap'; name: string; options: TapOptions };

/** What a line becomes at send time. */
export type LinkRequest =
  | { kind: 'netlink'; message: Buffer }
  | { kind: 'tap'; name: string; options: TapOptions }
  /** A name that had to become an ifindex is not a device (ip fails the line before sending). */
  | { kind: 'unresolved'; name: string; role: 'master' | 'lower' };

export type IfIndexResolver = (name: string) => number | undefined;

/** A line outside the vocabulary (fields: line, word). */
export class LinkLineError extends VifdError<'NETLINK_LINE_UNSUPPORTED'> {
  /** The word ip's own error would name. */
  readonly word: string;

  constructor(line: string, word: string, why: string) {
    super('NETLINK_LINE_UNSUPPORTED', `ip ${line}: "${word}": ${why}`, { fields: { line, word } });
    this.word = word;
  }
}

/** Words of a line; quoting, escapes and comments (which ip -batch would interpret) are refused. */
class Words {
  private i = 0;
  constructor(readonly line: string, private readonly words: string[]) {}

  static of(line: string): Words {
    const words = line.trim().split(/\s+/u).filter((w) => w !== '');
    const odd = words.find((w) => /["'\\#]/u.test(w));
    if (odd !== undefined) throw new LinkLineError(line, odd, 'quotes, escapes and comments are not supported');
    return new Words(line, words);
  }

  get done(): boolean {
    return this.i >= this.words.length;
  }
  peek(): string | undefined {
    return this.words[this.i];
  }
  next(what: string): string {
    const w = this.words[this.i++];
    if (w === undefined) throw new LinkLineError(this.line, what, 'missing at the end of the line');
    return w;
  }
  expect(...words: string[]): void {
    for (const w of words) {
      const got = this.next(w);
      if (got !== w) this.fail(got, `expected "${w}"`);
    }
  }
  name(what: string): string {
    const w = this.next(what);
    // What the kernel's dev_valid_name accepts (and ip's check_ifname).
    if (Buffer.byteLength(w) > 15 || w === '.' || w === '..' || w.includes('/') || w.includes(':')) this.fail(w, `not a valid ${what} name`);
    return w;
  }
  /** A decimal u32, the only spelling vifd renders (ip would also take hex and /etc/iproute2 group names). */
  u32(what: string): number {
    const w = this.next(what);
    const n = /^\d{1,10}$/u.test(w) ? Number(w) : NaN;
    if (!(n <= 0xffffffff)) this.fail(w, `not a decimal ${what}`);
    return n;
  }
  mac(): string {
    const w = this.next('address');
    if (!/^[0-9a-f]{1,2}(?::[0-9a-f]{1,2}){5}$/iu.test(w)) this.fail(w, 'not a MAC address');
    return w;
  }
  macvtapMode(): string {
    const w = this.next('mode');
    if (!(w in MACVTAP_MODES)) this.fail(w, 'not a macvtap mode');
    return w;
  }
  end(): void {
    if (!this.done) this.fail(this.peek()!, 'unexpected');
  }
  fail(word: string, why: string): never {
    throw new LinkLineError(this.line, word, why);
  }
}

/** Parses one line of the vocabulary; throws LinkLineError for anything else. */
export function parseLinkLine(line: string): LinkCommand {
  const w = Words.of(line);
  const first = w.next('command');
  if (first === 'tuntap') return parseTuntap(w);
  if (first !== 'link') w.fail(first, 'not a command vifd sends');
  const verb = w.next('link command');
  if (verb === 'set') {
    w.expect('dev');
    const name = w.name('device');
    return { op: 'set', name, settings: parseSettings(w) };
  }
  if (verb === 'del') {
    w.expect('group');
    const group = w.u32('group');
    w.end();
    return { op: 'delete-group', group };
  }
  if (verb !== 'add') w.fail(verb, 'not a link command vifd sends');
  if (w.peek() === 'link') return parseMacvtap(w);
  w.expect('name');
  const name = w.name('device');
  w.expect('group');
  const group = w.u32('group');
  const mtu = optionalMtu(w);
  w.expect('type');
  const type = w.next('type');
  if (type === 'bridge') return parseBridge(w, name, group, mtu);
  if (type === 'veth') {
    w.expect('peer', 'name');
    const peerName = w.name('peer');
    w.expect('group');
    const peerGroup = w.u32('group');
    const peerMtu = optionalMtu(w);
    w.end();
    return { op: 'add-veth', name, group, ...(mtu === undefined ? {} : { mtu }), peer: { name: peerName, group: peerGroup, ...(peerMtu === undefined ? {} : { mtu: peerMtu }) } };
  }
  return w.fail(type, 'not a link type vifd creates this way');
}

function optionalMtu(w: Words): number | undefined {
  if (w.peek() !== 'mtu') return undefined;
  w.next('mtu');
  return w.u32('mtu');
}

function parseBridge(w: Words, name: string, group: number, mtu: number | undefined): LinkCommand {
  w.expect('forward_delay');
  const forwardDelay = w.u32('forward_delay');
  w.expect('stp_state');
  const stpState = w.u32('stp_state');
  let ageingTime: number | undefined;
  if (!w.done) {
    w.expect('ageing_time');
    ageingTime = w.u32('ageing_time');
  }
  w.end();
  return { op: 'add-bridge', name, group, ...(mtu === undefined ? {} : { mtu }), forwardDelay, stpState, ...(ageingTime === undefined ? {} : { ageingTime }) };
}

function parseMacvtap(w: Words): LinkCommand {
  w.expect('link');
  const lower = w.name('lower device');
  w.expect('name');
  const name = w.name('device');
  w.expect('address');
  const mac = w.mac();
  w.expect('group');
  const group = w.u32('group');
  const mtu = optionalMtu(w);
  w.expect('type', 'macvtap', 'mode');
  const mode = w.macvtapMode();
  w.end();
  return { op: 'add-macvtap', lower, name, mac, group, ...(mtu === undefined ? {} : { mtu }), mode };
}

function parseTuntap(w: Words): LinkCommand {
  w.expect('add', 'dev');
  const name = w.name('device');
  w.expect('mode', 'tap');
  const options: TapOptions = {};
  if (w.peek() === 'multi_queue') {
    w.next('multi_queue');
    options.multiQueue = true;
  }
  if (w.peek() === 'user') {
    w.next('user');
    options.user = w.u32('user');
  }
  if (w.peek() === 'group') {
    w.next('group');
    options.group = w.u32('group');
  }
  w.end();
  return { op: 'add-tap', name, options };
}

/** `link set dev X` settings, each at most once (ip refuses a second group; vifd never repeats one). */
function parseSettings(w: Words): LinkSettings {
  const s: LinkSettings = {};
  const once = <K extends keyof LinkSettings>(key: K, word: string, value: () => LinkSettings[K]) => {
    if (key in s) w.fail(word, 'given twice');
    s[key] = value();
  };
  while (!w.done) {
    const word = w.next('setting');
    switch (word) {
      case 'group': once('group', word, () => w.u32('group')); break;
      case 'alias': once('alias', word, () => w.next('alias')); break;
      case 'address': once('mac', word, () => w.mac()); break;
      case 'mtu': once('mtu', word, () => w.u32('mtu')); break;
      case 'nomaster': once('master', word, () => null); break;
      case 'master': once('master', word, () => w.name('master')); break;
      case 'up': once('up', word, () => true); break;
      case 'down': once('up', word, () => false); break;
      case 'addrgenmode': once('addrGenModeNone', word, () => (w.expect('none'), true)); break;
      case 'type':
        w.expect('macvtap', 'mode');
        once('macvtapMode', word, () => w.macvtapMode());
        w.end();
        break;
      default: w.fail(word, 'not a setting vifd sends');
    }
  }
  // ip rejects an alias of IFALIASZ (256) bytes or more before sending.
  if (s.alias !== undefined && Buffer.byteLength(s.alias) >= 256) w.fail(s.alias, 'alias too long');
  return s;
}

/** Names a line needs as ifindexes (resolved at send time). */
export function linkReferences(cmd: LinkCommand): string[] {
  if (cmd.op === 'add-macvtap') return [cmd.lower];
  if (cmd.op === 'set' && typeof cmd.settings.master === 'string') return [cmd.settings.master];
  return [];
}

/** Devices a line creates. */
export function linkCreations(cmd: LinkCommand): string[] {
  switch (cmd.op) {
    case 'add-bridge':
    case 'add-macvtap':
    case 'add-tap':
      return [cmd.name];
    case 'add-veth':
      return [cmd.name, cmd.peer.name];
    default:
      return [];
  }
}

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
        nlaU32(IFLA_LINK, lower), ifname(cmd.name), linkInfo('macvtap', [nlaU32(IFLA_MACVLAN_MODE, MACVTAP_MODES[cmd.mode]!)]),
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
  if (s.macvtapMode !== undefined) attrs.push(linkInfo('macvtap', [nlaU32(IFLA_MACVLAN_MODE, MACVTAP_MODES[s.macvtapMode]!)]));
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

