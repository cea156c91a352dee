// Reads a set of desired-state files into the store.
import { readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { DesiredStore } from '../desired/store.js';
import { fingerprintOf, isDocumentName, readDocumentFileSync, type Fingerprint } from './read-document.js';

export const FILE_SOURCE_PREFIX = 'file:';

export const fileSourceId = (path: string): string => FILE_SOURCE_PREFIX + basename(path);

export interface LoadReport {
  affected: Set<string>;
  invalid: Array<{ source: string; problems: Array<{ path: string; message: string }> }>;
  /** path → the fingerprint of the version now in the store (undefined: gone). */
  read: Map<string, Fingerprint | undefined>;
}

/** `root`: the desired directory's real path (symlinks must stay inside). */
export function loadFiles(paths: readonly string[], store: DesiredStore, root?: string): LoadReport {
  const report: LoadReport = { affected: new Set(), invalid: [], read: new Map() };
  for (const path of paths) {
    const outcome = readDocumentFileSync(path, root);
    const id = fileSourceId(path);
    const ports = outcome.exists ? store.set(id, outcome.result) : store.delete(id);
    if (outcome.exists && !outcome.result.ok) report.invalid.push({ source: id, problems: outcome.result.problems });
    report.read.set(path, outcome.exists ? (outcome.fingerprint ?? statFingerprint(path)) : undefined);
    for (const port of ports) report.affected.add(port);
  }
  return report;
}

export function listDocumentPaths(dir: string): string[] {
  return readdirSync(dir).filter(isDocumentName).sort().map((n) => join(dir, n));
}

export function realDir(dir: string): string {
  return realpathSync.native(dir);
}

/** For a refused file read without a fingerprint (a symlink out of the directory). */
function statFingerprint(path: string): Fingerprint {
  try {
    return fingerprintOf(statSync(path));
  } catch {
    return 'unreadable';
  }
}
