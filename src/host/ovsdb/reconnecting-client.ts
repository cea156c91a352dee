// An OVSDB client that stays connected: reconnects with capped exponential
// backoff, re-establishes its monitors on every new connection (their
// `onInitial` gets the full contents again), and reports `connected` /
// `disconnected`. Requests made while disconnected wait for the connection
// (up to their timeout); requests in flight when it drops fail with
// OvsdbClosedError and are not retried (a transaction may have committed).
import { EventEmitter } from 'node:events';
import { backoffDelay } from '../../lib/backoff.js';
import { parseOvsdbAddress } from './address.js';
import { OvsdbConnection, type OvsdbConnectionOptions } from './connection.js';
import { OvsdbNotConnectedError } from './errors.js';
import type { MonitorHandle, MonitorSpec, OvsdbMonitorHost, RequestOptions } from './types.js';

export interface ReconnectingClientOptions extends OvsdbConnectionOptions {
  /** First retry delay (ms). Default 100. */
  minBackoffMs?: number;
  /** Cap of the retry delay (ms). Default 5 000. */
  maxBackoffMs?: number;
}

export interface ReconnectingClientEvents {
  /** A connection is up and every monitor is re-established. */
  connected: [info: { address: string; attempt: number }];
  /** The connection was lost (not emitted for close()). */
  disconnected: [cause: Error | undefined];
  /** A connect attempt failed; the next one is in `delayMs`. */
  reconnectFailed: [error: Error, info: { attempt: number; delayMs: number }];
  /** A monitor was refused by the server (bad request); it is dropped. */
  monitorFailed: [error: Error, spec: MonitorSpec];
}

interface MonitorEntry {
  spec: MonitorSpec;
  handle: MonitorHandle | undefined;
  settle: ((error?: Error) => void) | undefined;
}

export class ReconnectingOvsdbClient extends EventEmitter<ReconnectingClientEvents> implements OvsdbMonitorHost {
  readonly address: string;
  private readonly options: ReconnectingClientOptions;
  private readonly monitors = new Set<MonitorEntry>();
  private readonly waiters = new Set<() => void>();
  private conn: OvsdbConnection | undefined;
  private ready: OvsdbConnection | undefined;
  private running = false;
  private closed = false;
  private wake: (() => void) | undefined;

  constructor(address: string, options: ReconnectingClientOptions = {}) {
    super();
    parseOvsdbAddress(address); // validate early
    this.address = address;
    this.options = options;
  }

  get connected(): boolean {
    return this.ready !== undefined && !this.ready.closed;
  }

  /** Starts connecting (idempotent); resolves once connected or after `timeoutMs`
   * (rejecting with OvsdbNotConnectedError). The client keeps retrying either way. */
  async start(timeoutMs = this.options.requestTimeoutMs ?? 30_000): Promise<void> {
    if (!this.running && !this.closed) {
      this.running = true;
      void this.loop();
    }
    await this.waitConnected('start', timeoutMs);
  }

  async request<T = unknown>(method: string, params: unknown[], options: RequestOptions = {}): Promise<T> {
    const timeoutMs = options.timeoutMs ?? this.options.requestTimeoutMs ?? 30_000;
    const started = Date.now();
    const conn = await this.waitConnected(method, timeoutMs);
    return conn.request<T>(method, params, { timeoutMs: Math.max(1, timeoutMs - (Date.now() - started)) });
  }

  /** Registers a monitor, kept across reconnects. Resolves once its first
   * initial contents were delivered (waiting for a connection if needed). */
  async startMonitor(spec: MonitorSpec): Promise<MonitorHandle> {
    const entry: MonitorEntry = { spec, handle: undefined, settle: undefined };
    const first = new Promise<void>((resolve, reject) => {
      entry.settle = (error) => (error ? reject(error) : resolve());
    });
    this.monitors.add(entry);
    if (this.ready && !this.ready.closed) void this.establish(this.ready, entry);
    else if (!this.running) void this.start().catch(() => undefined);
    await first;
    return {
      get id() {
        return entry.handle?.id ?? '';
      },
      cancel: async () => {
        this.monitors.delete(entry);
        await entry.handle?.cancel();
      },
    };
  }

  /** Stops reconnecting and closes the connection. */
  close(): void {
    this.closed = true;
    this.wake?.();
    const conn = this.conn;
    this.conn = this.ready = undefined;
    conn?.close();
    for (const entry of this.monitors) entry.settle?.(new OvsdbNotConnectedError({ address: this.address, method: 'monitor' }));
    this.monitors.clear();
    for (const w of this.waiters) w();
  }

  private async loop(): Promise<void> {
    const backoff = { baseMs: this.options.minBackoffMs ?? 100, maxMs: this.options.maxBackoffMs ?? 5_000 };
    // Attempts since the last ready connection: a ready one that is lost
    // retries after the shortest delay, a failing one backs off.
    let attempt = 0;
    while (!this.closed) {
      attempt++;
      let conn: OvsdbConnection;
      try {
        conn = await OvsdbConnection.connect(this.address, this.options);
      } catch (error) {
        const delay = backoffDelay(attempt, backoff);
        this.emit('reconnectFailed', error as Error, { attempt, delayMs: delay });
        await this.sleep(delay);
        continue;
      }
      if (this.closed) {
        conn.close();
        break;
      }
      this.conn = conn;
      const lost = new Promise<Error | undefined>((resolve) => conn.once('close', resolve));
      for (const entry of this.monitors) {
        await this.establish(conn, entry);
        if (conn.closed) break;
      }
      if (!conn.closed) {
        this.ready = conn;
        this.emit('connected', { address: this.address, attempt });
        attempt = 0;
        for (const w of this.waiters) w();
      }
      const cause = await lost;
      const wasReady = this.ready === conn;
      if (this.conn === conn) this.conn = undefined;
      if (wasReady) this.ready = undefined;
      if (this.closed) break;
      if (wasReady) this.emit('disconnected', cause);
      await this.sleep(backoffDelay(attempt, backoff));
    }
  }

  private async establish(conn: OvsdbConnection, entry: MonitorEntry): Promise<void> {
    try {
      entry.handle = await conn.startMonitor(entry.spec);
      entry.settle?.();
      entry.settle = undefined;
    } catch (error) {
      if (conn.closed) return; // retried on the next connection
      this.monitors.delete(entry);
      entry.settle?.(error as Error);
      this.emit('monitorFailed', error as Error, entry.spec);
    }
  }

  private async waitConnected(method: string, timeoutMs: number): Promise<OvsdbConnection> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.closed) throw new OvsdbNotConnectedError({ address: this.address, method, cause: new Error('client closed') });
      if (this.ready && !this.ready.closed) return this.ready;
      if (!this.running) void this.start().catch(() => undefined);
      const left = deadline - Date.now();
      if (left <= 0) throw new OvsdbNotConnectedError({ address: this.address, method });
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.waiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, left);
        this.waiters.add(done);
      });
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }
}
