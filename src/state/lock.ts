// One vifd per state directory, arbitrated by the kernel: the holder binds an
// abstract unix socket named after the directory's real path (abstract names
// vanish with the process that bound them: no stale lock after a SIGKILL, and
// no window in which a half-written lock file can be taken for a stale one).
// The lock file beside it only says who holds the lock, for the error.
// (Abstract sockets belong to a network namespace: vifd itself always runs in
// the host's and manages others through `ip -n`.)
import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { VifdError } from '../errors/vifd-error.js';

export class StateLockedError extends VifdError<'STATE_DIR_LOCKED'> {
  constructor(
    readonly stateDir: string,
    readonly holderPid: number | undefined,
  ) {
    super('STATE_DIR_LOCKED', `another vifd${holderPid ? ` (pid ${holderPid})` : ''} already runs on state directory ${stateDir}`, { fields: { stateDir, holderPid } });
  }
}

export interface StateLock {
  release(): Promise<void>;
}

/** The abstract socket name that stands for the lock of this state directory. */
export function lockName(stateDir: string): string {
  const real = realpathSync.native(stateDir);
  return `\0vifd-state-lock/${createHash('sha256').update(real).digest('hex').slice(0, 40)}`;
}

function bind(name: string): Promise<Server | undefined> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => (error.code === 'EADDRINUSE' ? resolve(undefined) : reject(error)));
    server.listen({ path: name, exclusive: true }, () => {
      server.unref(); // the lock must not keep the process alive by itself
      resolve(server);
    });
  });
}

export async function lockStateDir(stateDir: string): Promise<StateLock> {
  const path = join(stateDir, 'vifd.lock');
  const server = await bind(lockName(stateDir));
  if (!server) {
    const pid = Number.parseInt((await readFile(path, 'utf8').catch(() => '')).trim().split(/\s+/u)[0] ?? '', 10);
    throw new StateLockedError(stateDir, Number.isInteger(pid) && pid > 0 ? pid : undefined);
  }
  await writeFile(path, `${process.pid}\n`, { mode: 0o600 });
  return {
    async release() {
      await unlink(path).catch(() => undefined);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
