// One syncfs(2) for a whole filesystem (coreutils `sync -f`): makes many
// freshly written files durable at once, instead of an fsync per file.
import { runCommand } from './run.js';

export async function syncFilesystemOf(path: string): Promise<void> {
  await runCommand(['sync', '-f', path]);
}
