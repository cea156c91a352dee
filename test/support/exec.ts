// One command, asynchronously, as an argv array (no shell): for harnesses
// that poll the host while vifd runs and must not block their own timers.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

/** stdout of the command; on failure throws with its stderr (or returns '' with allowFailure). */
export async function run(argv: readonly string[], options: { allowFailure?: boolean } = {}): Promise<string> {
  const [file, ...args] = argv;
  try {
    const { stdout } = await execFileP(file!, args, { maxBuffer: 256 * 1024 * 1024, encoding: 'utf8', timeout: 60_000 });
    return stdout;
  } catch (error) {
    if (options.allowFailure) return '';
    const e = error as { stderr?: string; message?: string };
    throw new Error(`${argv.join(' ')}: ${(e.stderr ?? e.message ?? String(error)).trim()}`);
  }
}
