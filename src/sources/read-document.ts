// Reads one desired-state file from disk into a ParseResult. Refuses files
// over 1 MiB before reading them.
import { readFile, stat } from 'node:fs/promises';
import { MAX_DOCUMENT_BYTES, parseDocumentText, type ParseResult } from '../desired/parse.js';

export type ReadOutcome = { exists: false } | { exists: true; result: ParseResult };

export async function readDocumentFile(path: string): Promise<ReadOutcome> {
  try {
    const info = await stat(path);
    if (!info.isFile()) return { exists: false };
    if (info.size > MAX_DOCUMENT_BYTES) {
      return {
        exists: true,
        result: { ok: false, problems: [{ path: '(document)', message: `file is ${info.size} bytes, over the ${MAX_DOCUMENT_BYTES}-byte limit` }], ports: [] },
      };
    }
    return { exists: true, result: parseDocumentText(await readFile(path, 'utf8')) };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { exists: false };
    return { exists: true, result: { ok: false, problems: [{ path: '(document)', message: `cannot read: ${(error as Error).message}` }], ports: [] } };
  }
}

/** Editor swap files, backups, dotfiles and temp files are not documents. */
export function isDocumentName(name: string): boolean {
  if (name.startsWith('.') || name.startsWith('#') || name.endsWith('~')) return false;
  return name.endsWith('.json');
}
