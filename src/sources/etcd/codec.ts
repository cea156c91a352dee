// etcd's JSON gateway speaks base64 for keys and values and strings for
// 64-bit integers (revisions, lease ids). Pure helpers.

export const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
export const unb64 = (value: string | undefined): string => (value ? Buffer.from(value, 'base64').toString('utf8') : '');

/** The range_end that selects every key starting with `prefix`. */
export function prefixRangeEnd(prefix: string): string {
  const bytes = Buffer.from(prefix, 'utf8');
  for (let i = bytes.length - 1; i >= 0; i--) {
    if (bytes[i]! < 0xff) {
      const end = Buffer.from(bytes.subarray(0, i + 1));
      end[i]!++;
      return end.toString('base64');
    }
  }
  return Buffer.from([0]).toString('base64'); // every key
}

/** A 64-bit integer as the gateway writes it ("123", or absent for 0). */
export const int64 = (value: string | number | undefined): number => (value === undefined ? 0 : Number(value));

export interface RawKv {
  key?: string;
  value?: string;
  mod_revision?: string;
  create_revision?: string;
  version?: string;
  lease?: string;
}

export interface KeyValue {
  key: string;
  value: string;
  modRevision: number;
}

export function decodeKv(kv: RawKv): KeyValue {
  return { key: unb64(kv.key), value: unb64(kv.value), modRevision: int64(kv.mod_revision) };
}

/** Normalises a prefix: absolute, ends with one `/`. */
export function normalisePrefix(prefix: string): string {
  let p = prefix.startsWith('/') ? prefix : `/${prefix}`;
  if (!p.endsWith('/')) p += '/';
  return p;
}

/** Parses `--etcd URL[,URL...]` into base URLs without a trailing slash
 * (all http:// or all https://: one cluster, one transport). */
export function parseEndpoints(list: string): string[] {
  const endpoints = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      const url = new URL(s.includes('://') ? s : `http://${s}`);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`etcd endpoint ${s}: only http:// and https:// are supported (the JSON gateway)`);
      return `${url.protocol}//${url.host}`;
    });
  if (endpoints.length === 0) throw new Error('--etcd needs at least one URL');
  if (new Set(endpoints.map((e) => e.split(':')[0])).size > 1) throw new Error('--etcd: endpoints mix http:// and https://');
  return endpoints;
}
