// The etcd options shared by `vifd run` and `vifd status`.
import { hostname as osHostname } from 'node:os';
import { parseEndpoints, normalisePrefix } from '../sources/etcd/codec.js';
import type { EtcdOptions } from '../sources/etcd/attach.js';
import { validHostname } from '../sources/etcd/keys.js';
import { UsageError } from './options.js';

export { ETCD_RUN_OPTIONS } from './option-tables.js';

export interface EtcdRunValues {
  etcd?: string | undefined;
  'etcd-prefix'?: string | undefined;
  hostname?: string | undefined;
  'etcd-lease-seconds'?: string | undefined;
  'etcd-initial-timeout-seconds'?: string | undefined;
}

function positive(name: string, text: string | undefined, integer = false): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) throw new UsageError(`--${name} must be a positive ${integer ? 'integer' : 'number'}`);
  return n;
}

export function endpointsFrom(text: string): string[] {
  try {
    return parseEndpoints(text);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** EtcdOptions from `vifd run` flags, or undefined without --etcd. */
export function etcdRunOptions(values: EtcdRunValues): EtcdOptions | undefined {
  if (values.etcd === undefined) {
    if (values['etcd-prefix'] !== undefined) throw new UsageError('--etcd-prefix needs --etcd');
    return undefined;
  }
  const hostname = values.hostname ?? osHostname();
  if (!validHostname(hostname)) throw new UsageError(`--hostname ${hostname}: not usable as an etcd key segment`);
  return {
    endpoints: endpointsFrom(values.etcd),
    hostname,
    ...(values['etcd-prefix'] !== undefined ? { prefix: normalisePrefix(values['etcd-prefix']) } : {}),
    leaseSeconds: positive('etcd-lease-seconds', values['etcd-lease-seconds'], true),
    initialTimeoutMs: positive('etcd-initial-timeout-seconds', values['etcd-initial-timeout-seconds']) * 1000,
  };
}
