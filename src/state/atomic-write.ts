// State files are written atomically: temp file, fsync, rename, so a crash
// leaves either the old or the new content, never half of one.
import { open, rename, unlink, writeFile } from 'node:fs/promises';
import { syncFilesystemOf } from '../host/syncfs.js';
import { dirname, basename, join } from 'node:path';

let counter = 0;

export async function writeFileAtomic(path: string, data: string, options: { fsync?: boolean } = {}): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${counter++}.tmp`);
  const handle = await open(temp, 'w', 0o644);
  try {
    await handle.writeFile(data);
    if (options.fsync !== false) await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
}

/** Many files at once with the same guarantee: all temp files written, made
 * durable by one syncfs, then renamed into place. (Creating a file is the
 * expensive part on these machines, ~0.7 ms each, serialised by the
 * filesystem; the writes stay asynchronous so the event loop is not held.) */
export async function writeFilesAtomic(dir: string, files: ReadonlyArray<{ path: string; data: string }>): Promise<void> {
  if (files.length === 0) return;
  if (files.length === 1) return writeFileAtomic(files[0]!.path, files[0]!.data);
  const temps = files.map((f) => join(dirname(f.path), `.${basename(f.path)}.${process.pid}.${counter++}.tmp`));
  await Promise.all(files.map((f, i) => writeFile(temps[i]!, f.data, { mode: 0o644 })));
  try {
    await syncFilesystemOf(dir);
    await Promise.all(files.map((f, i) => rename(temps[i]!, f.path)));
  } catch (error) {
    await Promise.all(temps.map((t) => unlink(t).catch(() => undefined)));
    throw error;
  }
}
