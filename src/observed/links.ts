// Typed plain data for what the kernel reports about links. Pure.

export type LinkKind = 'bridge' | 'tap' | 'tun' | 'veth' | 'macvtap' | 'macvlan' | 'other';

export interface ObservedLink {
  ifindex: number;
  name: string;
  kind: LinkKind;
  /** Raw `info_kind` (e.g. "openvswitch", "vxlan"), for messages. */
  rawKind: string | undefined;
  mtu: number;
  mac: string | undefined;
  /** Administratively up (IFF_UP), independent of carrier. */
  up: boolean;
  master: string | undefined;
  /** Netdev group number; NaN when ip printed a name we cannot map. */
  group: number;
  alias: string | undefined;
  /** veth: the peer's name; macvtap/macvlan: the lower device's name. */
  link: string | undefined;
  /** macvtap/macvlan mode as ip prints it (vepa, bridge, private, passthru, source). */
  macvtapMode: string | undefined;
  /** tun/tap: persistent (survives the closing of its last fd). */
  persistent: boolean | undefined;
  /** The lower layer is up (LOWER_UP): for a tap, a process holds it. */
  carrier?: boolean;
  /** tun/tap: how many file descriptors are attached (a hypervisor's queues); 0: nobody holds it. */
  tunQueues?: number;
  /** tun/tap: created with IFF_MULTI_QUEUE. */
  multiQueue?: boolean;
}

export interface LinkSnapshot {
  links: ReadonlyMap<string, ObservedLink>;
}

/** Names of the links enslaved to `bridge`. */
export function slavesOf(snapshot: LinkSnapshot, bridge: string): ObservedLink[] {
  const out: ObservedLink[] = [];
  for (const link of snapshot.links.values()) if (link.master === bridge) out.push(link);
  return out;
}
