// The links of one namespace as the kernel last described them, kept by
// ifindex with their ObservedLink (names resolved) ready to hand out. Pure.
//
// Each message costs O(1) plus the devices that name the changed one (its
// slaves, its macvtaps, its veth peer): a rename or a (re)appearance re-resolves
// exactly those, through a reverse index, so a dump arriving slaves first
// ends with every master named. Changes are recorded as the names whose
// ObservedLink differs, old and new name both on a rename.
import { VersionedMap } from '../../lib/versioned-map.js';
import { LinkIndexer, type LinkSnapshot, type ObservedLink } from '../../observed/links.js';
import { referencesOf, resolveLink, type LinkMessage, type LinkRecord } from './link-message.js';

export class LinkTable {
  private readonly records = new Map<number, LinkRecord>();
  private readonly observed = new Map<number, ObservedLink>();
  /** By name, with O(1) snapshots that stay as they were. */
  private readonly byName = new VersionedMap<string, ObservedLink>();
  private readonly indexer = new LinkIndexer();
  /** ifindex -> the ifindexes whose master or link it is. */
  private readonly referrers = new Map<number, Set<number>>();
  /** Names whose ObservedLink changed since the last drain. */
  private changed = new Set<string>();

  apply(message: LinkMessage): void {
    if (message.op === 'new') this.upsert(message.record);
    else this.remove(message.ifindex);
  }

  /** The links by name now (moves on with every message). */
  get links(): ReadonlyMap<string, ObservedLink> {
    return this.byName.current;
  }

  /** The links and their index as of now, unchanged by later messages; O(1). */
  snapshot(): LinkSnapshot {
    return { links: this.byName.snapshot(), index: this.indexer.snapshot() };
  }

  has(ifindex: number): boolean {
    return this.records.has(ifindex);
  }

  /** Names changed since the last call. */
  drainChanges(): Set<string> {
    const out = this.changed;
    this.changed = new Set();
    return out;
  }

  private upsert(record: LinkRecord): void {
    const old = this.records.get(record.ifindex);
    if (old) for (const target of referencesOf(old)) this.referrers.get(target)?.delete(record.ifindex);
    for (const target of referencesOf(record)) {
      let set = this.referrers.get(target);
      if (!set) this.referrers.set(target, (set = new Set()));
      set.add(record.ifindex);
    }
    this.records.set(record.ifindex, record);
    this.materialize(record.ifindex);
    if (!old || old.name !== record.name) this.rematerializeReferrers(record.ifindex);
  }

  private remove(ifindex: number): void {
    const old = this.records.get(ifindex);
    if (!old) return;
    for (const target of referencesOf(old)) this.referrers.get(target)?.delete(ifindex);
    this.records.delete(ifindex);
    this.unname(ifindex);
    this.observed.delete(ifindex);
    this.rematerializeReferrers(ifindex);
  }

  private rematerializeReferrers(ifindex: number): void {
    for (const referrer of this.referrers.get(ifindex) ?? []) this.materialize(referrer);
  }

  private materialize(ifindex: number): void {
    const record = this.records.get(ifindex)!;
    const link = resolveLink(record, (index) => this.records.get(index)?.name);
    const before = this.observed.get(ifindex);
    if (before && sameLink(before, link)) return;
    if (before && before.name !== link.name) this.unname(ifindex);
    this.observed.set(ifindex, link);
    this.setName(link);
    this.changed.add(link.name);
  }

  /** Drops the ifindex's name from `links`, unless another device took it meanwhile. */
  private unname(ifindex: number): void {
    const before = this.observed.get(ifindex);
    if (!before) return;
    if (this.byName.get(before.name)?.ifindex === ifindex) this.deleteName(before.name);
    this.changed.add(before.name);
  }

  private setName(link: ObservedLink): void {
    const old = this.byName.get(link.name);
    if (old) this.indexer.remove(old);
    this.byName.set(link.name, link);
    this.indexer.add(link);
  }

  private deleteName(name: string): void {
    const old = this.byName.get(name);
    if (!old) return;
    this.indexer.remove(old);
    this.byName.delete(name);
  }
}

/** Field by field, but for `except`; every ObservedLink field is a primitive (NaN equals NaN). */
export function sameLink(a: ObservedLink, b: ObservedLink, except?: ReadonlySet<string>): boolean {
  for (const key in a) if (!except?.has(key) && !Object.is(a[key as keyof ObservedLink], b[key as keyof ObservedLink])) return false;
  for (const key in b) if (!(key in a) && !except?.has(key) && !Object.is(a[key as keyof ObservedLink], b[key as keyof ObservedLink])) return false;
  return true;
}

/** Names present in only one of the two, or different. */
export function differingNames(a: ReadonlyMap<string, ObservedLink>, b: ReadonlyMap<string, ObservedLink>): string[] {
  const out: string[] = [];
  for (const [name, link] of a) {
    const other = b.get(name);
    if (!other || !sameLink(link, other)) out.push(name);
  }
  for (const name of b.keys()) if (!a.has(name)) out.push(name);
  return out;
}
