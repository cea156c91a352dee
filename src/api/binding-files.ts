// API-made bindings persist as <state-dir>/api-bindings/<port>.json, one
// document per port, written atomically (temp, fsync, rename), so they
// survive restarts and are loaded before the first reconcile.
import { UUID_JSON_FILE } from '../lib/uuid.js';
import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDocumentText, type ParseResult } from '../desired/parse.js';
import type { PortBinding } from '../desired/schema.js';
import { writeFileAtomic } from '../state/atomic-write.js';

export const API_SOURCE_PREFIX = 'api:';
export const apiSourceId = (port: string): string => API_SOURCE_PREFIX + port;

const PORT_FILE = UUID_JSON_FILE;

export interface LoadedApiBinding {
  port: string;
  result: ParseResult;
}

export class ApiBindingFiles {
  readonly dir: string;
  constructor(stateDir: string) {
    this.dir = join(stateDir, 'api-bindings');
  }

  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
  }

  pathOf(port: string): string {
    return join(this.dir, `${port}.json`);
  }

  /** Saves the document as it was sent (a PortBinding or a NeutronPort). */
  async write(port: string, document: unknown): Promise<void> {
    await writeFileAtomic(this.pathOf(port), JSON.stringify(document, null, 2) + '\n');
  }

  async remove(port: string): Promise<void> {
    await unlink(this.pathOf(port)).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }

  /** Every saved binding, parsed like a desired file. A damaged file yields an
   * invalid result for its port (reported Invalid), never a crash. */
  async loadAll(): Promise<LoadedApiBinding[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    const loaded: LoadedApiBinding[] = [];
    for (const name of names.sort()) {
      const port = PORT_FILE.exec(name)?.[1];
      if (!port) continue;
      let result: ParseResult;
      try {
        result = parseDocumentText(await readFile(join(this.dir, name), 'utf8'));
      } catch (error) {
        result = { ok: false, problems: [{ path: '(document)', message: `cannot read: ${(error as Error).message}` }], ports: [port] };
      }
      if (result.ok && (result.bindings.length !== 1 || result.bindings[0]!.port !== port)) {
        result = { ok: false, problems: [{ path: 'port', message: `saved file ${name} must hold exactly the binding of port ${port}` }], ports: [port] };
      }
      // A damaged file speaks only for the port its name gives.
      if (!result.ok) result = { ...result, ports: [port] };
      loaded.push({ port, result });
    }
    return loaded;
  }
}
