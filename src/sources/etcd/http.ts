// One HTTP exchange with one etcd endpoint's JSON gateway (node:http, no
// dependency): a plain POST returning JSON, or a streamed POST whose body is a
// sequence of JSON objects (watch, lease keepalive).
import { request, Agent, type ClientRequest } from 'node:http';
import { JsonSplitter } from '../../host/ovsdb/json-splitter.js';
import { EtcdRequestError } from './errors.js';

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** A failure to talk to the endpoint at all (vs. an answer that is an error). */
export class EtcdConnectionError extends Error {
  readonly code = 'ETCD_CONNECTION_FAILED';
  readonly endpoint: string;
  constructor(endpoint: string, cause: unknown) {
    super(`${endpoint}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'EtcdConnectionError';
    this.endpoint = endpoint;
  }
}

function open(endpoint: string, path: string, body: unknown, timeoutMs: number | undefined): ClientRequest {
  const payload = JSON.stringify(body);
  const url = new URL(path, endpoint);
  const req = request(url, {
    method: 'POST',
    agent,
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
    ...(timeoutMs ? { timeout: timeoutMs } : {}),
  });
  req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
  req.end(payload);
  return req;
}

export function postJson<T>(endpoint: string, path: string, body: unknown, timeoutMs = 5000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const req = open(endpoint, path, body, timeoutMs);
    req.on('error', (error) => reject(new EtcdConnectionError(endpoint, error)));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (error) => reject(new EtcdConnectionError(endpoint, error)));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if ((res.statusCode ?? 0) >= 300) {
          reject(new EtcdRequestError({ endpoint, path, httpStatus: res.statusCode ?? 0, body: text }));
          return;
        }
        try {
          resolve(JSON.parse(text) as T);
        } catch (cause) {
          reject(new EtcdRequestError({ endpoint, path, httpStatus: res.statusCode ?? 0, body: text, cause }));
        }
      });
    });
  });
}

export interface Stream {
  /** Resolves when the response ends (or rejects with why it broke). */
  done: Promise<void>;
  close(): void;
}

/** POSTs `body` and calls `onObject` for every JSON object of the streamed answer. */
export function postStream(endpoint: string, path: string, body: unknown, onObject: (value: unknown) => void): Stream {
  const req = open(endpoint, path, body, undefined);
  let closed = false;
  const done = new Promise<void>((resolve, reject) => {
    req.on('error', (error) => (closed ? resolve() : reject(new EtcdConnectionError(endpoint, error))));
    req.on('socket', (socket) => socket.setKeepAlive(true, 2000));
    req.on('response', (res) => {
      if ((res.statusCode ?? 0) >= 300) {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => reject(new EtcdRequestError({ endpoint, path, httpStatus: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() })));
        return;
      }
      const splitter = new JsonSplitter();
      res.on('data', (chunk: Buffer) => {
        try {
          for (const text of splitter.push(chunk)) onObject(JSON.parse(text));
        } catch (error) {
          req.destroy(error as Error);
        }
      });
      res.on('error', (error) => (closed ? resolve() : reject(new EtcdConnectionError(endpoint, error))));
      res.on('end', () => resolve());
      res.on('close', () => resolve());
    });
  });
  return {
    done,
    close() {
      closed = true;
      req.destroy();
    },
  };
}
