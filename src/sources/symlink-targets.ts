// Documents that are symlinks to a file deeper in the desired directory
// (`b.json -> conf/b.json`, `..data/b.json`): an in-place write to the target
// raises no event on the directory's own inotify watch, which sees only its
// entries. Their targets are watched here, one chokidar watch per target
// file (a file watch: chokidar re-reads nothing on its events, unlike its
// directory watch, which re-lists and stats a whole directory per event and
// is why the directory itself is watched with one plain inotify watch).
// An event on a target names the entries that point at it.
import { watch, type FSWatcher } from 'chokidar';
import { lstatSync, realpathSync } from 'node:fs';
import { dirname } from 'node:path';

export type TargetWatchFactory = (paths: string[]) => FSWatcher;

const chokidarFiles: TargetWatchFactory = (paths) =>
  watch(paths, { ignoreInitial: true, followSymlinks: false, persistent: true, ignorePermissionErrors: true });

export class SymlinkTargets {
  private readonly entriesOf = new Map<string, Set<string>>();
  private readonly targetOf = new Map<string, string>();
  private watcher: FSWatcher | undefined;

  constructor(
    /** The desired directory: entries directly in it are its own watch's. */
    private readonly dir: string,
    private readonly onChange: (entries: string[]) => void,
    private readonly factory: TargetWatchFactory = chokidarFiles,
  ) {}

  /** An entry was read: watch its target if it is a symlink to a file below
   * the directory (O(1): one lstat, one realpath). */
  track(entry: string): void {
    const target = deepTarget(entry, this.dir);
    const before = this.targetOf.get(entry);
    if (before === target) return;
    if (before !== undefined) this.untrack(entry, before);
    if (target === undefined) return;
    this.targetOf.set(entry, target);
    const entries = this.entriesOf.get(target);
    if (entries) {
      entries.add(entry);
      return;
    }
    this.entriesOf.set(target, new Set([entry]));
    if (this.watcher) this.watcher.add(target);
    else {
      this.watcher = this.factory([target]);
      this.watcher.on('all', (_event, path) => {
        const names = this.entriesOf.get(path);
        if (names) this.onChange([...names]);
      });
      this.watcher.on('error', () => undefined); // a target that goes is an entry the directory watch or resync sees
    }
  }

  /** Watched targets (bounded by the symlinked documents that exist). */
  get size(): number {
    return this.entriesOf.size;
  }

  async close(): Promise<void> {
    await this.watcher?.close();
    this.watcher = undefined;
    this.entriesOf.clear();
    this.targetOf.clear();
  }

  private untrack(entry: string, target: string): void {
    this.targetOf.delete(entry);
    const entries = this.entriesOf.get(target);
    entries?.delete(entry);
    if (entries && entries.size === 0) {
      this.entriesOf.delete(target);
      this.watcher?.unwatch(target);
    }
  }
}

/** The real path of a symlinked entry whose target is a file in a
 * subdirectory of `dir` (the only symlinks vifd follows stay inside it). */
function deepTarget(entry: string, dir: string): string | undefined {
  try {
    if (!lstatSync(entry).isSymbolicLink()) return undefined;
    const target = realpathSync.native(entry);
    const root = realpathSync.native(dir);
    if (!target.startsWith(root + '/') || dirname(target) === root) return undefined;
    return target;
  } catch {
    return undefined;
  }
}
