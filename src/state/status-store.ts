// <state-dir>/status/<port>.json, written atomically and only when changed,
// plus <state-dir>/summary.json (counts by phase) for quick polling.
//
// A write that fails (a full or read-only filesystem) is kept and retried
// with backoff until it lands; the others of the same round land on their
// own. While writes fail, health() says so (readiness and the summary show
// it); the host work that needs no disk goes on.
import { chmod, mkdir, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { isPortId } from '../desired/port-id.js';
import { errorCode, VifdError } from '../errors/vifd-error.js';
import { backoffDelay } from '../lib/backoff.js';
import { UUID_JSON_FILE } from '../lib/uuid.js';
import type { BindingStatus } from '../model/status.js';
import { STATE_DIR_MODE, writeFileAtomic, writeFilesAtomic } from './atomic-write.js';
import { asObject, readJsonState } from './json-state-file.js';

/** writeFileAtomic's temp files: `.<name>.<pid>.<n>.tmp`. */
const TEMP_FILE = /^\..+\.\d+\.\d+\.tmp$/u;
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 30_000;

export class NotAPortIdError extends VifdError<'NOT_A_PORT_ID'> {
  constructor(readonly value: string) {
    super('NOT_A_PORT_ID', `refusing to use ${JSON.stringify(value.slice(0, 64))} as a port id in a state file name`, { fields: { value: value.slice(0, 64) } });
  }
}

export interface StateHealth {
  ok: boolean;
  /** The last write error while failing (code and message). */
  error?: string;
  /** Writes waiting to land. */
  pending: number;
  since?: string;
}

export interface StatusStoreOptions {
  /** Called when writes start or stop failing. */
  onHealth?: (health: StateHealth) => void;
}

/** The status in file `name`: a status, and of the port the name says. */
function statusNamed(name: string, json: unknown): BindingStatus | undefined {
  const status = asObject(json);
  if (typeof status?.['port'] !== 'string' || typeof status['phase'] !== 'string') return undefined;
  return `${status['port']}.json` === name ? (status as unknown as BindingStatus) : undefined;
}

/** The status file of a port: only ever a canonical UUID names a file. */
function fileOf(dir: string, port: string): string {
  if (!isPortId(port)) throw new NotAPortIdError(port);
  return join(dir, `${port}.json`);
}

export class StatusStore {
  readonly dir: string;
  /** port → the content still to write, or null: the file still to remove. */
  private readonly pending = new Map<string, string | null>();
  private summary: string | undefined;
  /** The last summary written, without its time and round count. */
  private lastSummaryMeaning: string | undefined;
  private failing: { error: string; since: string } | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Failed flushes in a row: the retry's backoff. */
  private retries = 0;
  private flushing: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    readonly stateDir: string,
    private readonly options: StatusStoreOptions = {},
  ) {
    this.dir = join(stateDir, 'status');
  }

  /** Creates the directory and drops temp files a killed run left half
   * written (the caller holds the state-dir lock: no writer is running). */
  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: STATE_DIR_MODE });
    await chmod(this.dir, STATE_DIR_MODE).catch(() => undefined);
    for (const dir of [this.dir, this.stateDir]) {
      const names = await readdir(dir).catch(() => [] as string[]);
      await Promise.all(names.filter((n) => TEMP_FILE.test(n)).map((n) => unlink(join(dir, n)).catch(() => undefined)));
    }
  }

  health(): StateHealth {
    const pending = this.pending.size + (this.summary === undefined ? 0 : 1);
    return this.failing ? { ok: false, error: this.failing.error, since: this.failing.since, pending } : { ok: true, pending };
  }

  /** Removes a corrupt status file; the binding's status is rebuilt from the
   * host and the desired state (and dropped if the port is gone). */
  async discard(fileName: string): Promise<void> {
    if (UUID_JSON_FILE.test(fileName)) await unlink(join(this.dir, fileName)).catch(() => undefined);
  }

  /** Writes many statuses with one syncfs (a round can settle thousands).
   * Never throws for a failing disk: what does not land is retried. */
  async writeMany(statuses: readonly BindingStatus[]): Promise<void> {
    for (const status of statuses) {
      fileOf(this.dir, status.port);
      this.pending.set(status.port, JSON.stringify(status, null, 2) + '\n');
    }
    await this.flush();
  }

  async remove(port: string): Promise<void> {
    fileOf(this.dir, port);
    this.pending.set(port, null);
    await this.flush();
  }

  /** Writes summary.json when what it says changed: its `at` and round
   * count alone do not make a write (a round that changed nothing, like one
   * woken by vifd's own device events, costs no file write). */
  async writeSummary(summary: Record<string, unknown> & { at?: string; rounds?: number }): Promise<void> {
    const full = { ...summary, stateDir: this.failing ? `failing: ${this.failing.error}` : 'ok' };
    const { at: _at, rounds: _rounds, ...said } = full;
    const meaning = JSON.stringify(said);
    if (meaning === this.lastSummaryMeaning) return;
    this.lastSummaryMeaning = meaning;
    this.summary = JSON.stringify(full, null, 2) + '\n';
    await this.flush();
  }

  /** Stops retrying (what is still pending is lost with the process, and
   * rebuilt from the host at the next start). */
  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }

  /** Reads every status file; unreadable or corrupt ones are skipped and named. */
  async readAll(): Promise<{ statuses: BindingStatus[]; corrupt: string[] }> {
    const statuses: BindingStatus[] = [];
    const corrupt: string[] = [];
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return { statuses, corrupt };
      throw error;
    }
    await Promise.all(
      names
        .filter((n) => UUID_JSON_FILE.test(n))
        .map(async (name) => {
          const { value, corrupt: bad } = await readJsonState(join(this.dir, name), (json) => statusNamed(name, json));
          if (value) statuses.push(value);
          else if (bad) corrupt.push(name);
        }),
    );
    statuses.sort((a, b) => a.port.localeCompare(b.port));
    return { statuses, corrupt };
  }

  /** One flush at a time; a flush takes everything pending when it starts. */
  private flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.flushOnce());
    return this.flushing;
  }

  private async flushOnce(): Promise<void> {
    if (this.pending.size === 0 && this.summary === undefined) return;
    const taken = new Map(this.pending);
    const summary = this.summary;
    const writes = [...taken].filter((e): e is [string, string] => e[1] !== null).map(([port, data]) => ({ port, path: fileOf(this.dir, port), data }));
    const removals = [...taken].filter(([, data]) => data === null).map(([port]) => port);
    const errors: Error[] = [];
    const failed = new Set((await writeFilesAtomic(this.dir, writes)).map((f) => (errors.push(f.error), f.path)));
    await Promise.all(
      removals.map(async (port) => {
        try {
          await unlink(fileOf(this.dir, port));
        } catch (error) {
          if (errorCode(error) === 'ENOENT') return;
          errors.push(error as Error);
          failed.add(fileOf(this.dir, port));
        }
      }),
    );
    for (const [port, data] of taken) {
      // Landed, and not changed again meanwhile: no longer pending.
      if (!failed.has(fileOf(this.dir, port)) && this.pending.get(port) === data) this.pending.delete(port);
    }
    if (summary !== undefined) {
      try {
        await writeFileAtomic(join(this.stateDir, 'summary.json'), summary, { fsync: false });
        if (this.summary === summary) this.summary = undefined;
      } catch (error) {
        errors.push(error as Error);
      }
    }
    this.settle(errors);
  }

  private settle(errors: Error[]): void {
    if (errors.length === 0) {
      if (this.failing) {
        this.failing = undefined;
        this.retries = 0;
        this.options.onHealth?.(this.health());
      }
      return;
    }
    const first = errors[0]!;
    const error = `${errorCode(first) ?? 'ERROR'}: ${first.message}`;
    const wasOk = this.failing === undefined;
    this.failing = { error, since: this.failing?.since ?? new Date().toISOString() };
    if (wasOk) this.options.onHealth?.(this.health());
    if (this.stopped || this.retryTimer) return;
    const delay = backoffDelay(++this.retries, { baseMs: RETRY_MIN_MS, maxMs: RETRY_MAX_MS });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.flush();
    }, delay);
    this.retryTimer.unref();
  }
}
