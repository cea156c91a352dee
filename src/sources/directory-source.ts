// Desired bindings from a directory of JSON files.
//
// Events only mark names dirty; a short quiet period folds a burst (atomic
// replace, rename, many files) into one update of the store, then the
// affected ports are enqueued. What makes it trustworthy:
// - every inotify event counts, each for the one entry it names (one watch
//   on the directory, directory-watch.ts: an event costs O(1), however many
//   files there are);
// - each file's version in the store is remembered by its fingerprint
//   (device, inode, size, mtime, ctime); a re-check shortly after each read
//   and the periodic resync() re-read whatever differs, so the last write
//   always wins;
// - a removal is applied only once the directory is seen intact: a
//   directory that vanished, was moved away or replaced (rm -rf; mkdir) never
//   means "everything deleted". While it is missing, nothing is removed; once
//   a directory is there again (recreated, or a symlink to another one), it
//   is followed: its files apply at once, removals after it has been quiet
//   for a settle period.
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { DesiredStore } from '../desired/store.js';
import { SymlinkTargets, type TargetWatchFactory } from './symlink-targets.js';
import { isWatchLimit, watchDirectory, type DirectoryWatch, type WatchFactory } from './directory-watch.js';
import { identityOf, sameIdentity, type Identity } from './directory-identity.js';
import { listDocumentPaths, loadFiles } from './load-files.js';
import { currentFingerprint, isDocumentName, type Fingerprint } from './read-document.js';

export interface DirectorySourceOptions {
  dir: string;
  store: DesiredStore;
  logger: Logger;
  onChange: (ports: Set<string>) => void;
  quietMs?: number;
  /** A read is checked again this long after it (catches a write that raced it). */
  recheckMs?: number;
  /** How often the directory itself is checked (gone, moved, replaced). */
  identityMs?: number;
  /** After the directory came back, removals wait until it was quiet this long. */
  settleMs?: number;
  /** While the watch cannot be set up (inotify limits: EMFILE, ENOSPC), the
   * directory is polled this often and the watch retried every retryWatchMs. */
  pollMs?: number;
  retryWatchMs?: number;
  /** After a burst of this many events, the directory is resynced: inotify
   * drops events beyond its queue (16384 by default) while we are busy
   * reading, without saying which. */
  burstEvents?: number;
  /** The directory watch (tests give one that fails). */
  watchFactory?: WatchFactory;
  /** The symlink targets' watch (tests give their own). */
  targetWatchFactory?: TargetWatchFactory;
}

/** Process CPU (user + system) since `since`, in microseconds: all of the
 * process's threads, measured around synchronous code only. */
function cpuMicrosSince(since: NodeJS.CpuUsage): number {
  const { user, system } = process.cpuUsage(since);
  return user + system;
}


export class DirectorySource {
  private watcher: DirectoryWatch | undefined;
  private identity: Identity | undefined;
  /** path → fingerprint of the version in the store (present files only). */
  private readonly known = new Map<string, Fingerprint>();
  private readonly dirty = new Set<string>();
  private readonly rechecks = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  /** Until then, events belong to the burst under way (read at its end). */
  private quietUntil = 0;
  private recheckTimer: NodeJS.Timeout | undefined;
  private identityTimer: NodeJS.Timeout | undefined;
  private settleTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  /** Removals wait until then (after the directory came back). */
  private settleUntil = 0;
  private missing = false;
  private stopped = false;
  private readonly resyncs = { count: 0, cpuSeconds: 0 };
  /** Events since the last batch was read. */
  private events = 0;
  private flushing: Promise<void> = Promise.resolve();
  private watching: Promise<void> = Promise.resolve();

  /** In-place writes to the targets of symlinked documents (chokidar). */
  private readonly targets: SymlinkTargets;

  constructor(private readonly o: DirectorySourceOptions) {
    this.targets = new SymlinkTargets(o.dir, (entries) => this.enqueue(entries), o.targetWatchFactory);
  }

  /** True while the directory is missing (removals are held). */
  get directoryMissing(): boolean {
    return this.missing;
  }

  /** Reads every document once (resolves then), and starts watching. The
   * watch is set up in the background, which need not delay the first
   * reconcile. Whatever changed before the watch was ready is caught up
   * afterwards (a resync). */
  async start(): Promise<void> {
    this.identity = identityOf(this.o.dir);
    if (!this.identity) throw new Error(`desired directory ${this.o.dir} is not a directory`);
    this.load(listDocumentPaths(this.o.dir));
    this.watching = this.watch()
      .then(() => this.resync())
      .catch((error: unknown) => this.watchFailed(error));
    this.identityTimer = setInterval(() => this.checkIdentity(), this.o.identityMs ?? 1000);
    this.identityTimer.unref();
  }

  /** Compares the directory with what the store holds and reads whatever
   * differs: new, changed (by fingerprint) and removed files. The periodic
   * resync calls it: events may be lost, the directory is the truth. It
   * costs one stat per file; only files that differ are read and parsed. */
  async resync(): Promise<void> {
    if (!this.checkIdentity()) return;
    const started = performance.now();
    const cpu = process.cpuUsage();
    let paths: string[];
    try {
      paths = listDocumentPaths(this.o.dir);
    } catch {
      return; // vanished meanwhile: the identity check handles it
    }
    const present = new Set(paths);
    const differ = paths.filter((p) => !this.known.has(p) || this.known.get(p) !== currentFingerprint(p));
    const gone = [...this.known.keys()].filter((p) => !present.has(p));
    let cpuMicros = cpuMicrosSince(cpu);
    if (differ.length + gone.length > 0) {
      this.flushing = this.flushing
        .then(() => {
          const reading = process.cpuUsage();
          this.flush([...differ, ...gone]);
          cpuMicros += cpuMicrosSince(reading);
        })
        .catch((error: unknown) => this.o.logger.error({ err: error }, 'reading desired files failed'));
    }
    await this.flushing;
    this.resyncs.count++;
    this.resyncs.cpuSeconds += cpuMicros / 1e6;
    const changes = differ.length + gone.length;
    this.o.logger[changes > 0 ? 'info' : 'debug'](
      { files: paths.length, changed: differ.length, gone: gone.length, cpuMs: Math.round(cpuMicros / 100) / 10, ms: Math.round(performance.now() - started) },
      'desired directory resynced',
    );
  }

  /** Resyncs so far and the CPU they took (summary counters, exported as metrics). */
  resyncCounters(): { desiredResyncs: number; desiredResyncCpuSeconds: number } {
    return { desiredResyncs: this.resyncs.count, desiredResyncCpuSeconds: this.resyncs.cpuSeconds };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.watching;
    for (const t of [this.timer, this.recheckTimer, this.settleTimer, this.retryTimer]) if (t) clearTimeout(t);
    for (const t of [this.identityTimer, this.pollTimer]) if (t) clearInterval(t);
    await this.watcher?.close();
    await this.targets.close();
    await this.flushing;
  }

  private async watch(): Promise<void> {
    const dir = this.o.dir;
    const watcher = (this.o.watchFactory ?? watchDirectory)(dir);
    this.watcher = watcher;
    // Every inotify event on the directory, one entry each, uncoalesced.
    watcher.on('entry', (name: string | null, type?: string) => {
      this.events++;
      if (!name) void this.resync();
      else if (isDocumentName(name)) {
        const path = join(dir, name);
        // Only an entry that is there now: a removal waits for quiet (an
        // `rm -rf` of the directory is told by the directory's going, not
        // by its files' disappearing one by one).
        this.enqueue([path], undefined, type === 'rename' && currentFingerprint(path) !== undefined);
      }
      else if (name.startsWith('..')) void this.resync(); // a ConfigMap-style `..data` swap
      else this.checkIdentity(); // the directory itself may have gone
    });
    await new Promise<void>((resolve, reject) => {
      let ready = false;
      watcher.once('ready', () => {
        ready = true;
        resolve();
      });
      watcher.on('error', (error) => {
        if (!ready) reject(error);
        else if (isWatchLimit(error)) this.watchFailed(error);
        else this.o.logger.error({ err: error, dir }, 'directory watch error');
      });
    });
    if (this.pollTimer) {
      clearInterval(this.pollTimer);
      this.pollTimer = undefined;
      this.o.logger.info({ dir }, 'desired directory watched again: polling stopped');
    }
  }

  /** The watch could not be set up (or died): the directory is polled (a
   * resync: one stat per file) until a retried watch works. Nothing is
   * missed meanwhile, only later. */
  private watchFailed(error: unknown): void {
    if (this.stopped) return;
    const pollMs = this.o.pollMs ?? 2000;
    if (!this.pollTimer) {
      this.o.logger.error({ err: error, dir: this.o.dir, pollMs }, 'desired directory watch failed: polling the directory until the watch can be set up again');
      this.pollTimer = setInterval(() => void this.resync().catch(() => undefined), pollMs);
      this.pollTimer.unref();
    }
    if (this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      const old = this.watcher;
      this.watcher = undefined;
      this.watching = (old?.close() ?? Promise.resolve())
        .then(() => (this.stopped ? undefined : this.watch()))
        .then(() => this.resync())
        .catch((e: unknown) => this.watchFailed(e));
    }, this.o.retryWatchMs ?? 30_000);
    this.retryTimer.unref();
  }

  /** The directory is still the one watched. If it vanished or was replaced,
   * says so, holds removals and follows the new one when it is there. */
  private checkIdentity(): boolean {
    if (this.stopped) return false;
    const now = identityOf(this.o.dir);
    if (sameIdentity(now, this.identity)) return true;
    if (!now) {
      if (!this.missing) {
        this.missing = true;
        this.o.logger.warn({ dir: this.o.dir, bindings: this.known.size }, 'desired directory is gone: nothing is removed until it is back');
      }
      return false;
    }
    // A directory is there again, or another one (moved, recreated, symlink swapped).
    this.o.logger.warn({ dir: this.o.dir, real: now.real, wasMissing: this.missing }, 'desired directory replaced: following the new one (removals wait until it settles)');
    this.missing = false;
    this.identity = now;
    this.settleUntil = Date.now() + (this.o.settleMs ?? 2000);
    const old = this.watcher;
    this.watcher = undefined;
    this.watching = (old?.close() ?? Promise.resolve())
      .then(() => (this.stopped ? undefined : this.watch()))
      .then(() => this.resync())
      .catch((error: unknown) => this.watchFailed(error));
    return false;
  }

  /** Read once the events stop for quietMs (a burst is read once, in one
   * batch; a file written in place is read once it is written; a removal
   * waits too). An entry renamed into place (how atomic writers publish a
   * complete file) after a quiet spell is read at once: one new binding
   * waits for nothing. */
  private enqueue(paths: Iterable<string>, quietMs = this.o.quietMs ?? 30, renamed = false): void {
    for (const p of paths) this.dirty.add(p);
    const now = Date.now();
    const quiet = renamed && !this.timer && now >= this.quietUntil;
    this.quietUntil = now + quietMs;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const batch = [...this.dirty];
      this.dirty.clear();
      // A resync after a burst costs one stat per file for thousands of
      // events: what the kernel may have dropped is found at once.
      const burst = this.events >= (this.o.burstEvents ?? 4096);
      this.events = 0;
      this.flushing = this.flushing
        .then(() => {
          this.flush(batch);
          if (burst) void this.resync();
        })
        .catch((error: unknown) => this.o.logger.error({ err: error }, 'reading desired files failed'));
    }, quiet ? 0 : quietMs);
  }

  private flush(paths: string[]): void {
    if (this.stopped) return;
    if (!this.checkIdentity()) return; // resync() reads everything once it is back
    const gone = new Set(paths.filter((p) => currentFingerprint(p) === undefined && this.known.has(p)));
    const removable = Date.now() >= this.settleUntil;
    if (!removable && gone.size > 0) {
      if (!this.settleTimer) {
        this.settleTimer = setTimeout(() => {
          this.settleTimer = undefined;
          void this.resync();
        }, this.settleUntil - Date.now() + 10);
      }
    }
    this.load(removable ? paths : paths.filter((p) => !gone.has(p)));
  }

  private load(paths: string[]): void {
    if (paths.length === 0) return;
    const report = loadFiles(paths, this.o.store, this.identity?.real);
    for (const [path, fingerprint] of report.read) {
      if (fingerprint === undefined) this.known.delete(path);
      else this.known.set(path, fingerprint);
      this.rechecks.add(path);
      this.targets.track(path);
    }
    for (const { source, problems } of report.invalid) {
      this.o.logger.warn({ source, problems }, 'invalid desired document; its last valid version stays applied');
    }
    this.scheduleRecheck();
    this.o.onChange(report.affected); // even when empty: the list of invalid documents may have changed
  }

  /** Shortly after a read, the file is looked at once more: a write that
   * landed just after the read (and whose event was folded into the one
   * that made us read) is read too. */
  private scheduleRecheck(): void {
    if (this.recheckTimer || this.stopped) return;
    this.recheckTimer = setTimeout(() => {
      this.recheckTimer = undefined;
      const paths = [...this.rechecks];
      this.rechecks.clear();
      const differ = paths.filter((p) => this.known.get(p) !== currentFingerprint(p));
      if (differ.length > 0) this.enqueue(differ, 0);
    }, this.o.recheckMs ?? 150);
    this.recheckTimer.unref();
  }
}

