// OVSDB remote addresses. vifd only speaks to a local ovsdb-server over a
// unix socket: `unix:PATH` (the same form as ovs-vsctl's --db).
import { OvsdbAddressError } from './errors.js';

export interface OvsdbUnixAddress {
  kind: 'unix';
  path: string;
}

/** Parses `unix:PATH`. A bare absolute path is accepted too. */
export function parseOvsdbAddress(address: string): OvsdbUnixAddress {
  const path = address.startsWith('unix:') ? address.slice('unix:'.length) : address.startsWith('/') ? address : undefined;
  if (!path || path.includes('\0')) throw new OvsdbAddressError(address);
  return { kind: 'unix', path };
}

export function formatOvsdbAddress(address: OvsdbUnixAddress): string {
  return `unix:${address.path}`;
}
