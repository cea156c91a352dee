// One JSON-RPC 1.0 connection to an ovsdb-server over a unix socket
// (RFC 7047 §4): requests matched to replies by id, per-request timeouts,
// answers to the server's `echo`, `update` notifications routed to monitors.
// It does not reconnect: see ReconnectingOvsdbClient.
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { parseOvsdbAddress } from './address.js';
import { OvsdbClosedError, OvsdbConnectError, OvsdbProtocolError, OvsdbRpcError, OvsdbTimeoutError } from './errors.js';
import { JsonSplitter } from '../../lib/json-splitter.js';
import type { MonitorHandle, MonitorSpec, OvsdbMonitorHost, RequestOptions, TableUpdates } from './types.js';

export { parseOvsdbAddress } from './address.js';

export interface OvsdbConnectionOptions {
  /** Default per-request timeout (ms). Default 30 000. */
  requestTimeoutMs?: number;
  /** Timeout of the socket connect (ms). Default 5 000. */
  connectTimeoutMs?: number;
  /** Send an `echo` after this long without traffic and close the connection
   * if it is not answered within another interval. 0 (default) = off: a unix
   * socket reports a dead server by closing. */
  probeIntervalMs?: number;
  maxMessageBytes?: number;
}

interface Pending {
  method: string;
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout | undefined;
}

export interface OvsdbConnectionEvents {
  /** Any server→client notification (`update`, `update2`, `locked`, ...). */
  notification: [method: string, params: unknown];
  /** A `monitor` update: the monitor id and the table updates. */
  update: [monitorId: unknown, updates: TableUpdates];
  /** The connection is gone (once); `cause` when it was not a plain close(). */
  close: [cause: Error | undefined];
}

export class OvsdbConnection extends EventEmitter<OvsdbConnectionEvents> implements OvsdbMonitorHost {
  readonly address: string;
  private readonly socket: net.Socket;
  private readonly splitter: JsonSplitter;
  private readonly requestTimeoutMs: number;
  private readonly pending = new Map<number, Pending>();
  private readonly monitors = new Map<string, MonitorSpec>();
  private nextId = 1;
  private nextMonitor = 1;
  private isClosed = false;
  private probeTimer: NodeJS.Timeout | undefined;
  private lastTraffic = Date.now();
  private probeSentAt: number | undefined;

  /** Opens `unix:PATH`; resolves once the socket is connected. */
  static async connect(address: string, options: OvsdbConnectionOptions = {}): Promise<OvsdbConnection> {
    const { path } = parseOvsdbAddress(address);
    const socket = net.createConnection({ path });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`connect timed out after ${options.connectTimeoutMs ?? 5000} ms`)), options.connectTimeoutMs ?? 5000);
      const fail = (error: Error): void => {
        clearTimeout(timer);
        socket.destroy();
        reject(new OvsdbConnectError({ path, cause: error }));
      };
      socket.once('error', fail);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', fail);
        resolve();
      });
    });
    return new OvsdbConnection(address, socket, options);
  }

  private constructor(address: string, socket: net.Socket, options: OvsdbConnectionOptions) {
    super();
    this.address = address;
    this.socket = socket;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.splitter = new JsonSplitter(options.maxMessageBytes === undefined ? {} : { maxMessageBytes: options.maxMessageBytes });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => this.shutdown(new OvsdbClosedError({ cause: error })));
    socket.on('close', () => this.shutdown(this.splitter.midMessage ? new OvsdbClosedError({ cause: new Error('server closed mid-message') }) : new OvsdbClosedError()));
    if (options.probeIntervalMs) this.startProbe(options.probeIntervalMs);
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Sends a request and resolves with its `result`; rejects with
   * OvsdbRpcError, OvsdbTimeoutError or OvsdbClosedError. */
  request<T = unknown>(method: string, params: unknown[], options: RequestOptions = {}): Promise<T> {
    if (this.isClosed) return Promise.reject(new OvsdbClosedError({ method }));
    const id = this.nextId++;
    const timeoutMs = options.timeoutMs ?? this.requestTimeoutMs;
    return new Promise<T>((resolve, reject) => {
      const entry: Pending = { method, resolve: resolve as (v: unknown) => void, reject, timer: undefined };
      if (timeoutMs > 0 && Number.isFinite(timeoutMs)) {
        entry.timer = setTimeout(() => {
          this.pending.delete(id);
          reject(new OvsdbTimeoutError({ method, timeoutMs }));
        }, timeoutMs);
      }
      this.pending.set(id, entry);
      this.send({ method, params, id });
    });
  }

  /** Sends a notification (no reply expected). */
  notify(method: string, params: unknown[]): void {
    if (!this.isClosed) this.send({ method, params, id: null });
  }

  /** Starts a `monitor` on this connection: `onInitial` gets the reply,
   * `onUpdate` every later `update` notification for it. */
  async startMonitor(spec: MonitorSpec): Promise<MonitorHandle> {
    const id = `vifd-mon-${this.nextMonitor++}`;
    this.monitors.set(id, spec);
    try {
      const initial = await this.request<TableUpdates>('monitor', [spec.db, id, spec.requests]);
      spec.onInitial(initial ?? {});
    } catch (error) {
      this.monitors.delete(id);
      throw error;
    }
    return {
      id,
      cancel: async () => {
        if (!this.monitors.delete(id) || this.isClosed) return;
        await this.request('monitor_cancel', [id]).catch(() => undefined);
      },
    };
  }

  /** Closes the socket; in-flight requests reject with OvsdbClosedError. */
  close(): void {
    this.shutdown(undefined);
    this.socket.end();
    this.socket.destroy();
  }

  private send(message: unknown): void {
    this.socket.write(JSON.stringify(message));
  }

  private onData(chunk: Buffer): void {
    this.lastTraffic = Date.now();
    this.probeSentAt = undefined;
    let texts: string[];
    try {
      texts = this.splitter.push(chunk);
    } catch (error) {
      this.fail(new OvsdbProtocolError({ message: (error as Error).message, excerpt: (error as { excerpt?: string }).excerpt ?? '', cause: error }));
      return;
    }
    for (const text of texts) {
      let message: Record<string, unknown>;
      try {
        message = JSON.parse(text) as Record<string, unknown>;
      } catch (error) {
        this.fail(new OvsdbProtocolError({ message: 'invalid JSON', excerpt: text.slice(0, 200), cause: error }));
        return;
      }
      this.dispatch(message);
      if (this.isClosed) return;
    }
  }

  private dispatch(message: Record<string, unknown>): void {
    const { method, id } = message;
    if (typeof method === 'string') {
      if (method === 'echo' && id !== null && id !== undefined) {
        this.send({ result: message.params ?? [], error: null, id });
        return;
      }
      const params = message.params;
      if (method === 'update' && Array.isArray(params)) {
        const [monitorId, updates] = params as [unknown, TableUpdates];
        this.emit('update', monitorId, updates ?? {});
        const spec = typeof monitorId === 'string' ? this.monitors.get(monitorId) : undefined;
        spec?.onUpdate(updates ?? {});
      }
      this.emit('notification', method, params);
      return;
    }
    if (typeof id !== 'number') return; // a reply to our own echo probe, or junk
    const entry = this.pending.get(id);
    if (!entry) return; // timed out earlier
    this.pending.delete(id);
    if (entry.timer) clearTimeout(entry.timer);
    if (message.error !== null && message.error !== undefined) entry.reject(new OvsdbRpcError({ method: entry.method, rpcError: message.error }));
    else entry.resolve(message.result);
  }

  private startProbe(intervalMs: number): void {
    this.probeTimer = setInterval(() => {
      const now = Date.now();
      if (now - this.lastTraffic < intervalMs) return;
      if (this.probeSentAt !== undefined) {
        if (now - this.probeSentAt >= intervalMs) this.fail(new OvsdbClosedError({ cause: new Error(`echo probe unanswered for ${intervalMs} ms`) }));
        return;
      }
      this.probeSentAt = now;
      this.send({ method: 'echo', params: [], id: 'vifd-probe' });
    }, Math.max(100, Math.floor(intervalMs / 2)));
    this.probeTimer.unref();
  }

  private fail(cause: Error): void {
    this.shutdown(cause);
    this.socket.destroy();
  }

  private shutdown(cause: Error | undefined): void {
    if (this.isClosed) return;
    this.isClosed = true;
    if (this.probeTimer) clearInterval(this.probeTimer);
    this.monitors.clear();
    for (const [id, entry] of this.pending) {
      this.pending.delete(id);
      if (entry.timer) clearTimeout(entry.timer);
      entry.reject(new OvsdbClosedError({ method: entry.method, cause }));
    }
    this.emit('close', cause);
  }
}
