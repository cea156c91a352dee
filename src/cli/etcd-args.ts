// The etcd options shared by `vifd run` and `vifd status`.
import { hostname as osHostname } from 'node:os';
import { parseEndpoints, normalisePrefix } from '../sources/etcd/codec.js';
import type { EtcdOptions } from '../sources/etcd/attach.js';
import { validHostname } from '../sources/etcd/keys.js';
import { readPasswordFile } from '../sources/etcd/client.js';
import type { EtcdConnectionOptions } from '../sources/etcd/connect.js';
import { loadTlsMaterial } from '../sources/etcd/tls.js';
import { ETCD_CONNECTION_OPTIONS } from './option-tables.js';
import { UsageError } from './options.js';

export { ETCD_CONNECTION_OPTIONS, ETCD_RUN_OPTIONS } from './option-tables.js';

export interface EtcdConnectionValues {
  etcd?: string | undefined;
  'etcd-cacert'?: string | undefined;
  'etcd-cert'?: string | undefined;
  'etcd-key'?: string | undefined;
  'etcd-user'?: string | undefined;
  'etcd-password-file'?: string | undefined;
}

export interface EtcdRunValues extends EtcdConnectionValues {
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

/** Endpoints, TLS files and credentials; the files are checked now, so a bad
 * one stops vifd at start with its name and why (EtcdTlsFileError,
 * EtcdPasswordFileError: exit 1). */
export function etcdConnectionOptions(url: string, values: EtcdConnectionValues): EtcdConnectionOptions {
  const endpoints = endpointsFrom(url);
  const https = endpoints[0]!.startsWith('https:');
  const tls = { cacert: values['etcd-cacert'], cert: values['etcd-cert'], key: values['etcd-key'] };
  if (!https) {
    const given = (['etcd-cacert', 'etcd-cert', 'etcd-key'] as const).find((o) => values[o] !== undefined);
    if (given) throw new UsageError(`--${given} needs https:// etcd endpoints`);
  } else {
    loadTlsMaterial(tls);
  }
  if ((values['etcd-user'] === undefined) !== (values['etcd-password-file'] === undefined)) throw new UsageError('--etcd-user and --etcd-password-file go together');
  let auth: EtcdConnectionOptions['auth'];
  if (values['etcd-user'] !== undefined && values['etcd-password-file'] !== undefined) {
    readPasswordFile(values['etcd-password-file']);
    auth = { user: values['etcd-user'], passwordFile: values['etcd-password-file'] };
  }
  return { endpoints, ...(https ? { tls } : {}), ...(auth ? { auth } : {}) };
}

/** EtcdOptions from `vifd run` flags, or undefined without --etcd. */
export function etcdRunOptions(values: EtcdRunValues): EtcdOptions | undefined {
  if (values.etcd === undefined) {
    const given = (['etcd-prefix', ...Object.keys(ETCD_CONNECTION_OPTIONS)] as const).find((o) => values[o as keyof EtcdRunValues] !== undefined);
    if (given) throw new UsageError(`--${given} needs --etcd`);
    return undefined;
  }
  const hostname = values.hostname ?? osHostname();
  if (!validHostname(hostname)) throw new UsageError(`--hostname ${hostname}: not usable as an etcd key segment`);
  return {
    ...etcdConnectionOptions(values.etcd, values),
    hostname,
    ...(values['etcd-prefix'] !== undefined ? { prefix: normalisePrefix(values['etcd-prefix']) } : {}),
    leaseSeconds: positive('etcd-lease-seconds', values['etcd-lease-seconds'], true),
    initialTimeoutMs: positive('etcd-initial-timeout-seconds', values['etcd-initial-timeout-seconds']) * 1000,
  };
}
