// 802.1Qbh port-profile association, the way libvirt does it
// (virNetDevVPortProfileOp8021Qbh): RTM_SETLINK with IFLA_PORT_SELF or
// IFLA_VF_PORTS to the uplink's driver, then poll IFLA_PORT_RESPONSE every
// 1/8 s for up to 10 s. Messages are built in qbh-message.ts; the bytes go
// through the vifd-netlink helper.
import { constants as osConstants } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  PortProfileNetlinkError, PortProfileRejectedError, PortProfileTimeoutError, PortProfileUnsupportedError,
} from './errors.js';
import { NLMSG_ERROR, RTM_NEWLINK, type NlMsg, parseError } from '../netlink/wire.js';
import { errnoName, type HelperRunner, sendNetlink } from './netlink-helper.js';
import {
  buildGetLink, buildSetPortProfile, parsePortStatus, type PortRequest, type PortStatus,
  PORT_PROFILE_RESPONSE_INPROGRESS, PORT_PROFILE_RESPONSE_SUCCESS,
} from './qbh-message.js';

export const QBH_POLL_INTERVAL_MS = 125; // libvirt STATUS_POLL_INTERVL_USEC
export const QBH_POLL_TIMEOUT_MS = 10_000; // libvirt STATUS_POLL_TIMEOUT_USEC

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}
export const realClock: Clock = { now: () => Date.now(), sleep: (ms) => sleep(ms) };

export interface QbhOptions {
  /** Network namespace (name under /run/netns) holding the uplink. */
  netns?: string;
  helperPath?: string;
  runner?: HelperRunner;
  clock?: Clock;
  pollIntervalMs?: number;
  timeoutMs?: number;
}

export interface QbhPort {
  /** The uplink device (a PF, or the PF of `vf`). */
  uplink: string;
  profileId: string;
  /** The VM (instance) UUID, IFLA_PORT_INSTANCE_UUID. */
  instanceUuid: string;
  /** The host UUID, IFLA_PORT_HOST_UUID (libvirt: the host's SMBIOS UUID). */
  hostUuid: string;
  /** Address a VF port of the uplink instead of IFLA_PORT_SELF. */
  vf?: number;
}

let seqCounter = Math.floor(Date.now() / 1000) & 0x7fffffff;
function nextSeq(): number {
  seqCounter = (seqCounter + 1) & 0x7fffffff;
  return seqCounter;
}

const EOPNOTSUPP = osConstants.errno.EOPNOTSUPP;

/** Throws the typed error for a failed NLMSG_ERROR; returns on an ack. */
function checkAck(uplink: string, replies: NlMsg[]): void {
  const err = replies.find((m) => m.type === NLMSG_ERROR);
  if (!err) throw new PortProfileNetlinkError({ uplink, errno: 0, errnoName: 'NO_ACK', extAck: 'no netlink ack received' });
  const { errno, extAck } = parseError(err);
  if (errno === 0) return;
  const cause = new Error(`netlink errno ${errno} (${errnoName(errno)})`);
  if (errno === EOPNOTSUPP) throw new PortProfileUnsupportedError({ uplink, errno, ...(extAck ? { extAck } : {}), cause });
  throw new PortProfileNetlinkError({ uplink, errno, errnoName: errnoName(errno), ...(extAck ? { extAck } : {}), cause });
}

async function setPort(port: QbhPort, request: PortRequest, opts: QbhOptions): Promise<void> {
  const msg = buildSetPortProfile({
    ifname: port.uplink, request, profileId: port.profileId, instanceUuid: port.instanceUuid, hostUuid: port.hostUuid,
    ...(port.vf === undefined ? {} : { vf: port.vf }), seq: nextSeq(),
  });
  checkAck(port.uplink, await sendNetlink(msg, sendOpts(port.uplink, opts)));
}

function sendOpts(uplink: string, opts: QbhOptions) {
  return {
    uplink,
    ...(opts.netns ? { netns: opts.netns } : {}),
    ...(opts.helperPath ? { helperPath: opts.helperPath } : {}),
    ...(opts.runner ? { runner: opts.runner } : {}),
  };
}

/** Reads the uplink's port state (IFLA_PORT_SELF or the VF's port); undefined if it reports none. */
export async function queryQbh(uplink: string, vf: number | undefined, opts: QbhOptions = {}): Promise<PortStatus | undefined> {
  const replies = await sendNetlink(buildGetLink({ ifname: uplink, seq: nextSeq() }), sendOpts(uplink, opts));
  const link = replies.find((m) => m.type === RTM_NEWLINK);
  if (!link) {
    checkAck(uplink, replies);
    return undefined;
  }
  return parsePortStatus(link, vf);
}

async function pollResponse(port: QbhPort, opts: QbhOptions): Promise<PortStatus> {
  const clock = opts.clock ?? realClock;
  const interval = opts.pollIntervalMs ?? QBH_POLL_INTERVAL_MS;
  const timeout = opts.timeoutMs ?? QBH_POLL_TIMEOUT_MS;
  const started = clock.now();
  let last: PortStatus | undefined;
  for (let repeats = Math.max(1, Math.floor(timeout / interval)); repeats > 0; repeats--) {
    last = await queryQbh(port.uplink, port.vf, opts);
    const resp = last?.response;
    if (resp === PORT_PROFILE_RESPONSE_SUCCESS) return last!;
    if (resp !== undefined && resp !== PORT_PROFILE_RESPONSE_INPROGRESS) {
      throw new PortProfileRejectedError({ uplink: port.uplink, response: resp, responseName: last!.responseName ?? String(resp) });
    }
    if (repeats > 1) await clock.sleep(interval);
  }
  throw new PortProfileTimeoutError({
    uplink: port.uplink, waitedMs: clock.now() - started, ...(last?.responseName ? { lastResponse: last.responseName } : {}),
  });
}

/**
 * Associates the port profile and waits for the driver's answer.
 * Throws PortProfileUnsupportedError (EOPNOTSUPP: the driver has no port
 * profiles), PortProfileNetlinkError, PortProfileRejectedError,
 * PortProfileTimeoutError, or NetlinkHelperError.
 */
export async function associateQbh(port: QbhPort, opts: QbhOptions & { request?: 'associate' | 'preassociate' | 'preassociate-rr' } = {}): Promise<PortStatus> {
  await setPort(port, opts.request ?? 'associate', opts);
  return pollResponse(port, opts);
}

/** Disassociates the port profile and waits for the driver's answer, like associate. */
export async function disassociateQbh(port: QbhPort, opts: QbhOptions = {}): Promise<PortStatus> {
  await setPort(port, 'disassociate', opts);
  return pollResponse(port, opts);
}
