// Writes <state-dir>/associations.json in order, retrying while the state
// disk fails (full, read-only) until a write lands.
import type { Logger } from 'pino';
import type { AssociationRecord, AssociationStore } from '../../state/association-store.js';

export class AssociationWriter {
  private writes: Promise<void> = Promise.resolve();
  private retry: NodeJS.Timeout | undefined;

  constructor(
    private readonly store: Pick<AssociationStore, 'write'>,
    private readonly logger: Logger,
    private readonly records: () => AssociationRecord[],
  ) {}

  /** Queues a write of the current records. */
  persist(): void {
    this.writes = this.writes
      .then(() => this.store.write(this.records()))
      .catch((error: unknown) => {
        this.logger.error({ err: error }, 'could not write associations.json; retrying');
        if (this.retry) return;
        this.retry = setTimeout(() => {
          this.retry = undefined;
          this.persist();
        }, 2000);
        this.retry.unref();
      });
  }

  /** Every write queued so far has finished. */
  idle(): Promise<void> {
    return this.writes;
  }
}
