// A small etcd v3 client over the JSON gateway, for several endpoints: a call
// goes to the endpoint that answered last, and fails over to the next ones
// when it cannot connect. An error *answer* is not retried elsewhere.
import { b64, decodeKv, int64, prefixRangeEnd, type KeyValue, type RawKv } from './codec.js';
import { EtcdUnavailableError } from './errors.js';
import { EtcdConnectionError, postJson, postStream, type Stream } from './http.js';

interface Header {
  revision?: string;
}

export interface RangeResult {
  kvs: KeyValue[];
  revision: number;
}

export type TxnOp = { put: { key: string; value: string; lease?: string } } | { delete: { key: string } };

export class EtcdClient {
  private current = 0;

  constructor(
    readonly endpoints: readonly string[],
    private readonly timeoutMs = 5000,
  ) {}

  /** The endpoint calls go to first. */
  get endpoint(): string {
    return this.endpoints[this.current]!;
  }

  /** Moves on to the next endpoint (after a stream broke). */
  failover(): void {
    this.current = (this.current + 1) % this.endpoints.length;
  }

  async call<T>(path: string, body: unknown): Promise<T> {
    let lastError: unknown;
    for (let i = 0; i < this.endpoints.length; i++) {
      const index = (this.current + i) % this.endpoints.length;
      try {
        const result = await postJson<T>(this.endpoints[index]!, path, body, this.timeoutMs);
        this.current = index;
        return result;
      } catch (error) {
        if (!(error instanceof EtcdConnectionError)) throw error;
        lastError = error;
      }
    }
    throw new EtcdUnavailableError({ endpoints: [...this.endpoints], path, cause: lastError });
  }

  /** Every key under `prefix`, with the store revision of the read. */
  async rangePrefix(prefix: string, options: { keysOnly?: boolean } = {}): Promise<RangeResult> {
    const res = await this.call<{ header?: Header; kvs?: RawKv[] }>('/v3/kv/range', {
      key: b64(prefix),
      range_end: prefixRangeEnd(prefix),
      ...(options.keysOnly ? { keys_only: true } : {}),
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

  /** Opens a watch stream on the current endpoint. */
  watchStream(body: unknown, onObject: (value: unknown) => void): Stream {
    return postStream(this.endpoint, '/v3/watch', body, onObject);
  }
}
