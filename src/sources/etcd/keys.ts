// The etcd key layout (docs/design.md §3, Sources): everything of a host lives under
// /vifd/v1/hosts/<hostname>/: bindings/<port> (written by a controller),
// status/<port> and alive (written by vifd, attached to its lease).
export const HOSTS_ROOT = '/vifd/v1/hosts/';

export const bindingsPrefix = (hostname: string): string => `${HOSTS_ROOT}${hostname}/bindings/`;
export const statusPrefix = (hostname: string): string => `${HOSTS_ROOT}${hostname}/status/`;
export const statusKey = (hostname: string, port: string): string => `${statusPrefix(hostname)}${port}`;
export const aliveKey = (hostname: string): string => `${HOSTS_ROOT}${hostname}/alive`;

export type HostKey =
  | { host: string; kind: 'alive' }
  | { host: string; kind: 'status' | 'binding'; port: string };

/** Classifies a key under HOSTS_ROOT; undefined for anything else. */
export function parseHostKey(key: string): HostKey | undefined {
  if (!key.startsWith(HOSTS_ROOT)) return undefined;
  const [host, kind, port, ...rest] = key.slice(HOSTS_ROOT.length).split('/');
  if (!host || rest.length > 0) return undefined;
  if (kind === 'alive' && port === undefined) return { host, kind: 'alive' };
  if ((kind === 'status' || kind === 'bindings') && port) return { host, kind: kind === 'status' ? 'status' : 'binding', port };
  return undefined;
}

/** A hostname usable as one key segment. */
export function validHostname(name: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/u.test(name);
}
