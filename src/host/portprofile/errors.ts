// Port-profile errors: classes with a stable `code`, a `cause`, and fields a
// status message can be built from (what was asked, what the host answered).
import { VifdError } from '../../errors/vifd-error.js';

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

export abstract class PortProfileError<Code extends PortProfileErrorCode = PortProfileErrorCode> extends VifdError<Code> {
  /** The uplink device the request was for. */
  readonly uplink: string;
  constructor(code: Code, uplink: string, message: string, options: { cause?: unknown; fields?: Record<string, unknown> } = {}) {
    super(code, message, { cause: options.cause, fields: { uplink, ...options.fields } });
    this.uplink = uplink;
  }
}

/** The uplink's driver has no port-profile support (the kernel said EOPNOTSUPP). */
export class PortProfileUnsupportedError extends PortProfileError<'PORT_PROFILE_UNSUPPORTED'> {
  readonly errno: number;
  readonly extAck: string | undefined;
  constructor(f: { uplink: string; errno: number; extAck?: string; cause?: unknown }) {
    super('PORT_PROFILE_UNSUPPORTED', f.uplink, `802.1Qbh: uplink ${f.uplink} does not support port profiles (kernel: Operation not supported${f.extAck ? `: ${f.extAck}` : ''})`, {
      cause: f.cause,
      fields: { errno: f.errno, extAck: f.extAck },
    });
    this.errno = f.errno;
    this.extAck = f.extAck;
  }
}

/** The kernel refused the request with another errno (ENODEV, EINVAL, EPERM...). */
export class PortProfileNetlinkError extends PortProfileError<'PORT_PROFILE_NETLINK_ERROR'> {
  readonly errno: number;
  readonly errnoName: string;
  readonly extAck: string | undefined;
  constructor(f: { uplink: string; errno: number; errnoName: string; extAck?: string; cause?: unknown }) {
    super('PORT_PROFILE_NETLINK_ERROR', f.uplink, `802.1Qbh: kernel refused the port-profile request on ${f.uplink}: ${f.errnoName} (errno ${f.errno})${f.extAck ? `: ${f.extAck}` : ''}`, {
      cause: f.cause,
      fields: { errno: f.errno, errnoName: f.errnoName, extAck: f.extAck },
    });
    this.errno = f.errno;
    this.errnoName = f.errnoName;
    this.extAck = f.extAck;
  }
}

/** The adjacent switch (through the driver) answered with a failure response. */
export class PortProfileRejectedError extends PortProfileError<'PORT_PROFILE_REJECTED'> {
  readonly response: number;
  readonly responseName: string;
  constructor(f: { uplink: string; response: number; responseName: string }) {
    super('PORT_PROFILE_REJECTED', f.uplink, `802.1Qbh: port profile on ${f.uplink} answered ${f.responseName} (0x${f.response.toString(16)})`, {
      fields: { response: f.response, responseName: f.responseName },
    });
    this.response = f.response;
    this.responseName = f.responseName;
  }
}

/** The response stayed "in progress" (or absent) for the whole poll window. */
export class PortProfileTimeoutError extends PortProfileError<'PORT_PROFILE_TIMEOUT'> {
  readonly waitedMs: number;
  readonly lastResponse: string | undefined;
  constructor(f: { uplink: string; waitedMs: number; lastResponse?: string }) {
    super('PORT_PROFILE_TIMEOUT', f.uplink, `802.1Qbh: port-profile setlink on ${f.uplink} timed out after ${f.waitedMs} ms (last response: ${f.lastResponse ?? 'none'})`, {
      fields: { waitedMs: f.waitedMs, lastResponse: f.lastResponse },
    });
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

abstract class CommandError<Code extends PortProfileErrorCode> extends PortProfileError<Code> {
  readonly command: string[];
  readonly exitCode: number | undefined;
  readonly stderrTail: string;
  readonly stdoutTail: string;
  constructor(code: Code, f: CommandFields, message: string, fields: Record<string, unknown> = {}) {
    const stderrTail = tailText(f.stderr);
    const stdoutTail = tailText(f.stdout);
    super(code, f.uplink, message, { cause: f.cause, fields: { command: f.command, exitCode: f.exitCode, stderrTail, stdoutTail, ...fields } });
    this.command = f.command;
    this.exitCode = f.exitCode;
    this.stderrTail = stderrTail;
    this.stdoutTail = stdoutTail;
  }
}

export class NetlinkHelperError extends CommandError<'NETLINK_HELPER_FAILED'> {
  constructor(f: CommandFields & { reason: string }) {
    super('NETLINK_HELPER_FAILED', f, `802.1Qbh: ${f.command[0] ?? 'vifd-netlink'}: ${f.reason}${f.stderr ? `: ${f.stderr.trim().split('\n').slice(-2).join(' / ')}` : ''}`, {
      reason: f.reason,
    });
  }
}

/** vdptool could not reach lldpad (no lldpad in this network namespace). */
export class LldpadNotRunningError extends CommandError<'LLDPAD_NOT_RUNNING'> {
  constructor(f: CommandFields) {
    super('LLDPAD_NOT_RUNNING', f, `802.1Qbg: lldpad is not running (vdptool: ${firstLine(f.stderr, f.stdout)})`);
  }
}

/** vdptool itself is missing or crashed. */
export class VdptoolError extends CommandError<'VDPTOOL_FAILED'> {
  constructor(f: CommandFields & { reason: string }) {
    super('VDPTOOL_FAILED', f, `802.1Qbg: vdptool ${f.reason}`, { reason: f.reason });
  }
}

/** lldpad refused the command itself ("FAILED: Device not found or inactive"). */
export class VdpCommandError extends CommandError<'VDP_COMMAND_FAILED'> {
  readonly answer: string;
  constructor(f: CommandFields & { answer: string }) {
    super('VDP_COMMAND_FAILED', f, `802.1Qbg: lldpad refused the VDP request on ${f.uplink}: ${f.answer}`, { answer: f.answer });
    this.answer = f.answer;
  }
}

/** The bridge answered the VSI request with an error (or a de-associate). */
export class VdpRejectedError extends CommandError<'VDP_REJECTED'> {
  readonly answer: string;
  constructor(f: CommandFields & { answer: string }) {
    super('VDP_REJECTED', f, `802.1Qbg: the switch rejected the VSI on ${f.uplink}: ${f.answer}`, { answer: f.answer });
    this.answer = f.answer;
  }
}

/** No answer from the bridge in time; `answer` is lldpad's text when it gave one. */
export class VdpTimeoutError extends CommandError<'VDP_TIMEOUT'> {
  readonly answer: string | undefined;
  readonly waitedMs: number;
  constructor(f: CommandFields & { answer?: string; waitedMs: number }) {
    super('VDP_TIMEOUT', f, `802.1Qbg: no VDP answer from the switch on ${f.uplink} after ${f.waitedMs} ms${f.answer ? ` (lldpad: ${f.answer})` : ''}`, {
      answer: f.answer,
      waitedMs: f.waitedMs,
    });
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
