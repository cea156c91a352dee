// In-memory stand-ins for the state directory (status files, intent
// journal), with the shapes the reconciler uses.
import type { BindingStatus } from '../../src/model/status.js';
import type { IntentJournal } from '../../src/state/intent-journal.js';
import type { StatusStore } from '../../src/state/status-store.js';

export class MemoryStatusStore {
  readonly statuses = new Map<string, BindingStatus>();
  summary: object | undefined;
  writes = 0;
  init(): Promise<void> { return Promise.resolve(); }
  discard(): Promise<void> { return Promise.resolve(); }
  writeMany(statuses: readonly BindingStatus[]): Promise<void> {
    for (const s of statuses) this.statuses.set(s.port, s);
    this.writes += statuses.length;
    return Promise.resolve();
  }
  remove(port: string): Promise<void> { this.statuses.delete(port); return Promise.resolve(); }
  readAll(): Promise<{ statuses: BindingStatus[]; corrupt: string[] }> { return Promise.resolve({ statuses: [...this.statuses.values()], corrupt: [] }); }
  writeSummary(summary: object): Promise<void> { this.summary = summary; return Promise.resolve(); }
  asStore(): StatusStore { return this as unknown as StatusStore; }
}

export class MemoryJournal {
  names: string[] = [];
  records = 0;
  record(names: readonly string[]): Promise<void> { this.names = [...names]; this.records++; return Promise.resolve(); }
  clear(): Promise<void> { this.names = []; return Promise.resolve(); }
  pending(): Promise<{ names: Set<string>; corrupt: boolean }> { return Promise.resolve({ names: new Set(this.names), corrupt: false }); }
  asJournal(): IntentJournal { return this as unknown as IntentJournal; }
}
