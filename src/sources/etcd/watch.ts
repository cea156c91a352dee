// One watch session on a key prefix: POST /v3/watch with a create_request,
// then a stream of `{"result":{...}}` objects. Reports events in order with
// the revision they bring the watcher to; ends with why it stopped.
import type { Stream } from './http.js';
import type { EtcdClient } from './client.js';
import { b64, decodeKv, int64, prefixRangeEnd, type KeyValue, type RawKv } from './codec.js';
import { EtcdCompactedError, EtcdRequestError, EtcdWatchEndedError } from './errors.js';
import { EtcdConnectionError } from './http.js';

export interface WatchEvent {
  type: 'put' | 'delete';
  kv: KeyValue;
}

export interface WatchHandlers {
  /** The server accepted the watch: the stream is live. */
  onCreated(): void;
  /** Events of one response, and the store revision they are seen at. */
  onEvents(events: WatchEvent[], revision: number): void;
  /** A progress notification: nothing under the prefix changed up to `revision`. */
  onProgress(revision: number): void;
}

interface WatchResponse {
  result?: {
    header?: { revision?: string };
    created?: boolean;
    canceled?: boolean;
    compact_revision?: string;
    cancel_reason?: string;
    events?: Array<{ type?: 'PUT' | 'DELETE'; kv?: RawKv }>;
  };
  error?: { message?: string; grpc_code?: number };
}

export class WatchSession {
  private stream: Stream | undefined;
  private failure: Error | undefined;

  constructor(
    private readonly client: EtcdClient,
    private readonly prefix: string,
    private readonly fromRevision: number,
    private readonly handlers: WatchHandlers,
  ) {}

  /** Runs until the stream ends; always rejects with the reason (or resolves when closed). */
  async run(): Promise<void> {
    const endpoint = this.client.endpoint;
    const stream = await this.client.watchStream(
      {
        create_request: {
          key: b64(this.prefix),
          range_end: prefixRangeEnd(this.prefix),
          start_revision: String(this.fromRevision),
          progress_notify: true,
        },
      },
      (value) => this.handle(value as WatchResponse, endpoint),
    );
    this.stream = stream;
    if (this.closed) stream.close();
    try {
      await stream.done;
    } catch (error) {
      if (!this.failure) throw this.typed(error, endpoint);
    }
    if (this.failure) throw this.failure;
    if (!this.closed) throw new EtcdWatchEndedError({ endpoint, reason: 'stream closed by the server' });
  }

  private closed = false;

  close(): void {
    this.closed = true;
    this.stream?.close();
  }

  /** A broken stream as the error that says why: certificate, permission, or plain. */
  private typed(error: unknown, endpoint: string): unknown {
    if (error instanceof EtcdConnectionError && error.tls) return this.client.tlsError(error);
    if (error instanceof EtcdRequestError) {
      this.client.tokenRejected(error.body);
      return this.client.classify(endpoint, `watch ${this.prefix}`, error.body) ?? error;
    }
    return error;
  }

  private ended(endpoint: string, reason: string): Error {
    this.client.tokenRejected(reason); // the next session authenticates again
    return this.client.classify(endpoint, `watch ${this.prefix}`, reason) ?? new EtcdWatchEndedError({ endpoint, reason });
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.stream?.close();
  }

  private handle(message: WatchResponse, endpoint: string): void {
    if (this.failure || this.closed) return;
    if (message.error) {
      this.fail(this.ended(endpoint, message.error.message ?? JSON.stringify(message.error)));
      return;
    }
    const r = message.result;
    if (!r) return;
    if (r.canceled) {
      const compacted = int64(r.compact_revision);
      this.fail(
        compacted > 0
          ? new EtcdCompactedError({ requestedRevision: this.fromRevision, compactRevision: compacted })
          : this.ended(endpoint, r.cancel_reason || 'canceled by the server'),
      );
      return;
    }
    const revision = int64(r.header?.revision);
    if (r.created) {
      this.handlers.onCreated();
      return;
    }
    if (r.events && r.events.length > 0) {
      const events = r.events.map((e): WatchEvent => ({ type: e.type === 'DELETE' ? 'delete' : 'put', kv: decodeKv(e.kv ?? {}) }));
      const last = events[events.length - 1]!.kv.modRevision;
      this.handlers.onEvents(events, Math.max(last, 0));
    } else if (revision > 0) {
      this.handlers.onProgress(revision);
    }
  }
}
