// The lines vifd's actuator renders for `ip -batch` (host/links/ip-batch.ts,
// renderIpBatch), parsed back into commands: the whole vocabulary, and
// nothing else. A line outside it (another keyword, quoting, a hex number, a
// name ip would reject) is refused with a stable code, never guessed at.
// Pure.
import { VifdError } from '../../errors/vifd-error.js';
import type { LinkSettings as ActionLinkSettings } from '../../model/actions.js';

/** Macvtap modes as ip spells them. */
export const MACVTAP_MODE_NAMES = ['private', 'vepa', 'bridge', 'passthru', 'source'] as const;
export type MacvtapMode = (typeof MACVTAP_MODE_NAMES)[number];

/** A `link set` line's settings: the planner's (model/actions.ts) with the
 * mode checked against ip's words, plus what only the bridge set-up line says. */
export interface LinkSettings extends Omit<ActionLinkSettings, 'macvtapMode'> {
  addrGenModeNone?: boolean;
  macvtapMode?: MacvtapMode;
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
  | { op: 'add-macvtap'; lower: string; name: string; mac: string; group: number; mtu?: number; mode: MacvtapMode }
  | { op: 'add-tap'; name: string; options: TapOptions };

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
  macvtapMode(): MacvtapMode {
    const w = this.next('mode');
    if (!(MACVTAP_MODE_NAMES as readonly string[]).includes(w)) this.fail(w, 'not a macvtap mode');
    return w as MacvtapMode;
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
