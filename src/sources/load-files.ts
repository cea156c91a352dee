// Reads a set of desired-state files into the store, in parallel chunks.
import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { DesiredStore } from '../desired/store.js';
import { isDocumentName, readDocumentFile } from './read-document.js';

export const FILE_SOURCE_PREFIX = 'file:';
const READ_CONCURRENCY = 128;

export const fileSourceId = (path: string): string => FILE_SOURCE_PREFIX + basename(path);

export interface LoadReport {
  affected: Set<string>;
  invalid: Array<{ source: string; problems: Array<{ path: string; message: string }> }>;
}

export async function loadFiles(paths: readonly string[], store: DesiredStore): Promise<LoadReport> {
  const report: LoadReport = { affected: new Set(), invalid: [] };
  for (let i = 0; i < paths.length; i += READ_CONCURRENCY) {
    const chunk = paths.slice(i, i + READ_CONCURRENCY);
    const outcomes = await Promise.all(chunk.map((p) => readDocumentFile(p)));
    chunk.forEach((path, j) => {
      const outcome = outcomes[j]!;
      const id = fileSourceId(path);
      const ports = outcome.exists ? store.set(id, outcome.result) : store.delete(id);
      if (outcome.exists && !outcome.result.ok) report.invalid.push({ source: id, problems: outcome.result.problems });
      for (const port of ports) report.affected.add(port);
    });
  }
  return report;
}

export async function listDocumentPaths(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter(isDocumentName).sort().map((n) => join(dir, n));
}
