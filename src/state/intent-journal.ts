// Names of links vifd is about to create, written before the host batch runs.
// A link can exist for a moment before it carries vifd's marks (a tap is
// created, then marked); if vifd dies in between, the journal lets the next
// start recognise the link as its own instead of a foreign Conflict.
//
// Written atomically (temp file, rename) but not fsynced: what it guards
// against is vifd's own death, and a file written before a process dies is
// in the page cache for the next start. Only a crash of the whole host could
// lose it, and that takes the links it names with it (no netdev outlives a
// reboot). An fsync here cost a repair its largest wait. It is written on
// the event loop's own thread (a quarter of a millisecond): through libuv's
// pool it would queue behind every status file being written.
//
// When the state directory cannot be written (full, read-only), the journal
// goes to the runtime directory instead (/run/vifd, or systemd's
// RUNTIME_DIRECTORY): a repair must not wait for the state disk, and a crash
// in that moment must not leave a device vifd can never take back. /run is
// cleared at boot, when such half-made devices are gone too.
import { createHash } from 'node:crypto';
import { unlinkSync } from 'node:fs';
import { mkdir, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { writeFileAtomicNow } from './atomic-write.js';
import { asObject, readJsonState } from './json-state-file.js';

export const DEFAULT_RUNTIME_DIR = '/run/vifd';

export class IntentJournal {
  private readonly path: string;
  private readonly fallbackDir: string;
  private readonly fallback: string;
  /** Whether a fallback file may exist (unknown at start: yes). */
  private fallbackMayExist = true;

  constructor(stateDir: string, runtimeDir: string = process.env['RUNTIME_DIRECTORY']?.split(':')[0] ?? DEFAULT_RUNTIME_DIR) {
    this.path = join(stateDir, 'intent.json');
    this.fallbackDir = runtimeDir;
    // One per state directory (several vifd may share /run).
    const id = createHash('sha256').update(resolve(stateDir)).digest('hex').slice(0, 16);
    this.fallback = join(runtimeDir, `intent-${id}.json`);
  }

  /** Throws only when neither the state directory nor the runtime directory takes it. */
  async record(names: readonly string[]): Promise<void> {
    const text = JSON.stringify({ creating: names }) + '\n';
    try {
      writeFileAtomicNow(this.path, text);
      if (this.fallbackMayExist) {
        await unlink(this.fallback).catch(() => undefined); // the primary is current again
        this.fallbackMayExist = false;
      }
    } catch (primary) {
      try {
        await mkdir(this.fallbackDir, { recursive: true, mode: 0o700 });
        this.fallbackMayExist = true;
        writeFileAtomicNow(this.fallback, text);
      } catch {
        throw primary;
      }
    }
  }

  async clear(): Promise<void> {
    // On this thread too (see above): a round clears it as it ends.
    for (const path of [this.path, this.fallback]) {
      try {
        unlinkSync(path);
      } catch {
        // not there
      }
    }
    this.fallbackMayExist = false;
  }

  /** Names left by an interrupted run (both places); a corrupt journal counts as empty. */
  async pending(): Promise<{ names: Set<string>; corrupt: boolean }> {
    const [a, b] = await Promise.all([readJournal(this.path), readJournal(this.fallback)]);
    return { names: new Set([...a.names, ...b.names]), corrupt: a.corrupt || b.corrupt };
  }
}

async function readJournal(path: string): Promise<{ names: string[]; corrupt: boolean }> {
  const { value, corrupt } = await readJsonState(path, (json) => {
    const journal = asObject(json);
    if (journal === undefined) return undefined;
    const creating = journal['creating'];
    return Array.isArray(creating) ? creating.filter((n): n is string => typeof n === 'string') : [];
  });
  return { names: value ?? [], corrupt };
}
