// <state-dir>/status/<port>.json, written atomically and only when changed,
// plus <state-dir>/summary.json (counts by phase) for quick polling.
import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { BindingStatus } from '../reconcile/status.js';
import { writeFileAtomic, writeFilesAtomic } from './atomic-write.js';

const PORT_FILE = /^([0-9a-f-]{36})\.json$/u;
/** writeFileAtomic's temp files: `.<name>.<pid>.<n>.tmp`. */
const TEMP_FILE = /^\..+\.\d+\.\d+\.tmp$/u;

export class StatusStore {
  readonly dir: string;
  constructor(readonly stateDir: string) {
    this.dir = join(stateDir, 'status');
  }

  /** Creates the directory and drops temp files a killed run left half
   * written (the caller holds the state-dir lock: no writer is running). */
  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    for (const dir of [this.dir, this.stateDir]) {
      const names = await readdir(dir).catch(() => [] as string[]);
      await Promise.all(names.filter((n) => TEMP_FILE.test(n)).map((n) => unlink(join(dir, n)).catch(() => undefined)));
    }
  }

  /** Removes a corrupt status file; the binding's status is rebuilt from the
   * host and the desired state (and dropped if the port is gone). */
  async discard(fileName: string): Promise<void> {
    if (PORT_FILE.test(fileName)) await unlink(join(this.dir, fileName)).catch(() => undefined);
  }

  /** Writes many statuses with one syncfs (a round can settle thousands). */
  async writeMany(statuses: readonly BindingStatus[]): Promise<void> {
    await writeFilesAtomic(
      this.dir,
      statuses.map((status) => ({ path: join(this.dir, `${status.port}.json`), data: JSON.stringify(status, null, 2) + '\n' })),
    );
  }

  async remove(port: string): Promise<void> {
    await unlink(join(this.dir, `${port}.json`)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }

  /** Reads every status file; unreadable or corrupt ones are skipped and named. */
  async readAll(): Promise<{ statuses: BindingStatus[]; corrupt: string[] }> {
    const statuses: BindingStatus[] = [];
    const corrupt: string[] = [];
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { statuses, corrupt };
      throw error;
    }
    await Promise.all(
      names
        .filter((n) => PORT_FILE.test(n))
        .map(async (name) => {
          try {
            const status = JSON.parse(await readFile(join(this.dir, name), 'utf8')) as BindingStatus;
            if (typeof status.port !== 'string' || typeof status.phase !== 'string') throw new Error('not a status');
            if (`${status.port}.json` !== name) throw new Error('names another port');
            statuses.push(status);
          } catch {
            corrupt.push(name);
          }
        }),
    );
    statuses.sort((a, b) => a.port.localeCompare(b.port));
    return { statuses, corrupt };
  }

  async writeSummary(summary: object): Promise<void> {
    await writeFileAtomic(join(this.stateDir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n', { fsync: false });
  }
}
