// Name → set of ports, with O(1) snapshots (see versioned-map.ts): the users
// of one bridge change one port at a time, however many share it (an OVS
// br-int holds every port of the host), so neither a change nor a snapshot
// copies a bridge's users.
import { VersionedMap, type SnapshotMap } from './versioned-map.js';

/** The ports of one name as of one snapshot. */
export interface PortSet extends Iterable<string> {
  readonly size: number;
  has(port: string): boolean;
}

export interface PortSetIndex {
  /** undefined: no port. */
  get(name: string): PortSet | undefined;
  has(name: string): boolean;
}

const memberKey = (name: string, port: string): string => `${name}\0${port}`;

export class VersionedSetMap {
  /** The live sets, for iterating a name's ports; a snapshot corrects them with its logs. */
  private readonly live = new Map<string, Set<string>>();
  private readonly members = new VersionedMap<string, true>();
  private readonly counts = new VersionedMap<string, number>();

  add(name: string, port: string): void {
    let ports = this.live.get(name);
    if (!ports) this.live.set(name, (ports = new Set()));
    if (ports.has(port)) return;
    ports.add(port);
    this.members.set(memberKey(name, port), true);
    this.counts.set(name, ports.size);
  }

  remove(name: string, port: string): void {
    const ports = this.live.get(name);
    if (!ports?.delete(port)) return;
    this.members.delete(memberKey(name, port));
    if (ports.size === 0) {
      this.live.delete(name);
      this.counts.delete(name);
    } else this.counts.set(name, ports.size);
  }

  snapshot(): PortSetIndex {
    return new SnapshotIndex(this.live, this.members.snapshot(), this.counts.snapshot());
  }
}

class SnapshotIndex implements PortSetIndex {
  constructor(
    private readonly live: ReadonlyMap<string, ReadonlySet<string>>,
    private readonly members: SnapshotMap<string, true>,
    private readonly counts: SnapshotMap<string, number>,
  ) {}

  has(name: string): boolean {
    return this.counts.has(name);
  }

  get(name: string): PortSet | undefined {
    const size = this.counts.get(name);
    if (size === undefined) return undefined;
    const { live, members } = this;
    return {
      size,
      has: (port) => members.has(memberKey(name, port)),
      *[Symbol.iterator]() {
        const now = live.get(name);
        // Ports there now that were there then, then ports gone since
        // (found in the logs: only what changed after this snapshot).
        for (const port of now ?? []) if (members.has(memberKey(name, port))) yield port;
        for (const port of members.changedSince(`${name}\0`)) if (!now?.has(port) && members.has(memberKey(name, port))) yield port;
      },
    };
  }
}
