// The one place that starts host processes: argv arrays only, never a shell.
import { execa } from 'execa';
import { HostCommandError } from '../errors/host-errors.js';

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

let commandsRun = 0;

/** How many host commands this process has run (for metrics). */
export function hostCommandCount(): number {
  return commandsRun;
}

export async function runCommand(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const [file, ...args] = argv;
  if (!file) throw new TypeError('runCommand needs a command');
  commandsRun++;
  try {
    const result = await execa(file, args, {
      reject: false,
      stripFinalNewline: false,
      timeout: options.timeoutMs ?? 30_000,
      ...(options.input === undefined ? { stdin: 'ignore' as const } : { input: options.input }),
    });
    const exitCode = result.exitCode ?? -1;
    if (result.failed && (result.exitCode === undefined || !options.allowFailure)) {
      throw new HostCommandError({ command: [...argv], exitCode: result.exitCode, stderr: String(result.stderr ?? ''), cause: result });
    }
    return { stdout: String(result.stdout), stderr: String(result.stderr), exitCode };
  } catch (error) {
    if (error instanceof HostCommandError) throw error;
    throw new HostCommandError({ command: [...argv], exitCode: undefined, stderr: String(error), cause: error });
  }
}
