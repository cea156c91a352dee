// Typed plain data for what the kernel reports about links. Pure.
import { VersionedSetMap, type SetIndex } from '../lib/versioned-set-map.js';

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
  /** Lookups by field, as of the same moment as `links`. The event-fed link
   * model keeps it with the map (O(1) per change); for any other snapshot
   * it is built on first use (linkIndexOf). */
  index?: LinkIndex;
}

/** Link names by the value of one field: what a planner asks of a snapshot
 * without walking every link (at 5000 bindings a walk per key is the round). */
export interface LinkIndex {
  /** Devices enslaved to a bridge, by the bridge's name. */
  byMaster: SetIndex;
  /** veth ends by their peer, macvtaps by their lower device. */
  byLink: SetIndex;
  byAlias: SetIndex;
  /** By netdev group number (decimal). */
  byGroup: SetIndex;
}

type IndexedField = keyof LinkIndex;
const FIELDS: Record<IndexedField, (link: ObservedLink) => string | undefined> = {
  byMaster: (link) => link.master,
  byLink: (link) => link.link,
  byAlias: (link) => link.alias,
  byGroup: (link) => (Number.isNaN(link.group) ? undefined : String(link.group)),
};

/** Keeps a LinkIndex as links come and go (by name); snapshots cost O(1). */
export class LinkIndexer {
  private readonly sets: Record<IndexedField, VersionedSetMap> = { byMaster: new VersionedSetMap(), byLink: new VersionedSetMap(), byAlias: new VersionedSetMap(), byGroup: new VersionedSetMap() };

  /** The link now known by `link.name` (call `remove` for the one it replaces). */
  add(link: ObservedLink): void {
    for (const field of Object.keys(FIELDS) as IndexedField[]) {
      const value = FIELDS[field](link);
      if (value !== undefined) this.sets[field].add(value, link.name);
    }
  }

  remove(link: ObservedLink): void {
    for (const field of Object.keys(FIELDS) as IndexedField[]) {
      const value = FIELDS[field](link);
      if (value !== undefined) this.sets[field].remove(value, link.name);
    }
  }

  snapshot(): LinkIndex {
    return { byMaster: this.sets.byMaster.snapshot(), byLink: this.sets.byLink.snapshot(), byAlias: this.sets.byAlias.snapshot(), byGroup: this.sets.byGroup.snapshot() };
  }
}

const built = new WeakMap<LinkSnapshot, LinkIndex>();

/** The snapshot's index: its own, or one built from its links once (O(N), remembered for the snapshot). */
export function linkIndexOf(snapshot: LinkSnapshot): LinkIndex {
  if (snapshot.index) return snapshot.index;
  let index = built.get(snapshot);
  if (!index) {
    const indexer = new LinkIndexer();
    for (const link of snapshot.links.values()) indexer.add(link);
    built.set(snapshot, (index = indexer.snapshot()));
  }
  return index;
}

/** The links an index entry names, in ifindex order (the order of a dump). */
function linksNamed(snapshot: LinkSnapshot, names: Iterable<string> | undefined): ObservedLink[] {
  const out: ObservedLink[] = [];
  for (const name of names ?? []) {
    const link = snapshot.links.get(name);
    if (link) out.push(link);
  }
  return out.sort((a, b) => a.ifindex - b.ifindex);
}

/** The links enslaved to `bridge`. */
export function slavesOf(snapshot: LinkSnapshot, bridge: string): ObservedLink[] {
  return linksNamed(snapshot, linkIndexOf(snapshot).byMaster.get(bridge));
}

/** The links whose `link` is `name`: macvtaps on a lower device, a veth's peer. */
export function linksOn(snapshot: LinkSnapshot, name: string): ObservedLink[] {
  return linksNamed(snapshot, linkIndexOf(snapshot).byLink.get(name));
}

export function linksWithAlias(snapshot: LinkSnapshot, alias: string): ObservedLink[] {
  return linksNamed(snapshot, linkIndexOf(snapshot).byAlias.get(alias));
}

export function linksInGroup(snapshot: LinkSnapshot, group: number): ObservedLink[] {
  return linksNamed(snapshot, linkIndexOf(snapshot).byGroup.get(String(group)));
}
