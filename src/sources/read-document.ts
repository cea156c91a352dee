// Reads one desired-state file from disk into a ParseResult. Refuses files
// over 1 MiB before reading them.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { MAX_DOCUMENT_BYTES, parseDocumentText, type ParseResult } from '../desired/parse.js';

export type ReadOutcome = { exists: false } | { exists: true; result: ParseResult };

const refuse = (message: string): ReadOutcome => ({ exists: true, result: { ok: false, problems: [{ path: '(document)', message }], ports: [] } });

/** Reads one document. Synchronous underneath on purpose: documents are
 * small (≤ 1 MiB) and the four-thread libuv pool made a thousand async
 * open/stat/read/close sequences ~8x slower than doing them in line. */
export async function readDocumentFile(path: string): Promise<ReadOutcome> {
  return readDocumentFileSync(path);
}

export function readDocumentFileSync(path: string): ReadOutcome {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { exists: false };
    return refuse(`cannot read: ${(error as Error).message}`);
  }
  try {
    const info = fstatSync(fd);
    if (!info.isFile()) return { exists: false };
    if (info.size > MAX_DOCUMENT_BYTES) return refuse(`file is ${info.size} bytes, over the ${MAX_DOCUMENT_BYTES}-byte limit`);
    // Read up to one byte past the limit: a file growing while we read is caught too.
    const buffer = Buffer.alloc(Math.min(info.size, MAX_DOCUMENT_BYTES) + 1);
    let length = 0;
    for (;;) {
      const n = readSync(fd, buffer, length, buffer.length - length, length);
      if (n === 0) break;
      length += n;
      if (length === buffer.length) break;
    }
    if (length > MAX_DOCUMENT_BYTES) return refuse(`file is over the ${MAX_DOCUMENT_BYTES}-byte limit`);
    return { exists: true, result: parseDocumentText(buffer.toString('utf8', 0, length)) };
  } catch (error) {
    return refuse(`cannot read: ${(error as Error).message}`);
  } finally {
    closeSync(fd);
  }
}

/** Editor swap files, backups, dotfiles and temp files are not documents. */
export function isDocumentName(name: string): boolean {
  if (name.startsWith('.') || name.startsWith('#') || name.endsWith('~')) return false;
  return name.endsWith('.json');
}
