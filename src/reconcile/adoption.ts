// The names vifd may adopt: devices it is creating or created but may not
// have marked yet (a crash between `link add` and the marks). They are
// written to the intent journal before a creating batch runs, and leave it
// once the host shows them marked or gone, so a restarted vifd takes back
// its half-made devices and never a stranger's.
import type { Logger } from 'pino';
import type { HostSnapshot } from '../host/host.js';
import type { OwnershipConfig } from '../model/ownership.js';
import type { IntentJournal } from '../state/intent-journal.js';

export class Adoption {
  private current = new Set<string>();

  constructor(
    private readonly journal: IntentJournal,
    private readonly ownership: OwnershipConfig,
    private readonly logger: Logger,
  ) {}

  /** Names the planner may treat as vifd's although unmarked. */
  get names(): ReadonlySet<string> {
    return this.current;
  }

  /** What an interrupted run left in the journal. */
  async restore(): Promise<void> {
    const journal = await this.journal.pending();
    if (journal.corrupt) this.logger.warn('corrupt intent journal ignored');
    this.current = new Set(journal.names);
    if (journal.names.size > 0) this.logger.info({ names: [...journal.names] }, 'resuming after an interrupted run');
  }

  /** Before a batch creates these: into the journal. A full or read-only
   * state disk must not stop a repair: without the journal, only a crash in
   * the next few ms could leave an unmarked device (then reported as a
   * Conflict, never taken over). */
  async creating(names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    for (const name of names) this.current.add(name);
    await this.journal.record([...this.current]).catch((error: unknown) => this.logger.error({ err: error, names }, 'intent journal not written; creating anyway'));
  }

  /** Whatever holds a name vifd failed to create is not vifd's: out of the journal at once. */
  async notCreated(names: readonly string[]): Promise<void> {
    if (names.length === 0) return;
    for (const name of names) this.current.delete(name);
    await this.journal.record([...this.current]);
  }

  /** Journal names that are now marked (or gone) need no adoption any more. */
  async settle(after: HostSnapshot): Promise<void> {
    let changed = false;
    for (const name of [...this.current]) {
      const link = after.links.links.get(name);
      if (!link || (link.group === this.ownership.group && link.alias !== undefined)) {
        this.current.delete(name);
        changed = true;
      }
    }
    if (!changed) return;
    const write = this.current.size === 0 ? this.journal.clear() : this.journal.record([...this.current]);
    await write.catch((error: unknown) => this.logger.warn({ err: error }, 'intent journal not updated (state directory failing)'));
  }
}
