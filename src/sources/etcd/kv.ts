// The key-value and lease calls vifd makes, as gateway requests and decoded
// answers, over any authenticated caller (EtcdClient.call).
import { b64, decodeKv, int64, prefixRangeEnd, type KeyValue, type RawKv } from './codec.js';
import { EtcdUnavailableError } from './errors.js';

interface Header {
  revision?: string;
}

/** One authenticated request; its answer's JSON. */
export interface EtcdCaller {
  call<T>(path: string, body: unknown): Promise<T>;
  readonly endpoints: readonly string[];
}

export interface RangeResult {
  kvs: KeyValue[];
  revision: number;
}

export type TxnOp = { put: { key: string; value: string; lease?: string } } | { delete: { key: string } };

/** Every key under `prefix`, with the store revision of the read. */
export async function rangePrefix(c: EtcdCaller, prefix: string, options: { keysOnly?: boolean; limit?: number } = {}): Promise<RangeResult> {
  const res = await c.call<{ header?: Header; kvs?: RawKv[] }>('/v3/kv/range', {
    key: b64(prefix),
    range_end: prefixRangeEnd(prefix),
    ...(options.keysOnly ? { keys_only: true } : {}),
    ...(options.limit ? { limit: options.limit } : {}),
  });
  return { kvs: (res.kvs ?? []).map(decodeKv), revision: int64(res.header?.revision) };
}

export async function put(c: EtcdCaller, key: string, value: string, lease?: string): Promise<number> {
  const res = await c.call<{ header?: Header }>('/v3/kv/put', { key: b64(key), value: b64(value), ...(lease ? { lease } : {}) });
  return int64(res.header?.revision);
}

export async function deleteKey(c: EtcdCaller, key: string): Promise<void> {
  await c.call('/v3/kv/deleterange', { key: b64(key) });
}

/** Several puts and deletes in one request (one revision). */
export async function txn(c: EtcdCaller, ops: readonly TxnOp[]): Promise<void> {
  const success = ops.map((op) =>
    'put' in op
      ? { request_put: { key: b64(op.put.key), value: b64(op.put.value), ...(op.put.lease ? { lease: op.put.lease } : {}) } }
      : { request_delete_range: { key: b64(op.delete.key) } },
  );
  await c.call('/v3/kv/txn', { success });
}

/** A new lease; returns its id (a decimal string: 64-bit). */
export async function leaseGrant(c: EtcdCaller, ttlSeconds: number): Promise<{ id: string; ttl: number }> {
  const res = await c.call<{ ID?: string; TTL?: string }>('/v3/lease/grant', { TTL: ttlSeconds });
  if (!res.ID) throw new EtcdUnavailableError({ endpoints: [...c.endpoints], path: '/v3/lease/grant', cause: new Error('no lease id in answer') });
  return { id: res.ID, ttl: int64(res.TTL) };
}

/** Refreshes a lease; returns its remaining TTL, 0 when it no longer exists. */
export async function leaseKeepAlive(c: EtcdCaller, id: string): Promise<number> {
  const res = await c.call<{ result?: { TTL?: string } }>('/v3/lease/keepalive', { ID: id });
  return int64(res.result?.TTL);
}

export async function leaseRevoke(c: EtcdCaller, id: string): Promise<void> {
  await c.call('/v3/lease/revoke', { ID: id });
}
