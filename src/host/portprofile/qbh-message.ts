// 802.1Qbh port-profile netlink messages, built and parsed in pure code.
// Same message as libvirt's virNetDevVPortProfileOpSetLink with
// nltarget_kernel=true: RTM_SETLINK to the uplink carrying IFLA_PORT_SELF
// (or IFLA_VF_PORTS/IFLA_VF_PORT for a VF), then RTM_GETLINK with
// IFLA_EXT_MASK=RTEXT_FILTER_VF to read IFLA_PORT_RESPONSE back.
import { UUID_LOOSE } from '../../lib/uuid.js';
import {
  encodeLinkMessage, type Nla, nlaNested, nlaString, nlaU32, nlaU8, type NlMsg, listNlas, parseNlas,
  IFINFOMSG_LEN, NLM_F_ACK, NLM_F_REQUEST, RTM_GETLINK, RTM_NEWLINK, RTM_SETLINK, readU16, readU32,
} from '../netlink/wire.js';

// linux/if_link.h
export const IFLA_IFNAME = 3;
export const IFLA_VF_PORTS = 24;
export const IFLA_PORT_SELF = 25;
export const IFLA_EXT_MASK = 29;
export const IFLA_VF_PORT = 1;
export const IFLA_PORT_VF = 1;
export const IFLA_PORT_PROFILE = 2;
export const IFLA_PORT_VSI_TYPE = 3;
export const IFLA_PORT_INSTANCE_UUID = 4;
export const IFLA_PORT_HOST_UUID = 5;
export const IFLA_PORT_REQUEST = 6;
export const IFLA_PORT_RESPONSE = 7;
export const PORT_PROFILE_MAX = 40;
export const PORT_UUID_MAX = 16;
export const RTEXT_FILTER_VF = 1; // linux/rtnetlink.h

export const PORT_REQUEST = {
  preassociate: 0,
  'preassociate-rr': 1,
  associate: 2,
  disassociate: 3,
} as const;
export type PortRequest = keyof typeof PORT_REQUEST;

export const PORT_PROFILE_RESPONSE_SUCCESS = 0x100;
export const PORT_PROFILE_RESPONSE_INPROGRESS = 0x101;

const RESPONSE_NAMES: Record<number, string> = {
  0: 'vdp-success',
  1: 'vdp-invalid-format',
  2: 'vdp-insufficient-resources',
  3: 'vdp-unused-vtid',
  4: 'vdp-vtid-violation',
  5: 'vdp-vtid-version-violation',
  6: 'vdp-out-of-sync',
  0x100: 'success',
  0x101: 'in-progress',
  0x102: 'invalid',
  0x103: 'bad-state',
  0x104: 'insufficient-resources',
  0x105: 'error',
};

export function portResponseName(code: number): string {
  return RESPONSE_NAMES[code] ?? `unknown-0x${code.toString(16)}`;
}

/** The link to address: ifindex (preferred by the kernel) and/or name. */
export interface LinkRef {
  ifindex?: number;
  ifname?: string;
}

export interface PortProfileRequest extends LinkRef {
  request: PortRequest;
  /** Port profile name, 1..39 bytes (PORT_PROFILE_MAX includes the NUL). */
  profileId?: string;
  instanceUuid?: string;
  hostUuid?: string;
  /** A VF number: the request goes in IFLA_VF_PORTS/IFLA_VF_PORT. Absent: IFLA_PORT_SELF. */
  vf?: number;
  seq: number;
}

export function uuidBytes(uuid: string): Buffer {
  if (!UUID_LOOSE.test(uuid)) throw new TypeError(`not a UUID: ${JSON.stringify(uuid)}`);
  return Buffer.from(uuid.replaceAll('-', ''), 'hex');
}

export function uuidString(b: Buffer): string {
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

function linkHeader(ref: LinkRef): { index: number; attrs: Nla[] } {
  if (ref.ifindex === undefined && !ref.ifname) throw new TypeError('need an ifindex or an ifname');
  if (ref.ifindex !== undefined && (!Number.isInteger(ref.ifindex) || ref.ifindex <= 0)) {
    throw new TypeError(`bad ifindex ${ref.ifindex}`);
  }
  if (ref.ifname !== undefined && (Buffer.byteLength(ref.ifname) < 1 || Buffer.byteLength(ref.ifname) > 15)) {
    throw new TypeError(`bad interface name ${JSON.stringify(ref.ifname)}`);
  }
  return { index: ref.ifindex ?? 0, attrs: ref.ifname ? [nlaString(IFLA_IFNAME, ref.ifname)] : [] };
}

/** RTM_SETLINK (NLM_F_REQUEST|NLM_F_ACK) that (dis)associates a port profile. */
export function buildSetPortProfile(req: PortProfileRequest): Buffer {
  const { index, attrs } = linkHeader(req);
  const port: Nla[] = [];
  if (req.profileId !== undefined) {
    const n = Buffer.byteLength(req.profileId);
    if (n < 1 || n >= PORT_PROFILE_MAX) throw new TypeError(`profile id must be 1..${PORT_PROFILE_MAX - 1} bytes`);
    port.push(nlaString(IFLA_PORT_PROFILE, req.profileId));
  }
  if (req.instanceUuid !== undefined) port.push({ type: IFLA_PORT_INSTANCE_UUID, data: uuidBytes(req.instanceUuid) });
  if (req.hostUuid !== undefined) port.push({ type: IFLA_PORT_HOST_UUID, data: uuidBytes(req.hostUuid) });
  if (req.vf !== undefined) {
    if (!Number.isInteger(req.vf) || req.vf < 0 || req.vf > 0xffff) throw new TypeError(`bad VF number ${req.vf}`);
    port.push(nlaU32(IFLA_PORT_VF, req.vf));
  }
  port.push(nlaU8(IFLA_PORT_REQUEST, PORT_REQUEST[req.request]));
  attrs.push(req.vf === undefined ? nlaNested(IFLA_PORT_SELF, port) : nlaNested(IFLA_VF_PORTS, [nlaNested(IFLA_VF_PORT, port)]));
  return encodeLinkMessage(RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK, req.seq, { index }, attrs);
}

/** RTM_GETLINK for one link, asking for VF/port info (RTEXT_FILTER_VF), with an ack. */
export function buildGetLink(ref: LinkRef & { seq: number }): Buffer {
  const { index, attrs } = linkHeader(ref);
  attrs.push(nlaU32(IFLA_EXT_MASK, RTEXT_FILTER_VF));
  return encodeLinkMessage(RTM_GETLINK, NLM_F_REQUEST | NLM_F_ACK, ref.seq, { index }, attrs);
}

export interface PortStatus {
  /** IFLA_PORT_RESPONSE; absent when the driver reported none. */
  response?: number;
  responseName?: string;
  profileId?: string;
  instanceUuid?: string;
  hostUuid?: string;
  request?: number;
  vf?: number;
}

function decodePort(attrs: Map<number, Buffer>): PortStatus {
  const st: PortStatus = {};
  const resp = attrs.get(IFLA_PORT_RESPONSE);
  if (resp && resp.length >= 2) {
    st.response = readU16(resp, 0);
    st.responseName = portResponseName(st.response);
  }
  const prof = attrs.get(IFLA_PORT_PROFILE);
  if (prof) st.profileId = prof.toString('utf8').replace(/\0.*$/su, '');
  const inst = attrs.get(IFLA_PORT_INSTANCE_UUID);
  if (inst?.length === PORT_UUID_MAX) st.instanceUuid = uuidString(inst);
  const host = attrs.get(IFLA_PORT_HOST_UUID);
  if (host?.length === PORT_UUID_MAX) st.hostUuid = uuidString(host);
  const rq = attrs.get(IFLA_PORT_REQUEST);
  if (rq && rq.length >= 1) st.request = rq.readUInt8(0);
  const vf = attrs.get(IFLA_PORT_VF);
  if (vf && vf.length >= 4) st.vf = readU32(vf, 0);
  return st;
}

/**
 * The port state in an RTM_NEWLINK reply: IFLA_PORT_SELF, or the IFLA_VF_PORT
 * whose IFLA_PORT_VF is `vf`. undefined when the link reports no such port
 * (a driver without ndo_get_vf_port, e.g. veth, sends none).
 */
export function parsePortStatus(msg: NlMsg, vf?: number): PortStatus | undefined {
  if (msg.type !== RTM_NEWLINK) throw new TypeError(`expected RTM_NEWLINK, got type ${msg.type}`);
  const attrs = parseNlas(msg.payload.subarray(IFINFOMSG_LEN));
  if (vf === undefined) {
    const self = attrs.get(IFLA_PORT_SELF);
    return self ? decodePort(parseNlas(self)) : undefined;
  }
  const ports = attrs.get(IFLA_VF_PORTS);
  if (!ports) return undefined;
  for (const [type, data] of listNlas(ports)) {
    if (type !== IFLA_VF_PORT) continue;
    const st = decodePort(parseNlas(data));
    if (st.vf === vf) return st;
  }
  return undefined;
}
