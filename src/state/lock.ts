// One vifd per state directory: an exclusive lock file holding the pid. A lock
// left by a dead process (SIGKILL) is taken over.
import { readFileSync } from 'node:fs';
import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';

export class StateLockedError extends Error {
  readonly code = 'STATE_DIR_LOCKED';
  constructor(readonly stateDir: string, readonly holderPid: number) {
    super(`another vifd (pid ${holderPid}) already runs on state directory ${stateDir}`);
    this.name = 'StateLockedError';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The process's start time (clock ticks since boot, /proc/PID/stat field
 * 22): with the pid it names one process, even after the pid is reused. */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

export interface StateLock {
  release(): Promise<void>;
}

export async function lockStateDir(stateDir: string): Promise<StateLock> {
  const path = join(stateDir, 'vifd.lock');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o644);
      await handle.writeFile(`${process.pid} ${startTime(process.pid) ?? ''}\n`);
      await handle.sync();
      await handle.close();
      return { release: () => unlink(path).catch(() => undefined) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const [pidText, started] = (await readFile(path, 'utf8').catch(() => '')).trim().split(/\s+/u);
      const pid = Number.parseInt(pidText ?? '', 10);
      // Same pid but another start time: the holder died and its pid was reused.
      const reused = started !== undefined && started !== '' && startTime(pid) !== undefined && startTime(pid) !== started;
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid) && !reused) throw new StateLockedError(stateDir, pid);
      await unlink(path).catch(() => undefined); // stale: its holder is gone
    }
  }
  throw new Error(`could not take the lock ${path}`);
}
