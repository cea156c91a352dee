// The one place that starts host processes: argv arrays only, never a shell.
//
// Every child dies with vifd: Node cannot give a child a parent-death signal,
// so each command is started through native/vifd-guard (PR_SET_PDEATHSIG =
// SIGKILL, a check that vifd is still its parent, then exec in place: no
// extra process). Without the guard built, util-linux `setpriv --pdeathsig
// KILL` does the same minus the parent check (a child forked in the instant
// vifd dies can outlive it); without either, children are started bare.
import { accessSync, constants as fsConstants } from 'node:fs';
import { basename } from 'node:path';
import { execa, type Options } from 'execa';
import { HostCommandError } from '../errors/host-errors.js';
import { count, countCommand } from './host-counters.js';
import { nativeHelperPath } from './native-path.js';

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface RunOptions {
  input?: string | Buffer;
  /** Non-zero exit is returned, not thrown (for `ip -force -batch`). */
  allowFailure?: boolean;
  timeoutMs?: number;
}

export type ChildGuard = { kind: 'guard'; path: string } | { kind: 'setpriv'; path: string } | { kind: 'none' };

let guard: ChildGuard | undefined;

/** Netlink requests sent on the stream helper's socket (rtnl-channel.ts). */
export function countNetlinkRequests(n: number): void {
  count('netlinkRequests', n);
}

function executable(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** How children are tied to vifd's life (decided once per process). */
export function childGuard(): ChildGuard {
  if (guard) return guard;
  const path = nativeHelperPath('vifd-guard', 'VIFD_GUARD');
  if (executable(path)) guard = { kind: 'guard', path };
  else {
    const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find(executable);
    guard = setpriv ? { kind: 'setpriv', path: setpriv } : { kind: 'none' };
  }
  return guard;
}

/** The argv that runs `file args` so that it dies with this process. Every
 * child vifd starts comes through here, so this is where spawns are counted. */
export function guarded(file: string, args: readonly string[]): { file: string; args: string[] } {
  countCommand(basename(file));
  const g = childGuard();
  switch (g.kind) {
    case 'guard':
      return { file: g.path, args: [String(process.pid), file, ...args] };
    case 'setpriv':
      return { file: g.path, args: ['--pdeathsig', 'KILL', '--', file, ...args] };
    case 'none':
      return { file, args: [...args] };
  }
}

/** execa, through the guard. */
export function execaGuarded<O extends Options>(file: string, args: readonly string[], options: O) {
  const g = guarded(file, args);
  return execa(g.file, g.args, options);
}

const GUARD_EXEC_FAILED = /^(?:vifd-guard: cannot run |setpriv: failed to execute )/u;

/** The error that kept a command from starting at all (not found, not
 * executable), whether execa met it or the guard did; undefined if it ran. */
export function spawnFailure(result: { exitCode?: number | undefined; message?: string; cause?: unknown }, stderr: string): Error | undefined {
  if (result.exitCode === undefined) return result.cause instanceof Error ? result.cause : new Error(result.message ?? 'could not start');
  if ((result.exitCode === 126 || result.exitCode === 127) && GUARD_EXEC_FAILED.test(stderr)) {
    return Object.assign(new Error(stderr.trim()), { code: result.exitCode === 127 ? 'ENOENT' : 'EACCES' });
  }
  return undefined;
}

export async function runCommand(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const [file, ...args] = argv;
  if (!file) throw new TypeError('runCommand needs a command');
  try {
    const result = await execaGuarded(file, args, {
      reject: false,
      stripFinalNewline: false,
      timeout: options.timeoutMs ?? 30_000,
      ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
    });
    const stderr = String(result.stderr ?? '');
    const notStarted = spawnFailure(result, stderr);
    const exitCode = result.exitCode ?? -1;
    if (notStarted || (result.failed && !options.allowFailure)) {
      throw new HostCommandError({ command: [...argv], exitCode: notStarted ? undefined : result.exitCode, stderr, cause: notStarted ?? result });
    }
    return { stdout: String(result.stdout), stderr, exitCode };
  } catch (error) {
    if (error instanceof HostCommandError) throw error;
    throw new HostCommandError({ command: [...argv], exitCode: undefined, stderr: String(error), cause: error });
  }
}
