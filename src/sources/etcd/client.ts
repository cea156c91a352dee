// A small etcd v3 client over the JSON gateway, for several endpoints: a call
// goes to the endpoint that answered last, and fails over to the next ones
// when it cannot connect. An error *answer* is not retried elsewhere.
// https:// endpoints use the TLS material of TlsAgents (re-read on change);
// with a user, calls carry a token (auth.ts). The calls themselves are in
// kv.ts (KV, txn, lease); error answers become typed errors in answers.ts.
import { classifyAnswer, describeRequest, tlsHandshakeError, type AnswerContext, type EtcdClientStats } from './answers.js';
import { EtcdTokens, type EtcdAuthOptions } from './auth.js';
import { EtcdRequestError, EtcdTlsHandshakeError, EtcdUnavailableError } from './errors.js';
import { EtcdConnectionError, postJson, postStream, type Connection, type Stream } from './http.js';
import * as kv from './kv.js';
import type { RangeResult, TxnOp } from './kv.js';
import type { TlsAgents } from './tls.js';

export type { EtcdClientStats } from './answers.js';
export type { EtcdAuthOptions } from './auth.js';
export { jwtRefreshAt, readPasswordFile } from './auth.js';
export type { RangeResult, TxnOp } from './kv.js';

export interface EtcdClientOptions {
  tls?: TlsAgents | undefined;
  auth?: EtcdAuthOptions | undefined;
  /** Called when a counter of `stats` moved (to publish it). */
  onStats?: (() => void) | undefined;
}

export class EtcdClient implements kv.EtcdCaller {
  private current = 0;
  private readonly tokens: EtcdTokens | undefined;
  private readonly answers: AnswerContext;
  readonly stats: EtcdClientStats = { tlsHandshakeFailures: 0, authFailures: 0, permissionDenied: 0, authentications: 0 };

  constructor(
    readonly endpoints: readonly string[],
    private readonly timeoutMs = 5000,
    private readonly options: EtcdClientOptions = {},
  ) {
    this.answers = {
      tls: options.tls,
      auth: options.auth,
      count: (stat) => {
        this.stats[stat]++;
        this.options.onStats?.();
      },
    };
    this.tokens = options.auth ? new EtcdTokens(options.auth, this.answers, (path, body) => this.send(path, body, undefined), () => this.endpoint) : undefined;
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
    return classifyAnswer(this.answers, endpoint, what, text);
  }

  /** True (and the token is dropped) when `text` says the token is no longer valid. */
  tokenRejected(text: string): boolean {
    return this.tokens?.rejected(text) ?? false;
  }

  /** A failed handshake as a clear error naming the file involved. */
  tlsError(error: EtcdConnectionError): EtcdTlsHandshakeError {
    return tlsHandshakeError(this.answers, error);
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

  async call<T>(path: string, body: unknown): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.send<T>(path, body, await this.tokens?.headers());
      } catch (error) {
        if (!(error instanceof EtcdRequestError)) throw error;
        if (attempt === 0 && this.tokenRejected(error.body)) continue; // expired token: authenticate again, once
        throw this.classify(error.endpoint, describeRequest(path, body), error.body) ?? error;
      }
    }
  }

  /** Every key under `prefix`, with the store revision of the read. */
  rangePrefix(prefix: string, options: { keysOnly?: boolean; limit?: number } = {}): Promise<RangeResult> {
    return kv.rangePrefix(this, prefix, options);
  }

  put(key: string, value: string, lease?: string): Promise<number> {
    return kv.put(this, key, value, lease);
  }

  deleteKey(key: string): Promise<void> {
    return kv.deleteKey(this, key);
  }

  /** Several puts and deletes in one request (one revision). */
  txn(ops: readonly TxnOp[]): Promise<void> {
    return kv.txn(this, ops);
  }

  /** A new lease; returns its id (a decimal string: 64-bit). */
  leaseGrant(ttlSeconds: number): Promise<{ id: string; ttl: number }> {
    return kv.leaseGrant(this, ttlSeconds);
  }

  /** Refreshes a lease; returns its remaining TTL, 0 when it no longer exists. */
  leaseKeepAlive(id: string): Promise<number> {
    return kv.leaseKeepAlive(this, id);
  }

  leaseRevoke(id: string): Promise<void> {
    return kv.leaseRevoke(this, id);
  }

  /** Opens a watch stream on the current endpoint. `hasleader`: the member
   * cancels the watch when it loses its leader (partitioned), so vifd fails
   * over instead of waiting on a member that no longer sees writes. */
  async watchStream(body: unknown, onObject: (value: unknown) => void): Promise<Stream> {
    const headers = { ...(await this.tokens?.headers()), 'grpc-metadata-hasleader': 'true' };
    return postStream(this.endpoint, '/v3/watch', body, onObject, this.connection(headers));
  }
}
