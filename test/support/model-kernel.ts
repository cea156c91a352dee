// A model of the kernel's links that runs exactly the `ip -batch` lines vifd
// emits (src/actuators/ip-batch.ts), with the kernel's rules as measured on
// Linux 6.x (see the comments): adding an existing name fails, deleting a
// bridge frees its ports, deleting one veth end deletes both, deleting a
// lower device deletes its macvtaps, a master must be a bridge (and a bridge
// cannot be one's port), macvtap passthru mode cannot be changed to or from,
// a passthru macvtap must be its lower device's only one, `link del group N`
// with nothing in N fails with "No such device". An unknown line fails (so a
// line the model does not know is a test failure, never silently accepted).
// Not modelled: MTU limits and a bridge's MTU following its ports.
import { LinkActionError } from '../../src/errors/host-errors.js';
import type { LinkKind, LinkSnapshot, ObservedLink } from '../../src/observed/links.js';

export type ModelKind = 'bridge' | 'tap' | 'veth' | 'macvtap' | 'dummy';

export interface ModelLink {
  ifindex: number;
  name: string;
  kind: ModelKind;
  mtu: number;
  mac: string;
  up: boolean;
  master: string | undefined;
  group: number;
  alias: string | undefined;
  /** veth: its peer; macvtap: its lower device. */
  link: string | undefined;
  mode: string | undefined;
  /** A tap: how many file descriptors a hypervisor has attached. The kernel
   * reports it for multi_queue taps only (undefined: not reported). */
  tunQueues?: number;
  /** The lower layer is up (a tap: a hypervisor has it open); reported only while the device is up, as IFF_LOWER_UP. */
  carrier?: boolean;
}

class LineError extends Error {}

/** A MAC the model gives a new device: deterministic per name and creation count. */
function macFor(name: string, n: number): string {
  let h = n * 2654435761;
  for (const c of name) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  const b = [0x02, (h >>> 24) & 255, (h >>> 16) & 255, (h >>> 8) & 255, h & 255, n & 255];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}

export class ModelKernel {
  readonly links = new Map<string, ModelLink>();
  private nextIndex = 2;
  /** Every line run, and each failure ip would have printed. */
  readonly linesRun: string[] = [];
  readonly errors: LinkActionError[] = [];
  /** How many `ip -batch` processes vifd would have started. */
  batches = 0;
  /** Runs just before each batch (a foreign agent racing vifd). */
  beforeBatch: ((kernel: ModelKernel, lines: readonly string[]) => void) | undefined;
  /** Runs after each batch (a fault that undoes vifd's work at once). */
  afterBatch: ((kernel: ModelKernel) => void) | undefined;
  /** A fault: the message a line fails with, or undefined to run it. */
  failLine: ((line: string) => string | undefined) | undefined;

  clone(): ModelKernel {
    const copy = new ModelKernel();
    for (const [name, link] of this.links) copy.links.set(name, { ...link });
    copy.nextIndex = this.nextIndex;
    return copy;
  }

  /** Adds a device as another agent would (no rules beyond the name). */
  add(fields: Partial<ModelLink> & { name: string; kind: ModelKind }): ModelLink {
    if (this.links.has(fields.name)) throw new Error(`model: ${fields.name} exists`);
    const n = this.nextIndex++;
    const link: ModelLink = { ifindex: n, mtu: 1500, mac: macFor(fields.name, n), up: false, master: undefined, group: 0, alias: undefined, link: undefined, mode: undefined, ...fields };
    this.links.set(link.name, link);
    return link;
  }

  snapshot(): LinkSnapshot {
    const links = new Map<string, ObservedLink>();
    for (const l of this.links.values()) links.set(l.name, observed(l));
    return { links };
  }

  batch(lines: readonly string[]): Promise<LinkActionError[]> {
    this.beforeBatch?.(this, lines);
    this.batches++;
    const errors: LinkActionError[] = [];
    lines.forEach((line, i) => {
      this.linesRun.push(line);
      try {
        const injected = this.failLine?.(line);
        if (injected !== undefined) throw new LineError(injected);
        this.run(line.split(' '));
      } catch (error) {
        if (!(error instanceof LineError)) throw error;
        const e = new LinkActionError({ line, lineNumber: i + 1, message: error.message });
        errors.push(e);
        this.errors.push(e);
      }
    });
    this.afterBatch?.(this);
    return Promise.resolve(errors);
  }

  /** Deletes a device with the kernel's cascades. */
  remove(name: string): void {
    const link = this.links.get(name);
    if (!link) return;
    this.links.delete(name);
    for (const other of [...this.links.values()]) {
      if (other.master === name) other.master = undefined; // a deleted bridge frees its ports
      if (other.kind === 'macvtap' && other.link === name) this.remove(other.name); // macvtaps die with their lower device
    }
    if (link.kind === 'veth' && link.link) this.remove(link.link); // one end takes the other
  }

  private need(name: string | undefined): ModelLink {
    const link = name === undefined ? undefined : this.links.get(name);
    if (!link) throw new LineError(`Cannot find device "${name}"`);
    return link;
  }

  private fresh(name: string | undefined): string {
    if (!name) throw new LineError('Not enough information: "dev" argument is required.');
    if (this.links.has(name)) throw new LineError('RTNETLINK answers: File exists');
    return name;
  }

  private run(w: string[]): void {
    const [obj, verb] = w;
    if (obj === 'tuntap' && verb === 'add' && w[2] === 'dev' && w[4] === 'mode' && w[5] === 'tap' && w.length === 6) {
      // TUNSETIFF on an existing name fails (an existing tap is busy, any other kind is not a tun).
      if (this.links.has(w[3]!)) throw new LineError('ioctl(TUNSETIFF): Device or resource busy');
      this.add({ name: w[3]!, kind: 'tap' });
      return;
    }
    if (obj !== 'link') throw new LineError(`model: unknown line ${w.join(' ')}`);
    if (verb === 'set' && w[2] === 'dev') return this.set(this.need(w[3]), w.slice(4));
    if (verb === 'del' && w[2] === 'group' && w.length === 4) {
      const group = Number(w[3]);
      const doomed = [...this.links.values()].filter((l) => l.group === group).map((l) => l.name);
      if (doomed.length === 0) throw new LineError('RTNETLINK answers: No such device');
      for (const name of doomed) this.remove(name);
      return;
    }
    if (verb === 'del' && w[2] === 'dev' && w.length === 4) return this.remove(this.need(w[3]).name);
    if (verb === 'add') return this.addLine(w.slice(2));
    throw new LineError(`model: unknown line ${w.join(' ')}`);
  }

  /** `link add [link L] name N [address M] [group G] [mtu M] type T ...`. */
  private addLine(w: string[]): void {
    const typeAt = w.indexOf('type');
    if (typeAt < 0) throw new LineError('model: link add without type');
    const opts = pairs(w.slice(0, typeAt));
    const type = w[typeAt + 1];
    const rest = w.slice(typeAt + 2);
    const common = (o: Map<string, string>) => ({
      ...(o.has('group') ? { group: Number(o.get('group')) } : {}),
      ...(o.has('mtu') ? { mtu: Number(o.get('mtu')) } : {}),
      ...(o.has('address') ? { mac: o.get('address')! } : {}),
    });
    if (type === 'bridge') {
      const name = this.fresh(opts.get('name'));
      const bridgeOpts = pairs(rest);
      for (const k of bridgeOpts.keys()) if (!['forward_delay', 'stp_state', 'ageing_time'].includes(k)) throw new LineError(`model: bridge option ${k}`);
      this.add({ name, kind: 'bridge', ...common(opts) });
      return;
    }
    if (type === 'veth') {
      if (rest[0] !== 'peer') throw new LineError('model: veth without peer');
      const peerOpts = pairs(rest.slice(1));
      const name = this.fresh(opts.get('name'));
      const peer = this.fresh(peerOpts.get('name'));
      if (name === peer) throw new LineError('RTNETLINK answers: File exists');
      this.add({ name, kind: 'veth', link: peer, ...common(opts) });
      this.add({ name: peer, kind: 'veth', link: name, ...common(peerOpts) });
      return;
    }
    if (type === 'macvtap') {
      if (rest[0] !== 'mode' || rest.length !== 2) throw new LineError('model: macvtap options');
      const mode = rest[1]!;
      const lower = this.need(opts.get('link'));
      const name = this.fresh(opts.get('name'));
      const siblings = [...this.links.values()].filter((l) => l.kind === 'macvtap' && l.link === lower.name);
      // A passthru macvtap takes the whole lower device.
      if ((mode === 'passthru' && siblings.length > 0) || siblings.some((s) => s.mode === 'passthru')) throw new LineError('RTNETLINK answers: Device or resource busy');
      this.add({ name, kind: 'macvtap', link: lower.name, mode, ...common(opts), ...(mode === 'passthru' ? { mac: lower.mac } : {}) });
      return;
    }
    throw new LineError(`model: link type ${type}`);
  }

  /** `link set dev X ...`: applied in the kernel's order (changelink, address,
   * mtu, group, ifalias, master, flags), earlier changes kept when a later
   * one fails, as do_setlink does. ip resolves a master's name first. */
  private set(link: ModelLink, w: string[]): void {
    const s: { group?: number; alias?: string; mac?: string; mtu?: number; master?: string | null; up?: boolean; mode?: string } = {};
    for (let i = 0; i < w.length; i++) {
      const word = w[i];
      const arg = w[i + 1];
      switch (word) {
        case 'group': s.group = Number(arg); i++; break;
        case 'alias': s.alias = arg!; i++; break;
        case 'address': s.mac = arg!; i++; break;
        case 'mtu': s.mtu = Number(arg); i++; break;
        case 'master': s.master = arg!; i++; break;
        case 'nomaster': s.master = null; break;
        case 'up': s.up = true; break;
        case 'down': s.up = false; break;
        case 'addrgenmode': if (arg !== 'none') throw new LineError('model: addrgenmode'); i++; break;
        case 'type':
          if (arg !== 'macvtap' || w[i + 2] !== 'mode' || w[i + 3] === undefined) throw new LineError('model: set type');
          s.mode = w[i + 3]!;
          i += 3;
          break;
        default:
          throw new LineError(`model: unknown set word ${word}`);
      }
    }
    const master = typeof s.master === 'string' ? this.links.get(s.master) : undefined;
    if (typeof s.master === 'string' && !master) throw new LineError(`Device "${s.master}" does not exist.`);
    if (s.mode !== undefined) {
      if (link.kind !== 'macvtap') throw new LineError('RTNETLINK answers: Operation not supported');
      if ((s.mode === 'passthru') !== (link.mode === 'passthru')) throw new LineError('RTNETLINK answers: Device or resource busy');
      link.mode = s.mode;
    }
    if (s.mac !== undefined) link.mac = s.mac;
    if (s.mtu !== undefined) link.mtu = s.mtu;
    if (s.group !== undefined) link.group = s.group;
    if (s.alias !== undefined) link.alias = s.alias === '' ? undefined : s.alias;
    if (s.master === null) link.master = undefined;
    else if (master) {
      if (master.kind !== 'bridge') throw new LineError('RTNETLINK answers: Operation not supported');
      if (link.kind === 'bridge') throw new LineError('Error: Can not enslave a bridge to a bridge.');
      if (master.name === link.name) throw new LineError('RTNETLINK answers: Too many levels of symbolic links');
      link.master = master.name;
    }
    if (s.up !== undefined) link.up = s.up;
  }
}

function pairs(words: string[]): Map<string, string> {
  if (words.length % 2 !== 0) throw new LineError(`model: odd options ${words.join(' ')}`);
  const out = new Map<string, string>();
  for (let i = 0; i < words.length; i += 2) out.set(words[i]!, words[i + 1]!);
  return out;
}

function observed(l: ModelLink): ObservedLink {
  const kind: LinkKind = l.kind === 'dummy' ? 'other' : l.kind;
  return {
    ifindex: l.ifindex,
    name: l.name,
    kind,
    rawKind: l.kind === 'tap' ? 'tun' : l.kind,
    mtu: l.mtu,
    mac: l.mac,
    up: l.up,
    master: l.master,
    group: l.group,
    alias: l.alias,
    link: l.link,
    macvtapMode: l.kind === 'macvtap' ? l.mode : undefined,
    persistent: l.kind === 'tap' ? true : undefined,
    ...(l.kind === 'tap' && l.tunQueues !== undefined ? { tunQueues: l.tunQueues } : {}),
    ...(l.carrier !== undefined ? { carrier: l.up && l.carrier } : {}),
  };
}
