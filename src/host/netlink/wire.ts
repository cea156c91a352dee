// Minimal rtnetlink wire format (shared by every netlink user: the 802.1Qbh
// messages, the link model, the link requests): nlmsghdr, ifinfomsg, attributes.
// Pure code, no I/O. Layout per linux/netlink.h and linux/rtnetlink.h; netlink
// is host byte order, which on every platform vifd runs on is little endian.
import { endianness } from 'node:os';

const LE = endianness() === 'LE';

export const NLMSG_HDRLEN = 16;
export const IFINFOMSG_LEN = 16;
export const NLA_HDRLEN = 4;
export const NLA_F_NESTED = 1 << 15;
export const NLA_F_NET_BYTEORDER = 1 << 14;
export const NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xffff;

export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const RTM_NEWLINK = 16;
export const RTM_DELLINK = 17;
export const RTM_GETLINK = 18;
export const RTM_SETLINK = 19;

export const NLM_F_REQUEST = 0x1;
export const NLM_F_MULTI = 0x2;
export const NLM_F_ACK = 0x4;
/** Set on dump messages when the dumped table changed under the dump. */
export const NLM_F_DUMP_INTR = 0x10;
export const NLM_F_DUMP = 0x300;
export const NLM_F_CAPPED = 0x100;
export const NLM_F_ACK_TLVS = 0x200;
export const NLMSGERR_ATTR_MSG = 1;

export const AF_UNSPEC = 0;

export function nlaAlign(len: number): number {
  return (len + 3) & ~3;
}

/** One attribute: its type (flags included) and payload, or nested children. */
export type Nla = { type: number; data: Uint8Array } | { type: number; nested: Nla[] };

export function nlaU8(type: number, v: number): Nla {
  return { type, data: Uint8Array.of(v & 0xff) };
}
export function nlaU32(type: number, v: number): Nla {
  const b = Buffer.alloc(4);
  if (LE) b.writeUInt32LE(v >>> 0);
  else b.writeUInt32BE(v >>> 0);
  return { type, data: b };
}
/** NUL-terminated string attribute (NLA_STRING as the kernel's nla_strscpy expects). */
export function nlaString(type: number, s: string): Nla {
  return { type, data: Buffer.concat([Buffer.from(s, 'utf8'), Buffer.of(0)]) };
}
export function nlaNested(type: number, nested: Nla[]): Nla {
  return { type: type | NLA_F_NESTED, nested };
}

/** Encodes attributes; each one padded to 4 bytes, nla_len excluding the padding. */
export function encodeNlas(attrs: Nla[]): Buffer {
  const parts: Buffer[] = [];
  for (const a of attrs) {
    const payload = 'nested' in a ? encodeNlas(a.nested) : Buffer.from(a.data);
    const len = NLA_HDRLEN + payload.length;
    if (len > 0xffff) throw new RangeError(`netlink attribute ${a.type & NLA_TYPE_MASK} too long`);
    const buf = Buffer.alloc(nlaAlign(len));
    writeU16(buf, 0, len);
    writeU16(buf, 2, a.type);
    payload.copy(buf, NLA_HDRLEN);
    parts.push(buf);
  }
  return Buffer.concat(parts);
}

export interface IfInfoMsg {
  family?: number;
  type?: number;
  index: number;
  flags?: number;
  change?: number;
}

/** nlmsghdr + ifinfomsg + attributes. nlmsg_pid is 0 (the kernel fills it in). */
export function encodeLinkMessage(type: number, flags: number, seq: number, ifi: IfInfoMsg, attrs: Nla[]): Buffer {
  const body = encodeNlas(attrs);
  const buf = Buffer.alloc(NLMSG_HDRLEN + IFINFOMSG_LEN + body.length);
  writeU32(buf, 0, buf.length);
  writeU16(buf, 4, type);
  writeU16(buf, 6, flags);
  writeU32(buf, 8, seq);
  writeU32(buf, 12, 0);
  buf.writeUInt8(ifi.family ?? AF_UNSPEC, 16);
  buf.writeUInt8(0, 17);
  writeU16(buf, 18, ifi.type ?? 0);
  writeI32(buf, 20, ifi.index);
  writeU32(buf, 24, ifi.flags ?? 0);
  writeU32(buf, 28, ifi.change ?? 0);
  body.copy(buf, NLMSG_HDRLEN + IFINFOMSG_LEN);
  return buf;
}

/** A bare header-only request (NLMSG_NOOP as a barrier, for one). */
export function encodeHeaderOnly(type: number, flags: number, seq: number): Buffer {
  const buf = Buffer.alloc(NLMSG_HDRLEN);
  writeU32(buf, 0, NLMSG_HDRLEN);
  writeU16(buf, 4, type);
  writeU16(buf, 6, flags);
  writeU32(buf, 8, seq);
  return buf;
}

/** A copy of one complete message with its seq set, nlmsg_pid 0 and `addFlags` or-ed in. */
export function restamp(message: Uint8Array, seq: number, addFlags: number): Buffer {
  const buf = Buffer.from(message);
  if (buf.length < NLMSG_HDRLEN || readU32(buf, 0) !== buf.length) throw new RangeError('not one complete netlink message');
  writeU16(buf, 6, readU16(buf, 6) | addFlags);
  writeU32(buf, 8, seq);
  writeU32(buf, 12, 0);
  return buf;
}

/** The header fields of a message not yet parsed. */
export function peekHeader(message: Uint8Array): { type: number; flags: number; seq: number } {
  const buf = Buffer.from(message.buffer, message.byteOffset, message.byteLength);
  return { type: readU16(buf, 4), flags: readU16(buf, 6), seq: readU32(buf, 8) };
}

export interface NlMsg {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  /** Bytes after the 16-byte header, nlmsg_len - 16 of them. */
  payload: Buffer;
}

/** An NLMSG_ERROR as the kernel sends it with NETLINK_CAP_ACK (errno, then
 * the request's header), for an answer the kernel's own was lost for. */
export function syntheticError(seq: number, errno: number): NlMsg {
  const payload = Buffer.alloc(4 + NLMSG_HDRLEN);
  writeI32(payload, 0, -errno);
  return { type: NLMSG_ERROR, flags: NLM_F_CAPPED, seq, pid: 0, payload };
}

/** Splits a byte stream of netlink messages; throws on a truncated one. */
export function parseMessages(bytes: Uint8Array): NlMsg[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: NlMsg[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = readU32(buf, off);
    if (len < NLMSG_HDRLEN || off + len > buf.length) throw new RangeError(`truncated netlink message at byte ${off}`);
    out.push({
      type: readU16(buf, off + 4),
      flags: readU16(buf, off + 6),
      seq: readU32(buf, off + 8),
      pid: readU32(buf, off + 12),
      payload: buf.subarray(off + NLMSG_HDRLEN, off + len),
    });
    off += nlaAlign(len);
  }
  return out;
}

/** Attributes of one level, keyed by type with the flag bits masked off (the last wins). */
export function parseNlas(buf: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  for (const [type, data] of listNlas(buf)) out.set(type, data);
  return out;
}

/** Only the attributes whose type is in `types` (flag bits masked off; the
 * last wins): the others are stepped over without an object each (a link
 * notification carries some fifty, the link model reads ten). */
export function pickNlas(buf: Buffer, types: ReadonlySet<number>): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let off = 0;
  while (off + NLA_HDRLEN <= buf.length) {
    const len = readU16(buf, off);
    if (len < NLA_HDRLEN || off + len > buf.length) break;
    const type = readU16(buf, off + 2) & NLA_TYPE_MASK;
    if (types.has(type)) out.set(type, buf.subarray(off + NLA_HDRLEN, off + len));
    off += nlaAlign(len);
  }
  return out;
}

export function listNlas(buf: Buffer): Array<[number, Buffer]> {
  const out: Array<[number, Buffer]> = [];
  let off = 0;
  while (off + NLA_HDRLEN <= buf.length) {
    const len = readU16(buf, off);
    if (len < NLA_HDRLEN || off + len > buf.length) break;
    out.push([readU16(buf, off + 2) & NLA_TYPE_MASK, buf.subarray(off + NLA_HDRLEN, off + len)]);
    off += nlaAlign(len);
  }
  return out;
}

export interface NlError {
  /** 0 for an ack, else a positive errno. */
  errno: number;
  /** The kernel's extended-ack message, when it sent one. */
  extAck?: string;
}

/** Decodes an NLMSG_ERROR payload (struct nlmsgerr + optional ext-ack TLVs). */
export function parseError(msg: NlMsg): NlError {
  const p = msg.payload;
  const raw = readI32(p, 0);
  const errno = raw === 0 ? 0 : -raw;
  const res: NlError = { errno };
  if (msg.flags & NLM_F_ACK_TLVS && p.length >= 4 + NLMSG_HDRLEN) {
    const origLen = readU32(p, 4);
    const skip = 4 + (msg.flags & NLM_F_CAPPED ? NLMSG_HDRLEN : nlaAlign(origLen));
    const text = parseNlas(p.subarray(Math.min(skip, p.length))).get(NLMSGERR_ATTR_MSG);
    if (text) res.extAck = text.toString('utf8').replace(/\0.*$/su, '');
  }
  return res;
}

export function readU16(b: Buffer, o: number): number {
  return LE ? b.readUInt16LE(o) : b.readUInt16BE(o);
}
export function readU32(b: Buffer, o: number): number {
  return LE ? b.readUInt32LE(o) : b.readUInt32BE(o);
}
export function readI32(b: Buffer, o: number): number {
  return LE ? b.readInt32LE(o) : b.readInt32BE(o);
}
function writeU16(b: Buffer, o: number, v: number): void {
  if (LE) b.writeUInt16LE(v, o);
  else b.writeUInt16BE(v, o);
}
function writeU32(b: Buffer, o: number, v: number): void {
  if (LE) b.writeUInt32LE(v >>> 0, o);
  else b.writeUInt32BE(v >>> 0, o);
}
function writeI32(b: Buffer, o: number, v: number): void {
  if (LE) b.writeInt32LE(v, o);
  else b.writeInt32BE(v, o);
}

/** The ifinfomsg at the start of an RTM_*LINK payload, and the attributes after it. */
export function parseIfInfo(payload: Buffer): { ifi: Required<IfInfoMsg>; attrs: Buffer } {
  if (payload.length < IFINFOMSG_LEN) throw new RangeError('link message shorter than an ifinfomsg');
  return {
    ifi: { family: payload.readUInt8(0), type: readU16(payload, 2), index: readI32(payload, 4), flags: readU32(payload, 8), change: readU32(payload, 12) },
    attrs: payload.subarray(IFINFOMSG_LEN),
  };
}

// Link and qdisc requests (ip link add/set/del, tc qdisc replace).
export const RTM_NEWQDISC = 36;
export const NLM_F_REPLACE = 0x100;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;

/** The 16-byte ifinfomsg alone (a veth peer carries one inside VETH_INFO_PEER). */
export function encodeIfInfoMsg(ifi: IfInfoMsg): Buffer {
  const buf = Buffer.alloc(IFINFOMSG_LEN);
  buf.writeUInt8(ifi.family ?? AF_UNSPEC, 0);
  writeU16(buf, 2, ifi.type ?? 0);
  writeI32(buf, 4, ifi.index);
  writeU32(buf, 8, ifi.flags ?? 0);
  writeU32(buf, 12, ifi.change ?? 0);
  return buf;
}

/** nlmsghdr + a family header (ifinfomsg, tcmsg...) + attributes; nlmsg_pid 0. */
export function encodeMessage(type: number, flags: number, seq: number, header: Uint8Array, attrs: Nla[]): Buffer {
  const body = encodeNlas(attrs);
  const buf = Buffer.alloc(NLMSG_HDRLEN + header.length + body.length);
  writeU32(buf, 0, buf.length);
  writeU16(buf, 4, type);
  writeU16(buf, 6, flags);
  writeU32(buf, 8, seq);
  writeU32(buf, 12, 0);
  buf.set(header, NLMSG_HDRLEN);
  body.copy(buf, NLMSG_HDRLEN + header.length);
  return buf;
}

export interface TcMsg {
  ifindex: number;
  handle?: number;
  parent: number;
  info?: number;
}

/** The 20-byte tcmsg (family AF_UNSPEC). */
export function encodeTcMsg(t: TcMsg): Buffer {
  const buf = Buffer.alloc(20);
  writeI32(buf, 4, t.ifindex);
  writeU32(buf, 8, t.handle ?? 0);
  writeU32(buf, 12, t.parent);
  writeU32(buf, 16, t.info ?? 0);
  return buf;
}
