// The host's error classes: a stable `code`, a `cause`, and structured fields.
import { VifdError } from './vifd-error.js';

const TAIL_BYTES = 2000;

export function tail(text: string | undefined, bytes = TAIL_BYTES): string {
  if (!text) return '';
  return text.length > bytes ? `…${text.slice(-bytes)}` : text;
}

/** A host command ran and failed (non-zero exit, killed, or could not start). */
export class HostCommandError extends VifdError<'HOST_COMMAND_FAILED'> {
  readonly command: string[];
  readonly exitCode: number | undefined;
  readonly stderrTail: string;

  constructor(f: { command: string[]; exitCode: number | undefined; stderr: string | undefined; cause?: unknown }) {
    const stderrTail = tail(f.stderr);
    super('HOST_COMMAND_FAILED', `${f.command.join(' ')} failed${f.exitCode === undefined ? '' : ` (exit ${f.exitCode})`}: ${stderrTail.trim().split('\n').slice(-3).join(' / ') || 'no output'}`, {
      cause: f.cause,
      fields: { command: f.command, exitCode: f.exitCode, stderrTail },
    });
    this.command = f.command;
    this.exitCode = f.exitCode;
    this.stderrTail = stderrTail;
  }
}

/** One line of an `ip -batch` failed; the rest of the batch went on (-force). */
export class LinkActionError extends VifdError<'LINK_ACTION_FAILED' | 'LINK_ACTION_REJECTED'> {
  readonly line: string;
  readonly lineNumber: number;
  /** What ip/the kernel said, without the command. */
  readonly reason: string;
  readonly retryable: boolean;

  constructor(f: { line: string; lineNumber: number; message: string }) {
    const retryable = isRetryableIpMessage(f.message);
    super(retryable ? 'LINK_ACTION_FAILED' : 'LINK_ACTION_REJECTED', `ip ${f.line}: ${f.message}`, {
      fields: { line: f.line, lineNumber: f.lineNumber, reason: f.message, retryable },
    });
    this.line = f.line;
    this.lineNumber = f.lineNumber;
    this.reason = f.message;
    this.retryable = retryable;
  }
}

/** ip's words for a device that is not there: its own check ("Cannot find
 * device "X"") or the kernel's ENODEV ("No such device"). */
export function isNoSuchDeviceMessage(message: string): boolean {
  return /Cannot find device|No such device/u.test(message);
}

/** Errors that a retry can cure (a race with another change, a device not yet
 * there) versus the kernel refusing the request itself (bad MTU, bad mode). */
export function isRetryableIpMessage(message: string): boolean {
  return !/Invalid argument|Numerical result out of range|not supported|Operation not supported|Error: argument .* is wrong|Garbage instead of arguments/iu.test(message);
}
