// Port-profile errors: classes with a stable `code`, a `cause`, and fields a
// status message can be built from (what was asked, what the host answered).

const TAIL = 2000;
export function tailText(text: string | undefined, max = TAIL): string {
  if (!text) return '';
  return text.length > max ? `…${text.slice(-max)}` : text;
}

export type PortProfileErrorCode =
  | 'PORT_PROFILE_UNSUPPORTED'
  | 'PORT_PROFILE_NETLINK_ERROR'
  | 'PORT_PROFILE_REJECTED'
  | 'PORT_PROFILE_TIMEOUT'
  | 'NETLINK_HELPER_FAILED'
  | 'LLDPAD_NOT_RUNNING'
  | 'VDPTOOL_FAILED'
  | 'VDP_COMMAND_FAILED'
  | 'VDP_REJECTED'
  | 'VDP_TIMEOUT';

export abstract class PortProfileError extends Error {
  abstract readonly code: PortProfileErrorCode;
  /** The uplink device the request was for. */
  readonly uplink: string;
  constructor(uplink: string, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.uplink = uplink;
  }
}

/** The uplink's driver has no port-profile support (the kernel said EOPNOTSUPP). */
export class PortProfileUnsupportedError extends PortProfileError {
  readonly code = 'PORT_PROFILE_UNSUPPORTED';
  readonly errno: number;
  readonly extAck: string | undefined;
  constructor(f: { uplink: string; errno: number; extAck?: string; cause?: unknown }) {
    super(f.uplink, `802.1Qbh: uplink ${f.uplink} does not support port profiles (kernel: Operation not supported${f.extAck ? `: ${f.extAck}` : ''})`, f.cause);
    this.name = 'PortProfileUnsupportedError';
    this.errno = f.errno;
    this.extAck = f.extAck;
  }
}

/** The kernel refused the request with another errno (ENODEV, EINVAL, EPERM...). */
export class PortProfileNetlinkError extends PortProfileError {
  readonly code = 'PORT_PROFILE_NETLINK_ERROR';
  readonly errno: number;
  readonly errnoName: string;
  readonly extAck: string | undefined;
  constructor(f: { uplink: string; errno: number; errnoName: string; extAck?: string; cause?: unknown }) {
    super(f.uplink, `802.1Qbh: kernel refused the port-profile request on ${f.uplink}: ${f.errnoName} (errno ${f.errno})${f.extAck ? `: ${f.extAck}` : ''}`, f.cause);
    this.name = 'PortProfileNetlinkError';
    this.errno = f.errno;
    this.errnoName = f.errnoName;
    this.extAck = f.extAck;
  }
}

/** The adjacent switch (through the driver) answered with a failure response. */
export class PortProfileRejectedError extends PortProfileError {
  readonly code = 'PORT_PROFILE_REJECTED';
  readonly response: number;
  readonly responseName: string;
  constructor(f: { uplink: string; response: number; responseName: string }) {
    super(f.uplink, `802.1Qbh: port profile on ${f.uplink} answered ${f.responseName} (0x${f.response.toString(16)})`);
    this.name = 'PortProfileRejectedError';
    this.response = f.response;
    this.responseName = f.responseName;
  }
}

/** The response stayed "in progress" (or absent) for the whole poll window. */
export class PortProfileTimeoutError extends PortProfileError {
  readonly code = 'PORT_PROFILE_TIMEOUT';
  readonly waitedMs: number;
  readonly lastResponse: string | undefined;
  constructor(f: { uplink: string; waitedMs: number; lastResponse?: string }) {
    super(f.uplink, `802.1Qbh: port-profile setlink on ${f.uplink} timed out after ${f.waitedMs} ms (last response: ${f.lastResponse ?? 'none'})`);
    this.name = 'PortProfileTimeoutError';
    this.waitedMs = f.waitedMs;
    this.lastResponse = f.lastResponse;
  }
}

/** A helper program (vifd-netlink, vdptool) could not run or broke its contract. */
interface CommandFields {
  uplink: string;
  command: string[];
  exitCode: number | undefined;
  stderr?: string;
  stdout?: string;
  cause?: unknown;
}

abstract class CommandError extends PortProfileError {
  readonly command: string[];
  readonly exitCode: number | undefined;
  readonly stderrTail: string;
  readonly stdoutTail: string;
  constructor(f: CommandFields, message: string) {
    super(f.uplink, message, f.cause);
    this.command = f.command;
    this.exitCode = f.exitCode;
    this.stderrTail = tailText(f.stderr);
    this.stdoutTail = tailText(f.stdout);
  }
}

export class NetlinkHelperError extends CommandError {
  readonly code = 'NETLINK_HELPER_FAILED';
  constructor(f: CommandFields & { reason: string }) {
    super(f, `802.1Qbh: ${f.command[0] ?? 'vifd-netlink'}: ${f.reason}${f.stderr ? `: ${f.stderr.trim().split('\n').slice(-2).join(' / ')}` : ''}`);
    this.name = 'NetlinkHelperError';
  }
}

/** vdptool could not reach lldpad (no lldpad in this network namespace). */
export class LldpadNotRunningError extends CommandError {
  readonly code = 'LLDPAD_NOT_RUNNING';
  constructor(f: CommandFields) {
    super(f, `802.1Qbg: lldpad is not running (vdptool: ${firstLine(f.stderr, f.stdout)})`);
    this.name = 'LldpadNotRunningError';
  }
}

/** vdptool itself is missing or crashed. */
export class VdptoolError extends CommandError {
  readonly code = 'VDPTOOL_FAILED';
  constructor(f: CommandFields & { reason: string }) {
    super(f, `802.1Qbg: vdptool ${f.reason}`);
    this.name = 'VdptoolError';
  }
}

/** lldpad refused the command itself ("FAILED: Device not found or inactive"). */
export class VdpCommandError extends CommandError {
  readonly code = 'VDP_COMMAND_FAILED';
  readonly answer: string;
  constructor(f: CommandFields & { answer: string }) {
    super(f, `802.1Qbg: lldpad refused the VDP request on ${f.uplink}: ${f.answer}`);
    this.name = 'VdpCommandError';
    this.answer = f.answer;
  }
}

/** The bridge answered the VSI request with an error (or a de-associate). */
export class VdpRejectedError extends CommandError {
  readonly code = 'VDP_REJECTED';
  readonly answer: string;
  constructor(f: CommandFields & { answer: string }) {
    super(f, `802.1Qbg: the switch rejected the VSI on ${f.uplink}: ${f.answer}`);
    this.name = 'VdpRejectedError';
    this.answer = f.answer;
  }
}

/** No answer from the bridge in time; `answer` is lldpad's text when it gave one. */
export class VdpTimeoutError extends CommandError {
  readonly code = 'VDP_TIMEOUT';
  readonly answer: string | undefined;
  readonly waitedMs: number;
  constructor(f: CommandFields & { answer?: string; waitedMs: number }) {
    super(f, `802.1Qbg: no VDP answer from the switch on ${f.uplink} after ${f.waitedMs} ms${f.answer ? ` (lldpad: ${f.answer})` : ''}`);
    this.name = 'VdpTimeoutError';
    this.answer = f.answer;
    this.waitedMs = f.waitedMs;
  }
}

function firstLine(...texts: Array<string | undefined>): string {
  for (const t of texts) {
    const line = t?.trim().split('\n').find((l) => l.trim());
    if (line) return line.trim();
  }
  return 'no output';
}
