// Reads one desired-state file from disk into a ParseResult, safely:
// - only regular files are read, and opening never blocks (a FIFO or a device
//   node named *.json is refused, not waited on);
// - a symlink is followed only to a file inside the desired directory (a
//   Kubernetes ConfigMap's `..data` links stay inside); anything else is
//   refused without reading it;
// - files over 1 MiB are refused before reading them;
// - messages never quote the file's content.
import { closeSync, constants, fstatSync, openSync, readSync, realpathSync, statSync, type Stats } from 'node:fs';
import { sep } from 'node:path';
import { MAX_DOCUMENT_BYTES, parseDocumentText, type ParseResult } from '../desired/parse.js';

/** What identifies one version of a file: a new write (even an atomic
 * replace within the same millisecond) changes it. */
export type Fingerprint = string;

export type ReadOutcome = { exists: false } | { exists: true; result: ParseResult; fingerprint: Fingerprint | undefined };

const refuse = (message: string, fingerprint?: Fingerprint): ReadOutcome => ({
  exists: true,
  result: { ok: false, problems: [{ path: '(document)', message }], ports: [] },
  fingerprint,
});

export const fingerprintOf = (info: Stats): Fingerprint => `${info.dev}:${info.ino}:${info.size}:${info.mtimeMs}:${info.ctimeMs}`;

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW;

/** Reads one document. Synchronous underneath on purpose: documents are
 * small (≤ 1 MiB) and the four-thread libuv pool made a thousand async
 * open/stat/read/close sequences ~8x slower than doing them in line.
 * `root` is the desired directory's real path: symlinks must stay in it. */
export async function readDocumentFile(path: string, root?: string): Promise<ReadOutcome> {
  return readDocumentFileSync(path, root);
}

export function readDocumentFileSync(path: string, root?: string): ReadOutcome {
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { exists: false };
    if (code !== 'ELOOP') return refuse(`cannot read: ${code ?? 'error'}`);
    return readSymlinked(path, root);
  }
  return readOpen(fd);
}

function readSymlinked(path: string, root: string | undefined): ReadOutcome {
  let target: string;
  try {
    target = realpathSync.native(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // A dangling link is a document that is not there (yet): ConfigMap swaps pass through this.
    if (code === 'ENOENT' || code === 'ENOTDIR') return { exists: false };
    return refuse(`cannot follow the symlink: ${code ?? 'error'}`);
  }
  if (root !== undefined && !target.startsWith(root.endsWith(sep) ? root : root + sep)) {
    return refuse('is a symlink to a file outside the desired directory: not read');
  }
  try {
    return readOpen(openSync(target, OPEN_FLAGS));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { exists: false };
    return refuse(`cannot read: ${code ?? 'error'}`);
  }
}

function readOpen(fd: number): ReadOutcome {
  try {
    const info = fstatSync(fd);
    const fingerprint = fingerprintOf(info);
    if (info.isDirectory()) return { exists: false };
    if (!info.isFile()) return refuse('is not a regular file (a FIFO, socket or device): not read', fingerprint);
    if (info.size > MAX_DOCUMENT_BYTES) return refuse(`file is ${info.size} bytes, over the ${MAX_DOCUMENT_BYTES}-byte limit`, fingerprint);
    // Read up to one byte past the limit: a file growing while we read is caught too.
    const buffer = Buffer.alloc(Math.min(info.size, MAX_DOCUMENT_BYTES) + 1);
    let length = 0;
    for (;;) {
      const n = readSync(fd, buffer, length, buffer.length - length, length);
      if (n === 0) break;
      length += n;
      if (length === buffer.length) break;
    }
    if (length > MAX_DOCUMENT_BYTES) return refuse(`file is over the ${MAX_DOCUMENT_BYTES}-byte limit`, fingerprint);
    return { exists: true, result: parseDocumentText(buffer.toString('utf8', 0, length)), fingerprint };
  } catch (error) {
    return refuse(`cannot read: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  } finally {
    closeSync(fd);
  }
}

/** Editor swap files, backups, dotfiles and temp files are not documents. */
export function isDocumentName(name: string): boolean {
  if (name.startsWith('.') || name.startsWith('#') || name.endsWith('~')) return false;
  return name.endsWith('.json');
}

/** The fingerprint of what is at `path` now (undefined: nothing there). */
export function currentFingerprint(path: string): Fingerprint | undefined {
  try {
    return fingerprintOf(statSync(path));
  } catch {
    return undefined;
  }
}
