// Name → set of members (strings), with O(1) snapshots (see versioned-map.ts).
// Made for indexes whose sets grow large while each change touches one
// member: the users of one bridge (an OVS br-int holds every port of the
// host), the devices enslaved to one bridge, the links in one netdev group.
// Neither a change nor a snapshot copies a set.
import { VersionedMap, type SnapshotMap } from './versioned-map.js';

/** The members of one name as of one snapshot. */
export interface MemberSet extends Iterable<string> {
  readonly size: number;
  has(member: string): boolean;
}

export interface SetIndex {
  /** undefined: no member. */
  get(name: string): MemberSet | undefined;
  has(name: string): boolean;
}

const memberKey = (name: string, member: string): string => `${name}\0${member}`;

export class VersionedSetMap {
  /** The live sets, for iterating a name's set; a snapshot corrects them with its logs. */
  private readonly live = new Map<string, Set<string>>();
  private readonly members = new VersionedMap<string, true>();
  private readonly counts = new VersionedMap<string, number>();

  add(name: string, member: string): void {
    let set = this.live.get(name);
    if (!set) this.live.set(name, (set = new Set()));
    if (set.has(member)) return;
    set.add(member);
    this.members.set(memberKey(name, member), true);
    this.counts.set(name, set.size);
  }

  remove(name: string, member: string): void {
    const set = this.live.get(name);
    if (!set?.delete(member)) return;
    this.members.delete(memberKey(name, member));
    if (set.size === 0) {
      this.live.delete(name);
      this.counts.delete(name);
    } else this.counts.set(name, set.size);
  }

  snapshot(): SetIndex {
    return new SnapshotIndex(this.live, this.members.snapshot(), this.counts.snapshot());
  }
}

class SnapshotIndex implements SetIndex {
  constructor(
    private readonly live: ReadonlyMap<string, ReadonlySet<string>>,
    private readonly members: SnapshotMap<string, true>,
    private readonly counts: SnapshotMap<string, number>,
  ) {}

  has(name: string): boolean {
    return this.counts.has(name);
  }

  get(name: string): MemberSet | undefined {
    const size = this.counts.get(name);
    if (size === undefined) return undefined;
    const { live, members } = this;
    return {
      size,
      has: (member) => members.has(memberKey(name, member)),
      *[Symbol.iterator]() {
        const now = live.get(name);
        // Members there now that were there then, then members gone since
        // (found in the logs: only what changed after this snapshot).
        for (const member of now ?? []) if (members.has(memberKey(name, member))) yield member;
        for (const member of members.changedSince(`${name}\0`)) if (!now?.has(member) && members.has(memberKey(name, member))) yield member;
      },
    };
  }
}
