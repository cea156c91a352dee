// Names of links vifd is about to create, fsynced before the host batch runs.
// A link can exist for a moment before it carries vifd's marks (a tap is
// created, then marked); if vifd dies in between, the journal lets the next
// start recognise the link as its own instead of a foreign Conflict.
import { readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-write.js';

export class IntentJournal {
  private readonly path: string;
  constructor(stateDir: string) {
    this.path = join(stateDir, 'intent.json');
  }

  async record(names: readonly string[]): Promise<void> {
    await writeFileAtomic(this.path, JSON.stringify({ creating: names }) + '\n');
  }

  async clear(): Promise<void> {
    await unlink(this.path).catch(() => undefined);
  }

  /** Names left by an interrupted run; a corrupt journal counts as empty. */
  async pending(): Promise<{ names: Set<string>; corrupt: boolean }> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch {
      return { names: new Set(), corrupt: false };
    }
    try {
      const value = JSON.parse(text) as { creating?: unknown };
      const names = Array.isArray(value.creating) ? value.creating.filter((n): n is string => typeof n === 'string') : [];
      return { names: new Set(names), corrupt: false };
    } catch {
      return { names: new Set(), corrupt: true };
    }
  }
}
