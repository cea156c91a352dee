// Runs native/build/vifd-netlink: raw netlink request bytes in, raw reply
// bytes out. The helper has no protocol logic; see native/vifd-netlink.c.
import { constants as osConstants } from 'node:os';
import { execaGuarded, spawnFailure } from '../run.js';
import { nativeHelperPath } from '../native-path.js';
import { NetlinkHelperError } from './errors.js';
import { type NlMsg, parseMessages } from '../netlink/wire.js';

export interface HelperResult {
  exitCode: number | undefined;
  stdout: Buffer;
  stderr: string;
  /** Set when the program could not be started at all. */
  spawnError?: Error;
}

/** Runs a program with argv only and binary stdin/stdout; injectable in tests. */
export type HelperRunner = (file: string, args: string[], input: Buffer) => Promise<HelperResult>;

export const execaRunner: HelperRunner = async (file, args, input) => {
  const r = await execaGuarded(file, args, { input, encoding: 'buffer', reject: false, timeout: 30_000 });
  const stderr = Buffer.from(r.stderr ?? new Uint8Array()).toString('utf8');
  const spawnError = spawnFailure(r, stderr);
  return { exitCode: spawnError ? undefined : r.exitCode, stdout: Buffer.from(r.stdout ?? new Uint8Array()), stderr, ...(spawnError ? { spawnError } : {}) };
};

/** $VIFD_NETLINK_HELPER, else native/build/vifd-netlink in the nearest enclosing project dir. */
export function defaultHelperPath(): string {
  return nativeHelperPath('vifd-netlink', 'VIFD_NETLINK_HELPER');
}

export interface SendOptions {
  uplink: string;
  netns?: string;
  helperPath?: string;
  runner?: HelperRunner;
  /** Destination netlink port id; 0 (default) is the kernel. */
  destPid?: number;
  timeoutMs?: number;
}

const EXIT_REASONS: Record<number, string> = {
  2: 'bad request',
  3: 'cannot enter the network namespace',
  4: 'netlink socket error',
  5: 'timed out waiting for the netlink reply',
};

/** Sends the messages and returns every reply message, in order. */
export async function sendNetlink(messages: Buffer, opts: SendOptions): Promise<NlMsg[]> {
  const file = opts.helperPath ?? defaultHelperPath();
  const args: string[] = [];
  if (opts.netns) args.push('--netns', opts.netns);
  if (opts.destPid) args.push('--pid', String(opts.destPid));
  if (opts.timeoutMs) args.push('--timeout-ms', String(opts.timeoutMs));
  const command = [file, ...args];
  const r = await (opts.runner ?? execaRunner)(file, args, messages);
  if (r.spawnError || r.exitCode === undefined) {
    throw new NetlinkHelperError({
      uplink: opts.uplink, command, exitCode: r.exitCode, stderr: r.stderr, cause: r.spawnError,
      reason: `could not run the netlink helper (build it with native/build.sh)`,
    });
  }
  if (r.exitCode !== 0) {
    throw new NetlinkHelperError({
      uplink: opts.uplink, command, exitCode: r.exitCode, stderr: r.stderr,
      reason: EXIT_REASONS[r.exitCode] ?? `exit ${r.exitCode}`,
    });
  }
  try {
    return parseMessages(r.stdout);
  } catch (cause) {
    throw new NetlinkHelperError({ uplink: opts.uplink, command, exitCode: 0, stderr: r.stderr, cause, reason: 'malformed reply bytes' });
  }
}

const ERRNO_NAMES = new Map<number, string>(Object.entries(osConstants.errno).map(([k, v]) => [v, k]));

export function errnoName(errno: number): string {
  return ERRNO_NAMES.get(errno) ?? `E${errno}`;
}
