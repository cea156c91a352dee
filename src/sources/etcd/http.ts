// One HTTP exchange with one etcd endpoint's JSON gateway (node:http, no
// dependency): a plain POST returning JSON, or a streamed POST whose body is a
// sequence of JSON objects (watch, lease keepalive). http:// or https://
// (the caller gives the https agent: CA and client certificate).
import { request, Agent, type ClientRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { errorCode, VifdError } from '../../errors/vifd-error.js';
import { JsonSplitter } from '../../lib/json-splitter.js';
import { EtcdRequestError } from './errors.js';

const plainAgent = new Agent({ keepAlive: true, maxSockets: 64 });

/** How to reach an endpoint: the agent (TLS material) and extra headers (auth token). */
export interface Connection {
  agent?: Agent | undefined;
  headers?: Record<string, string> | undefined;
}

/** Node's codes for "we do not trust the server's certificate". */
const SERVER_CERT_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'CERT_SIGNATURE_FAILURE', 'CERT_UNTRUSTED', 'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID', 'UNABLE_TO_DECRYPT_CERT_SIGNATURE', 'INVALID_CA',
]);

/** Which side a TLS failure is about, or undefined if it is not one. */
export function tlsFailureSide(error: unknown): 'server-certificate' | 'client-certificate' | undefined {
  const code = errorCode(error);
  if (code === undefined) return undefined;
  if (SERVER_CERT_CODES.has(code)) return 'server-certificate';
  // An alert from the server: it refused our certificate (unknown CA, bad,
  // expired, revoked, or none sent while it requires one).
  if (/^ERR_SSL_(TLSV1|TLSV13|SSLV3)_ALERT_/u.test(code)) return 'client-certificate';
  if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) return 'server-certificate';
  return undefined;
}

/** A failure to talk to the endpoint at all (vs. an answer that is an error). */
export class EtcdConnectionError extends VifdError<'ETCD_CONNECTION_FAILED'> {
  readonly endpoint: string;
  /** Set when the TLS handshake failed (a certificate problem, not an outage). */
  readonly tls: 'server-certificate' | 'client-certificate' | undefined;
  constructor(endpoint: string, cause: unknown) {
    const code = errorCode(cause);
    const tls = tlsFailureSide(cause);
    super('ETCD_CONNECTION_FAILED', `${endpoint}: ${cause instanceof Error ? cause.message : String(cause)}${code !== undefined && !String(cause).includes(code) ? ` (${code})` : ''}`, {
      cause,
      fields: { endpoint, tls },
    });
    this.endpoint = endpoint;
    this.tls = tls;
  }
}

function open(endpoint: string, path: string, body: unknown, timeoutMs: number | undefined, conn: Connection): ClientRequest {
  const payload = JSON.stringify(body);
  const url = new URL(path, endpoint);
  const https = url.protocol === 'https:';
  const req = (https ? httpsRequest : request)(url, {
    method: 'POST',
    agent: conn.agent ?? (https ? undefined : plainAgent),
    headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...conn.headers },
    ...(timeoutMs ? { timeout: timeoutMs } : {}),
  });
  req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
  req.end(payload);
  return req;
}

export function postJson<T>(endpoint: string, path: string, body: unknown, timeoutMs = 5000, conn: Connection = {}): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const req = open(endpoint, path, body, timeoutMs, conn);
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
export function postStream(endpoint: string, path: string, body: unknown, onObject: (value: unknown) => void, conn: Connection = {}): Stream {
  const req = open(endpoint, path, body, undefined, conn);
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
