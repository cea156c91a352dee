// The frames of `vifd-netlink --stream` (the protocol is documented in
// native/vifd-netlink.c): u32 type, u32 payload length, payload padded to 4
// bytes, host byte order. Pure.
import { endianness } from 'node:os';
import { readU32 } from './wire.js';

const LE = endianness() === 'LE';
const HEADER = 8;

export const IN_SEND = 1;
export const IN_CREATE_TAP = 2;

export const OUT_UNICAST = 1;
export const OUT_MULTICAST = 2;
export const OUT_ENOBUFS = 3;
export const OUT_TAP_RESULT = 4;
export const OUT_SEND_FAILED = 5;
export const OUT_READY = 6;

export interface Frame {
  type: number;
  payload: Buffer;
}

export function encodeFrame(type: number, payload: Uint8Array): Buffer {
  const padded = (payload.length + 3) & ~3;
  const buf = Buffer.alloc(HEADER + padded);
  if (LE) {
    buf.writeUInt32LE(type, 0);
    buf.writeUInt32LE(payload.length, 4);
  } else {
    buf.writeUInt32BE(type, 0);
    buf.writeUInt32BE(payload.length, 4);
  }
  buf.set(payload, HEADER);
  return buf;
}

export function encodeCreateTap(name: string, options: { multiQueue?: boolean; user?: number; group?: number }): Buffer {
  const bytes = Buffer.from(name, 'utf8');
  if (bytes.length < 1 || bytes.length > 15 || bytes.includes(0)) throw new RangeError(`bad tap name ${JSON.stringify(name)}`);
  const body = Buffer.alloc(12 + bytes.length);
  const ints = [options.multiQueue ? 1 : 0, options.user ?? -1, options.group ?? -1];
  ints.forEach((v, i) => (LE ? body.writeInt32LE(v, i * 4) : body.writeInt32BE(v, i * 4)));
  bytes.copy(body, 12);
  return encodeFrame(IN_CREATE_TAP, body);
}

/** Reassembles frames from stdout chunks, however the pipe cut them. */
export class FrameDecoder {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: Frame[] = [];
    let off = 0;
    while (this.pending.length - off >= HEADER) {
      const length = readU32(this.pending, off + 4);
      const total = HEADER + ((length + 3) & ~3);
      if (this.pending.length - off < total) break;
      out.push({ type: readU32(this.pending, off), payload: this.pending.subarray(off + HEADER, off + HEADER + length) });
      off += total;
    }
    this.pending = off === this.pending.length ? Buffer.alloc(0) : this.pending.subarray(off);
    return out;
  }
}

