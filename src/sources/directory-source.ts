// Desired bindings from a directory of JSON files. Events only mark paths
// dirty; a short quiet period folds a burst (atomic replace, rename, many
// files) into one update of the store, then the affected ports are enqueued.
import { watch, type FSWatcher } from 'chokidar';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Logger } from 'pino';
import type { DesiredStore } from '../desired/store.js';
import { listDocumentPaths, loadFiles } from './load-files.js';
import { isDocumentName } from './read-document.js';

export interface DirectorySourceOptions {
  dir: string;
  store: DesiredStore;
  logger: Logger;
  onChange: (ports: Set<string>) => void;
  quietMs?: number;
}

export class DirectorySource {
  private watcher: FSWatcher | undefined;
  private readonly dirty = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();
  private watching: Promise<void> = Promise.resolve();

  constructor(private readonly o: DirectorySourceOptions) {}

  /** Reads every document once (resolves then), and starts watching. The
   * watch is set up in the background: chokidar stats every file of the
   * directory first, which need not delay the first reconcile. Whatever
   * changed before the watch was ready is caught up afterwards. */
  async start(): Promise<void> {
    const loadStarted = Date.now();
    const paths = await listDocumentPaths(this.o.dir);
    await this.load(paths);
    this.watching = this.watch()
      .then(() => this.catchUp(new Set(paths), loadStarted))
      .catch((error: unknown) => this.o.logger.error({ err: error, dir: this.o.dir }, 'directory watch set-up failed'));
  }

  private async watch(): Promise<void> {
    this.watcher = watch(this.o.dir, {
      ignoreInitial: true,
      depth: 0,
      ignored: (path, stats) => path !== this.o.dir && (stats?.isDirectory() === true || !isDocumentName(basename(path))),
    });
    for (const event of ['add', 'change', 'unlink'] as const) {
      this.watcher.on(event, (path: string) => this.markDirty(path));
    }
    this.watcher.on('error', (error) => this.o.logger.error({ err: error, dir: this.o.dir }, 'directory watch error'));
    await new Promise<void>((resolve) => this.watcher!.once('ready', () => resolve()));
  }

  /** Files added, changed or removed while the initial read and the watch
   * set-up overlapped. */
  private async catchUp(loaded: ReadonlySet<string>, since: number): Promise<void> {
    const now = await listDocumentPaths(this.o.dir);
    const stats = await Promise.all(now.map((p) => stat(p).catch(() => undefined)));
    const again = now.filter((p, i) => !loaded.has(p) || (stats[i]?.mtimeMs ?? Infinity) >= since - 20);
    const present = new Set(now);
    const gone = [...loaded].filter((p) => !present.has(p));
    if (again.length + gone.length > 0) await this.load([...again, ...gone]);
  }

  async stop(): Promise<void> {
    await this.watching;
    if (this.timer) clearTimeout(this.timer);
    await this.watcher?.close();
    await this.flushing;
  }

  private markDirty(path: string): void {
    this.dirty.add(path);
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const paths = [...this.dirty];
      this.dirty.clear();
      this.flushing = this.flushing.then(() => this.load(paths)).catch((error: unknown) => this.o.logger.error({ err: error }, 'reading desired files failed'));
    }, this.o.quietMs ?? 30);
  }

  private async load(paths: string[]): Promise<void> {
    const report = await loadFiles(paths, this.o.store);
    for (const { source, problems } of report.invalid) {
      this.o.logger.warn({ source, problems }, 'invalid desired document; its last valid version stays applied');
    }
    if (report.affected.size > 0) this.o.onChange(report.affected);
  }
}
