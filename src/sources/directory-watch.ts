// One inotify watch on the desired directory itself: each event names the
// one entry that changed, so an event costs O(1) whatever the directory
// holds. (chokidar, as used before, re-read and stat'ed every entry on each
// event and added one more watch per file.) What it does not see: a write to
// the target of a symlinked document outside this directory's own entries;
// such targets change by a swap of an entry here (a ConfigMap's `..data`),
// and the periodic resync catches the rest.
import { EventEmitter } from 'node:events';
import { watch, type FSWatcher } from 'node:fs';

/** Emits 'ready' once watching, 'error' (the watch failed or died) and
 * 'entry' with the changed entry's name (null: unknown, look at them all)
 * and the kind of event ('rename': the entry came, went or was replaced,
 * as an atomic writer's rename does; 'change': its content was written). */
export interface DirectoryWatch extends EventEmitter {
  close(): Promise<void>;
}

export type WatchFactory = (dir: string) => DirectoryWatch;

export const watchDirectory: WatchFactory = (dir) => {
  const events = new EventEmitter() as DirectoryWatch;
  let watcher: FSWatcher | undefined;
  let closed = false;
  events.close = async () => {
    closed = true;
    watcher?.close();
  };
  // Asynchronous like a watch that may fail: listeners are attached first.
  setImmediate(() => {
    if (closed) return;
    try {
      watcher = watch(dir, (type, name) => events.emit('entry', name === null ? null : String(name), type));
    } catch (error) {
      events.emit('error', error);
      return;
    }
    watcher.on('error', (error) => events.emit('error', error));
    events.emit('ready');
  });
  return events;
};

/** inotify ran out of instances or watches (shared by every process of the user). */
export function isWatchLimit(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'EMFILE' || code === 'ENFILE' || code === 'ENOSPC';
}
