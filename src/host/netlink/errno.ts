// What iproute2 6.1 prints for a failed line, from what the kernel answered.
// The text is an interface: LinkActionError's retryable flag
// (isRetryableIpMessage) and the actuator's isHarmless classify failures by
// it, so a line run over netlink must fail with the words ip would print.
// Node has no strerror(3): the table holds glibc's text for every errno a
// link, tap or qdisc request can meet.
import { constants } from 'node:os';
import type { NlError } from './wire.js';

const GLIBC_TEXT: Readonly<Record<string, string>> = {
  EPERM: 'Operation not permitted',
  ENOENT: 'No such file or directory',
  ESRCH: 'No such process',
  EINTR: 'Interrupted system call',
  EIO: 'Input/output error',
  ENXIO: 'No such device or address',
  E2BIG: 'Argument list too long',
  EBADF: 'Bad file descriptor',
  EAGAIN: 'Resource temporarily unavailable',
  ENOMEM: 'Cannot allocate memory',
  EACCES: 'Permission denied',
  EFAULT: 'Bad address',
  EBUSY: 'Device or resource busy',
  EEXIST: 'File exists',
  EXDEV: 'Invalid cross-device link',
  ENODEV: 'No such device',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  EINVAL: 'Invalid argument',
  ENFILE: 'Too many open files in system',
  EMFILE: 'Too many open files',
  ENOTTY: 'Inappropriate ioctl for device',
  ENOSPC: 'No space left on device',
  ERANGE: 'Numerical result out of range',
  EDEADLK: 'Resource deadlock avoided',
  ENAMETOOLONG: 'File name too long',
  ENOSYS: 'Function not implemented',
  ELOOP: 'Too many levels of symbolic links',
  EPROTO: 'Protocol error',
  EMSGSIZE: 'Message too long',
  EPROTONOSUPPORT: 'Protocol not supported',
  EOPNOTSUPP: 'Operation not supported',
  EAFNOSUPPORT: 'Address family not supported by protocol',
  EADDRINUSE: 'Address already in use',
  EADDRNOTAVAIL: 'Cannot assign requested address',
  ENETDOWN: 'Network is down',
  ENOBUFS: 'No buffer space available',
  ETIMEDOUT: 'Connection timed out',
};

const BY_NUMBER = new Map<number, string>(
  Object.entries(GLIBC_TEXT).flatMap(([name, text]) => {
    const n = (constants.errno as Record<string, number | undefined>)[name];
    return n === undefined ? [] : [[n, text] as const];
  }),
);

/** strerror(3) as glibc words it. */
export function strerror(errno: number): string {
  return BY_NUMBER.get(errno) ?? `Unknown error ${errno}`;
}

/** A refused request: the kernel's extended ack if it sent one (ip then
 * prints only that, ending it with a full stop), else RTNETLINK answers. */
export function rtnetlinkMessage(error: NlError): string {
  if (error.extAck) return `Error: ${error.extAck}${error.extAck.endsWith('.') ? '' : '.'}`;
  return `RTNETLINK answers: ${strerror(error.errno)}`;
}

/** ip's nodev(): a device named on the line is not there. */
export function cannotFindDevice(name: string): string {
  return `Cannot find device "${name}"`;
}

/** ip's invarg(): an argument ip refuses before sending anything. */
export function invalidArgument(word: string, why: string): string {
  return `Error: argument "${word}" is wrong: ${why}`;
}

/** `master B` with no device B. (ip exits there, ending the whole batch;
 * the netlink runner fails only that line.) */
export function masterMissing(name: string): string {
  return invalidArgument(name, 'Device does not exist');
}

/** ip tuntap's perror() after TUNSETIFF, the ioctl that meets a taken name (EBUSY). */
export function tuntapMessage(errno: number): string {
  return `ioctl(TUNSETIFF): ${strerror(errno)}`;
}
