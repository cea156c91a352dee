// A key's standing note (e.g. "claimed bridge kept") is logged once, not on
// every resync; bounded, since keys come and go.
import type { Logger } from 'pino';
import type { WorkKey } from '../model/work-key.js';

const MAX_NOTES = 10_000;

export class StandingNotes {
  private readonly notes = new Map<WorkKey, string>();

  constructor(private readonly logger: Logger) {}

  note(key: WorkKey, message: string): void {
    if (this.notes.get(key) === message) return;
    this.notes.set(key, message);
    if (this.notes.size > MAX_NOTES) this.notes.clear();
    this.logger.info({ key }, message);
  }

  clear(key: WorkKey): void {
    this.notes.delete(key);
  }
}
