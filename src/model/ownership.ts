// How vifd marks what it creates on the host, and reads those marks back.
// A link is vifd's when it is in vifd's netdev group; its ifalias says which
// port it belongs to (`vifd:port:<uuid>`) or that it is a shared bridge
// (`vifd:bridge`). The marks live on the host, so ownership survives a lost
// state directory. Pure.
import type { ObservedLink } from '../observed/links.js';

export interface OwnershipConfig {
  /** Netdev group of every link vifd owns. */
  group: number;
  /** Transient group: links about to be deleted in bulk (`ip link del group N`). */
  doomedGroup: number;
}

export const DEFAULT_OWNERSHIP: OwnershipConfig = { group: 4242, doomedGroup: 4243 };

export const SHARED_BRIDGE_ALIAS = 'vifd:bridge';
const PORT_ALIAS_PREFIX = 'vifd:port:';

export function portAlias(port: string): string {
  return PORT_ALIAS_PREFIX + port;
}

export type LinkOwner =
  | { owned: false }
  /** Ours; `port` undefined for a shared bridge or a half-marked link. */
  | { owned: true; port: string | undefined; shared: boolean };

export function ownerOf(link: ObservedLink, config: OwnershipConfig, adoptable: ReadonlySet<string> = new Set()): LinkOwner {
  const inGroup = link.group === config.group || link.group === config.doomedGroup;
  // A link named in the intent journal that never got its marks (vifd died
  // between creating and marking it) is ours too.
  const halfMade = adoptable.has(link.name) && link.group === 0 && link.alias === undefined;
  if (!inGroup && !halfMade) return { owned: false };
  if (link.alias?.startsWith(PORT_ALIAS_PREFIX)) {
    return { owned: true, port: link.alias.slice(PORT_ALIAS_PREFIX.length), shared: false };
  }
  return { owned: true, port: undefined, shared: link.alias === SHARED_BRIDGE_ALIAS };
}

/** OVS rows vifd creates carry these in external_ids: an Interface its
 * port (`vifd-port=<uuid>`), a Bridge its owner (`vifd-owner=vifd`). */
export const OVS_PORT_KEY = 'vifd-port';
export const OVS_OWNER_KEY = 'vifd-owner';
export const OVS_OWNER_VALUE = 'vifd';
