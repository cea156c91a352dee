// Which directory the desired directory is: device, inode and real path.
// A directory removed and recreated, moved away or replaced by a symlink to
// another one has another identity; the source follows the new one and holds
// removals until it settles.
import { statSync } from 'node:fs';
import { realDir } from './load-files.js';

export interface Identity {
  dev: number;
  ino: number;
  real: string;
}

export function identityOf(dir: string): Identity | undefined {
  try {
    const info = statSync(dir);
    if (!info.isDirectory()) return undefined;
    return { dev: info.dev, ino: info.ino, real: realDir(dir) };
  } catch {
    return undefined;
  }
}

export const sameIdentity = (a: Identity | undefined, b: Identity | undefined): boolean =>
  a !== undefined && b !== undefined && a.dev === b.dev && a.ino === b.ino && a.real === b.real;
