// Error classes with a stable `code`, a `cause`, and structured fields.

const TAIL_BYTES = 2000;

export function tail(text: string | undefined, bytes = TAIL_BYTES): string {
  if (!text) return '';
  return text.length > bytes ? `…${text.slice(-bytes)}` : text;
}

/** A host command ran and failed (non-zero exit, killed, or could not start). */
export class HostCommandError extends Error {
  readonly code = 'HOST_COMMAND_FAILED';
  readonly command: string[];
  readonly exitCode: number | undefined;
  readonly stderrTail: string;

  constructor(fields: { command: string[]; exitCode: number | undefined; stderr: string | undefined; cause?: unknown }) {
    const stderrTail = tail(fields.stderr);
    super(`${fields.command.join(' ')} failed${fields.exitCode === undefined ? '' : ` (exit ${fields.exitCode})`}: ${stderrTail.trim().split('\n').slice(-3).join(' / ') || 'no output'}`, {
      cause: fields.cause,
    });
    this.name = 'HostCommandError';
    this.command = fields.command;
    this.exitCode = fields.exitCode;
    this.stderrTail = stderrTail;
  }
}

/** One line of an `ip -batch` failed; the rest of the batch went on (-force). */
export class LinkActionError extends Error {
  readonly code: 'LINK_ACTION_FAILED' | 'LINK_ACTION_REJECTED';
  readonly line: string;
  readonly lineNumber: number;
  /** What ip/the kernel said, without the command. */
  readonly reason: string;
  readonly retryable: boolean;

  constructor(fields: { line: string; lineNumber: number; message: string }) {
    const retryable = isRetryableIpMessage(fields.message);
    super(`ip ${fields.line}: ${fields.message}`);
    this.name = 'LinkActionError';
    this.code = retryable ? 'LINK_ACTION_FAILED' : 'LINK_ACTION_REJECTED';
    this.line = fields.line;
    this.lineNumber = fields.lineNumber;
    this.reason = fields.message;
    this.retryable = retryable;
  }
}

/** Errors that a retry can cure (a race with another change, a device not yet
 * there) versus the kernel refusing the request itself (bad MTU, bad mode). */
export function isRetryableIpMessage(message: string): boolean {
  return !/Invalid argument|Numerical result out of range|not supported|Operation not supported|Error: argument .* is wrong|Garbage instead of arguments/iu.test(message);
}
