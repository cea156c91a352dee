// One syncfs(2) for a whole filesystem: makes many freshly written files
// durable at once, instead of an fsync per file. Node has no syncfs; an
// fsync of a directory is not enough (it does not flush other files), so
// this runs coreutils `sync -f` through the one process runner.
import { runCommand } from '../host/run.js';

export async function syncFilesystemOf(path: string): Promise<void> {
  await runCommand(['sync', '-f', path]);
}
