// A small etcd v3 client over the JSON gateway, for several endpoints: a call
// goes to the endpoint that answered last, and fails over to the next ones
// when it cannot connect. An error *answer* is not retried elsewhere.
// https:// endpoints use the TLS material of TlsAgents (re-read on change);
// with a user, calls carry the token of POST /v3/auth/authenticate, got again
// when etcd says it is invalid (simple tokens expire when unused for
// --auth-token-ttl) and before a JWT token's `exp`.
import { readFileSync } from 'node:fs';
import { b64, decodeKv, int64, prefixRangeEnd, unb64, type KeyValue, type RawKv } from './codec.js';
import { EtcdAuthError, EtcdPasswordFileError, EtcdPermissionError, EtcdRequestError, EtcdTlsHandshakeError, EtcdUnavailableError } from './errors.js';
import { EtcdConnectionError, postJson, postStream, type Connection, type Stream } from './http.js';
import type { TlsAgents } from './tls.js';

interface Header {
  revision?: string;
}

export interface RangeResult {
  kvs: KeyValue[];
  revision: number;
}

export type TxnOp = { put: { key: string; value: string; lease?: string } } | { delete: { key: string } };

export interface EtcdAuthOptions {
  user: string;
  /** Read at each authentication (a rotated password is picked up). */
  passwordFile: string;
}

export interface EtcdClientOptions {
  tls?: TlsAgents | undefined;
  auth?: EtcdAuthOptions | undefined;
  /** Called when a counter of `stats` moved (to publish it). */
  onStats?: (() => void) | undefined;
}

/** Failures worth a metric: certificates, credentials, permissions. */
export interface EtcdClientStats {
  tlsHandshakeFailures: number;
  authFailures: number;
  permissionDenied: number;
  /** Tokens obtained (the first, and every refresh). */
  authentications: number;
}

const TOKEN_INVALID = /invalid auth token|auth token is invalid|user name is empty|user name not found/iu;
const AUTH_FAILED = /authentication failed|invalid user ID or password/iu;
const PERMISSION_DENIED = /permission denied/iu;
/** etcd >= 3.4 with auth on refuses gateway requests whose client certificate has a CommonName. */
const GATEWAY_CN = /CommonName of client sending a request against gateway/iu;

/** The message of a gateway error body (`{"error": ..., "code": N}`), or the text. */
function errorText(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown; message?: unknown };
    const text = parsed.message ?? parsed.error;
    return typeof text === 'string' ? text : body.trim();
  } catch {
    return body.trim();
  }
}

/** Reads a password file: its first line, without the line end. */
export function readPasswordFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new EtcdPasswordFileError(file, `cannot read: ${(cause as Error).message}`, cause);
  }
  const password = text.split(/\r?\n/u)[0] ?? '';
  if (password === '') throw new EtcdPasswordFileError(file, 'empty (the password is its first line)');
  return password;
}

/** What a request was about, for messages: "range /vifd/v1/hosts/b/bindings/". */
function describe(path: string, body: unknown): string {
  const op = path.split('/').pop() ?? path;
  const key = (body as { key?: unknown; create_request?: { key?: unknown } } | undefined);
  const k = typeof key?.key === 'string' ? key.key : typeof key?.create_request?.key === 'string' ? key.create_request.key : undefined;
  return k ? `${op} ${unb64(k)}` : op;
}

export class EtcdClient {
  private current = 0;
  private token: string | undefined;
  private tokenRefreshAt = Infinity;
  private authenticating: Promise<string> | undefined;
  readonly stats: EtcdClientStats = { tlsHandshakeFailures: 0, authFailures: 0, permissionDenied: 0, authentications: 0 };

  constructor(
    readonly endpoints: readonly string[],
    private readonly timeoutMs = 5000,
    private readonly options: EtcdClientOptions = {},
  ) {}

  private count(stat: keyof EtcdClientStats): void {
    this.stats[stat]++;
    this.options.onStats?.();
  }

  /** The endpoint calls go to first. */
  get endpoint(): string {
    return this.endpoints[this.current]!;
  }

  get user(): string | undefined {
    return this.options.auth?.user;
  }

  /** Moves on to the next endpoint (after a stream broke). */
  failover(): void {
    this.current = (this.current + 1) % this.endpoints.length;
    this.options.tls?.recheck(); // a reconnect is the moment to pick up rotated certificates
  }

  private connection(headers?: Record<string, string>): Connection {
    return { agent: this.options.tls?.agent(), headers };
  }

  /** An etcd error answer as a typed error (permission, credentials), else undefined. */
  classify(endpoint: string, what: string, text: string): Error | undefined {
    if (GATEWAY_CN.test(text)) {
      this.count('authFailures');
      return new EtcdAuthError({
        endpoint,
        user: this.user,
        reason: `etcd refuses client certificates with a CommonName on its JSON gateway when authentication is on (CN-based auth is gRPC-only): use a certificate without CN (e.g. subject /O=vifd/OU=<host>) for TLS, and --etcd-user/--etcd-password-file for the identity${this.options.tls?.files.cert ? ` (--etcd-cert ${this.options.tls.files.cert})` : ''}`,
      });
    }
    if (PERMISSION_DENIED.test(text)) {
      this.count('permissionDenied');
      return new EtcdPermissionError({ endpoint, what, user: this.user });
    }
    if (AUTH_FAILED.test(text)) {
      this.count('authFailures');
      return new EtcdAuthError({ endpoint, user: this.user, reason: `${errorText(text)}${this.options.auth ? ` (--etcd-password-file ${this.options.auth.passwordFile})` : ''}` });
    }
    if (TOKEN_INVALID.test(text) && !this.options.auth) {
      this.count('authFailures');
      return new EtcdAuthError({ endpoint, reason: `${errorText(text)}: etcd has authentication enabled; give --etcd-user and --etcd-password-file` });
    }
    return undefined;
  }

  /** True (and the token is dropped) when `text` says the token is no longer valid. */
  tokenRejected(text: string): boolean {
    if (!this.options.auth || !TOKEN_INVALID.test(text)) return false;
    this.token = undefined;
    return true;
  }

  private async authHeaders(): Promise<Record<string, string> | undefined> {
    if (!this.options.auth) return undefined;
    if (this.token === undefined || Date.now() >= this.tokenRefreshAt) {
      this.authenticating ??= this.authenticate().finally(() => (this.authenticating = undefined));
      await this.authenticating;
    }
    return { authorization: this.token! };
  }

  private async authenticate(): Promise<string> {
    const { user, passwordFile } = this.options.auth!;
    let password: string;
    try {
      password = readPasswordFile(passwordFile);
    } catch (cause) {
      this.count('authFailures');
      throw new EtcdAuthError({ endpoint: this.endpoint, user, reason: `cannot read --etcd-password-file ${passwordFile}: ${(cause as Error).message}`, cause });
    }
    let res: { token?: string };
    try {
      res = await this.send<{ token?: string }>('/v3/auth/authenticate', { name: user, password }, undefined);
    } catch (error) {
      if (error instanceof EtcdRequestError) {
        const typed = this.classify(error.endpoint, 'authenticate', error.body);
        if (typed) throw typed;
        this.count('authFailures');
        throw new EtcdAuthError({ endpoint: error.endpoint, user, reason: errorText(error.body), cause: error });
      }
      throw error;
    }
    if (!res.token) throw new EtcdAuthError({ endpoint: this.endpoint, user, reason: 'no token in the answer' });
    this.token = res.token;
    this.tokenRefreshAt = jwtRefreshAt(res.token) ?? Infinity;
    this.count('authentications');
    return res.token;
  }

  /** One request with failover over the endpoints on connection failures. */
  private async send<T>(path: string, body: unknown, headers: Record<string, string> | undefined): Promise<T> {
    let lastError: unknown;
    let tlsError: EtcdConnectionError | undefined;
    for (let i = 0; i < this.endpoints.length; i++) {
      const index = (this.current + i) % this.endpoints.length;
      try {
        const result = await postJson<T>(this.endpoints[index]!, path, body, this.timeoutMs, this.connection(headers));
        this.current = index;
        return result;
      } catch (error) {
        if (!(error instanceof EtcdConnectionError)) throw error;
        if (error.tls) tlsError = error;
        lastError = error;
      }
    }
    if (tlsError) throw this.tlsError(tlsError);
    throw new EtcdUnavailableError({ endpoints: [...this.endpoints], path, cause: lastError });
  }

  /** A failed handshake as a clear error naming the file involved. */
  tlsError(error: EtcdConnectionError): EtcdTlsHandshakeError {
    this.count('tlsHandshakeFailures');
    const files = this.options.tls?.files;
    const cause = error.cause as { message?: string; code?: string } | undefined;
    const message = cause?.message ?? error.message;
    const alert = /alert ([a-z ]+?)(?::|$)/mu.exec(message)?.[1];
    return new EtcdTlsHandshakeError({
      endpoint: error.endpoint,
      side: error.tls ?? 'server-certificate',
      reason: `${alert ? `TLS alert "${alert}" from the server` : message}${cause?.code ? ` (${cause.code})` : ''}`,
      file: error.tls === 'client-certificate' ? files?.cert : files?.cacert,
      cause: error,
    });
  }

  async call<T>(path: string, body: unknown): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.send<T>(path, body, await this.authHeaders());
      } catch (error) {
        if (!(error instanceof EtcdRequestError)) throw error;
        if (attempt === 0 && this.tokenRejected(error.body)) continue; // expired token: authenticate again, once
        throw this.classify(error.endpoint, describe(path, body), error.body) ?? error;
      }
    }
  }

  /** Every key under `prefix`, with the store revision of the read. */
  async rangePrefix(prefix: string, options: { keysOnly?: boolean; limit?: number } = {}): Promise<RangeResult> {
    const res = await this.call<{ header?: Header; kvs?: RawKv[] }>('/v3/kv/range', {
      key: b64(prefix),
      range_end: prefixRangeEnd(prefix),
      ...(options.keysOnly ? { keys_only: true } : {}),
      ...(options.limit ? { limit: options.limit } : {}),
    });
    return { kvs: (res.kvs ?? []).map(decodeKv), revision: int64(res.header?.revision) };
  }

  async put(key: string, value: string, lease?: string): Promise<number> {
    const res = await this.call<{ header?: Header }>('/v3/kv/put', { key: b64(key), value: b64(value), ...(lease ? { lease } : {}) });
    return int64(res.header?.revision);
  }

  async deleteKey(key: string): Promise<void> {
    await this.call('/v3/kv/deleterange', { key: b64(key) });
  }

  /** Several puts and deletes in one request (one revision). */
  async txn(ops: readonly TxnOp[]): Promise<void> {
    const success = ops.map((op) =>
      'put' in op
        ? { request_put: { key: b64(op.put.key), value: b64(op.put.value), ...(op.put.lease ? { lease: op.put.lease } : {}) } }
        : { request_delete_range: { key: b64(op.delete.key) } },
    );
    await this.call('/v3/kv/txn', { success });
  }

  /** A new lease; returns its id (a decimal string: 64-bit). */
  async leaseGrant(ttlSeconds: number): Promise<{ id: string; ttl: number }> {
    const res = await this.call<{ ID?: string; TTL?: string }>('/v3/lease/grant', { TTL: ttlSeconds });
    if (!res.ID) throw new EtcdUnavailableError({ endpoints: [...this.endpoints], path: '/v3/lease/grant', cause: new Error('no lease id in answer') });
    return { id: res.ID, ttl: int64(res.TTL) };
  }

  /** Refreshes a lease; returns its remaining TTL, 0 when it no longer exists. */
  async leaseKeepAlive(id: string): Promise<number> {
    const res = await this.call<{ result?: { TTL?: string } }>('/v3/lease/keepalive', { ID: id });
    return int64(res.result?.TTL);
  }

  async leaseRevoke(id: string): Promise<void> {
    await this.call('/v3/lease/revoke', { ID: id });
  }

  /** Opens a watch stream on the current endpoint. `hasleader`: the member
   * cancels the watch when it loses its leader (partitioned), so vifd fails
   * over instead of waiting on a member that no longer sees writes. */
  async watchStream(body: unknown, onObject: (value: unknown) => void): Promise<Stream> {
    const headers = { ...(await this.authHeaders()), 'grpc-metadata-hasleader': 'true' };
    return postStream(this.endpoint, '/v3/watch', body, onObject, this.connection(headers));
  }
}

/** When to get a new JWT token (before its `exp`); undefined for simple tokens. */
export function jwtRefreshAt(token: string, now = Date.now()): number | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as { exp?: unknown };
    if (typeof payload.exp !== 'number') return undefined;
    const exp = payload.exp * 1000;
    return exp - Math.min(60_000, Math.max(1000, (exp - now) / 5));
  } catch {
    return undefined;
  }
}
