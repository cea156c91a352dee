// A small client of the vifd API (unix socket or loopback TCP), used by
// `vifd status`, the tests and the benchmark.
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { createInterface } from 'node:readline';
import { VifdError } from '../errors/vifd-error.js';
import type { ApiAddress } from './address.js';
import type { WatchEvent } from './watch-hub.js';

export interface ApiResponse<T = unknown> {
  status: number;
  headers: IncomingHttpHeaders;
  body: T;
  text: string;
}

export interface WatchConnection {
  /** Resolves when the stream ends (closed by either side). */
  done: Promise<void>;
  close(): void;
}

/** The server could not be reached (not an HTTP error status). */
export class ApiUnreachableError extends VifdError<'API_UNREACHABLE'> {
  constructor(readonly where: string, cause: unknown) {
    super('API_UNREACHABLE', `cannot reach vifd at ${where}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause, fields: { where } });
  }
}

/** A watch the server refused (an HTTP status), or a line of it that is not JSON. */
export class ApiWatchError extends VifdError<'API_WATCH_REFUSED' | 'API_WATCH_BAD_LINE'> {}

export class ApiClient {
  private readonly agent: Agent;

  constructor(readonly address: ApiAddress, private readonly token?: string, maxSockets = 16) {
    this.agent = new Agent({ keepAlive: true, maxSockets });
  }

  private where(): string {
    return this.address.kind === 'unix' ? `unix:${this.address.path}` : `tcp:${this.address.host}:${this.address.port}`;
  }

  private options(method: string, path: string, headers: Record<string, string | number>) {
    const target = this.address.kind === 'unix' ? { socketPath: this.address.path } : { host: this.address.host, port: this.address.port };
    const auth = this.token ? { authorization: `Bearer ${this.token}` } : {};
    return { ...target, method, path, agent: this.agent, headers: { ...auth, ...headers } };
  }

  /** One request; the body (if any) is sent as JSON unless it is a string or Buffer. */
  request<T = unknown>(method: string, path: string, body?: unknown, headers: Record<string, string | number> = {}): Promise<ApiResponse<T>> {
    const payload = body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
    const extra: Record<string, string | number> = payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) };
    return new Promise((resolve, reject) => {
      const req = request(this.options(method, path, { ...extra, ...headers }), (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          if ((res.headers['content-type'] ?? '').includes('json') && text !== '') {
            try {
              parsed = JSON.parse(text);
            } catch {
              parsed = text;
            }
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed as T, text });
        });
      });
      req.on('error', (error) => reject(new ApiUnreachableError(this.where(), error)));
      req.end(payload);
    });
  }

  /** Follows GET /v1/watch (NDJSON); calls onEvent for every event. */
  watch(since: number | undefined, onEvent: (event: WatchEvent) => void, onError: (error: Error) => void = () => undefined): WatchConnection {
    const path = since === undefined ? '/v1/watch' : `/v1/watch?since=${since}`;
    // Its own connection: a stream holds it for as long as it lasts.
    const options = { ...this.options('GET', path, { accept: 'application/x-ndjson' }), agent: false as const };
    let close = () => undefined as void;
    const done = new Promise<void>((resolve) => {
      const req = request(options, (res) => {
        if (res.statusCode !== 200) {
          onError(new ApiWatchError('API_WATCH_REFUSED', `watch answered HTTP ${res.statusCode}`, { fields: { where: this.where(), status: res.statusCode } }));
          res.resume();
          res.on('end', resolve);
          return;
        }
        const lines = createInterface({ input: res });
        lines.on('error', () => undefined); // readline re-emits the stream's error (an aborted stream)
        lines.on('line', (line) => {
          if (line.trim() === '') return;
          try {
            onEvent(JSON.parse(line) as WatchEvent);
          } catch (error) {
            onError(new ApiWatchError('API_WATCH_BAD_LINE', `watch sent a line that is not JSON: ${(error as Error).message}`, { cause: error, fields: { where: this.where(), bytes: line.length } }));
          }
        });
        res.on('close', resolve);
        res.on('error', () => resolve());
      });
      req.on('error', (error) => {
        onError(new ApiUnreachableError(this.where(), error));
        resolve();
      });
      req.on('close', resolve);
      req.end();
      close = () => void req.destroy();
    });
    return { done, close: () => close() };
  }

  destroy(): void {
    this.agent.destroy();
  }
}
