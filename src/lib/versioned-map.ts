// A map whose snapshots cost O(1) and stay as they were while the map goes on
// changing: the desired view a reconcile round reads must not move under it
// (the generation it records must be the one it planned), yet one desired
// change must not copy N entries.
//
// How: the newest snapshot handed out records the old value of each key the
// first time it changes afterwards (an undo log). An older snapshot reads
// its own log, then the logs of the snapshots after it, then the live map.
// Only the store holds the newest snapshot; older ones live as long as
// someone reads them, and each log holds only what changed after it (so a
// view kept for long keeps every change made since: read one, let it go).
const ABSENT = Symbol('absent');

class Version<K, V> {
  readonly log = new Map<K, V | typeof ABSENT>();
  next: Version<K, V> | undefined;
  constructor(readonly size: number) {}
}

export class VersionedMap<K, V> {
  private readonly live = new Map<K, V>();
  private head: { version: Version<K, V>; view: SnapshotMap<K, V> } | undefined;

  get(key: K): V | undefined {
    return this.live.get(key);
  }

  has(key: K): boolean {
    return this.live.has(key);
  }

  get size(): number {
    return this.live.size;
  }

  /** The live map (it changes with every write; snapshot() for a fixed view). */
  get current(): ReadonlyMap<K, V> {
    return this.live;
  }

  set(key: K, value: V): void {
    this.remember(key);
    this.live.set(key, value);
  }

  delete(key: K): void {
    if (!this.live.has(key)) return;
    this.remember(key);
    this.live.delete(key);
  }

  /** The map as it is now, unchanged by later writes. */
  snapshot(): SnapshotMap<K, V> {
    if (this.head && this.head.version.log.size === 0) return this.head.view;
    const version = new Version<K, V>(this.live.size);
    if (this.head) this.head.version.next = version;
    this.head = { version, view: new SnapshotMap(version, this.live) };
    return this.head.view;
  }

  private remember(key: K): void {
    const log = this.head?.version.log;
    if (log && !log.has(key)) log.set(key, this.live.has(key) ? this.live.get(key)! : ABSENT);
  }
}

/** A read-only map as of one version (see VersionedMap). */
export class SnapshotMap<K, V> implements ReadonlyMap<K, V> {
  constructor(
    private readonly version: Version<K, V>,
    private readonly live: ReadonlyMap<K, V>,
  ) {}

  get size(): number {
    return this.version.size;
  }

  get(key: K): V | undefined {
    for (let v: Version<K, V> | undefined = this.version; v; v = v.next) {
      if (v.log.has(key)) {
        const old = v.log.get(key)!;
        return old === ABSENT ? undefined : old;
      }
    }
    return this.live.get(key);
  }

  has(key: K): boolean {
    for (let v: Version<K, V> | undefined = this.version; v; v = v.next) if (v.log.has(key)) return v.log.get(key) !== ABSENT;
    return this.live.has(key);
  }

  *entries(): MapIterator<[K, V]> {
    const changed = new Map<K, V | typeof ABSENT>();
    for (let v: Version<K, V> | undefined = this.version; v; v = v.next) for (const [key, old] of v.log) if (!changed.has(key)) changed.set(key, old);
    for (const entry of this.live) if (!changed.has(entry[0])) yield entry;
    for (const [key, old] of changed) if (old !== ABSENT) yield [key, old];
  }

  /** Keys changed after this snapshot that start with `prefix`, without it
   * (string keys only; the cost is what changed, not the map's size). */
  *changedSince(this: SnapshotMap<string, V>, prefix: string): Generator<string> {
    const seen = new Set<string>();
    for (let v: Version<string, V> | undefined = this.version; v; v = v.next) {
      for (const key of v.log.keys()) if (key.startsWith(prefix) && !seen.has(key)) seen.add(key);
    }
    for (const key of seen) yield key.slice(prefix.length);
  }

  *keys(): MapIterator<K> {
    for (const [key] of this.entries()) yield key;
  }

  *values(): MapIterator<V> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }

  forEach(callback: (value: V, key: K, map: ReadonlyMap<K, V>) => void): void {
    for (const [key, value] of this.entries()) callback(value, key, this);
  }
}
