// Test helpers around the API client: wait for the daemon's socket, and a
// watch that keeps every event and lets a test wait for a condition.
import type { ApiClient } from '../../src/api/client.js';
import type { WatchEvent } from '../../src/api/watch-hub.js';
import type { BindingStatus } from '../../src/model/status.js';
import { waitFor } from './vifd-process.js';

export async function waitForApi(client: ApiClient, timeoutMs = 20_000): Promise<void> {
  await waitFor(async () => (await client.request('GET', '/readyz')).status === 200, timeoutMs, 'the API to be ready');
}

/** Follows the watch stream, keeping the latest status per port. */
export class RecordingWatch {
  readonly events: WatchEvent[] = [];
  readonly statuses = new Map<string, BindingStatus>();
  lastRevision: number | undefined;
  private readonly connection;

  constructor(client: ApiClient, since?: number) {
    this.connection = client.watch(since, (event) => {
      this.events.push(event);
      this.lastRevision = event.revision;
      if (event.type === 'RESET') this.statuses.clear();
      if (event.type === 'ADDED' || event.type === 'MODIFIED') this.statuses.set(event.port, event.status);
      if (event.type === 'DELETED') this.statuses.delete(event.port);
    });
  }

  get done(): Promise<void> {
    return this.connection.done;
  }

  until(check: (w: RecordingWatch) => boolean, what: string, timeoutMs = 20_000): Promise<void> {
    return waitFor(() => check(this), timeoutMs, what);
  }

  close(): void {
    this.connection.close();
  }
}
