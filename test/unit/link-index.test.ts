// Guards the link index (observed/links.ts: LinkIndexer, linkIndexOf,
// slavesOf, linksOn, linksWithAlias, linksInGroup) as the event-fed link
// table keeps it (host/netlink/link-table.ts, LinkTable.snapshot()). After any
// sequence of messages (renames, re-mastering, deleted masters, a name taken
// by another ifindex, alias and group changes, veth peers), every snapshot
// taken along the way must still hold the links the table held at that moment,
// and its index must say what an index built from scratch from those links
// says; the lookups must return the matching links in ifindex order.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { LinkRecord } from '../../src/host/netlink/link-message.js';
import { LinkTable } from '../../src/host/netlink/link-table.js';
import { linkIndexOf, linksInGroup, linksOn, linksWithAlias, slavesOf, type LinkIndex, type LinkSnapshot, type ObservedLink } from '../../src/observed/links.js';

const RUNS = { numRuns: 200 };

function record(ifindex: number, name: string, extra: Partial<LinkRecord> = {}): LinkRecord {
  return {
    ifindex, name, kind: 'tap', rawKind: 'tun', mtu: 1500, mac: undefined, up: false, group: 0, alias: undefined,
    macvtapMode: undefined, persistent: true, carrier: false, multiQueue: false, masterIndex: undefined, linkIndex: undefined, ...extra,
  };
}

// Six devices, seven names: names pass from one ifindex to another. Masters
// and peers point at 1..7 (7 never exists: "if7"), 0 ("*" / none) or nothing.
const IFINDEXES = [1, 2, 3, 4, 5, 6];
const NAMES = ['br0', 'br1', 'tap0', 'tap1', 'veth0', 'veth1', 'eth0'];
const REFERENCE = fc.constantFrom(undefined, 0, 1, 2, 3, 4, 5, 6, 7);

/** A 'new' message changes these fields of the ifindex's last record (a key left out: as before). */
type Patch = Partial<Pick<LinkRecord, 'name' | 'kind' | 'masterIndex' | 'linkIndex' | 'alias' | 'group' | 'mtu'>>;
type TableOp = { op: 'new'; ifindex: number; patch: Patch } | { op: 'del'; ifindex: number } | { op: 'snapshot' };

const patch: fc.Arbitrary<Patch> = fc.record(
  {
    name: fc.constantFrom(...NAMES),
    kind: fc.constantFrom('bridge' as const, 'tap' as const, 'veth' as const, 'macvtap' as const),
    masterIndex: REFERENCE,
    linkIndex: REFERENCE,
    alias: fc.constantFrom(undefined, 'port-a', 'port-b'),
    group: fc.constantFrom(0, 1, 2, Number.NaN),
    mtu: fc.constantFrom(1500, 9000),
  },
  { requiredKeys: [] },
);

const tableOp: fc.Arbitrary<TableOp> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('new' as const), ifindex: fc.constantFrom(...IFINDEXES), patch }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('del' as const), ifindex: fc.constantFrom(...IFINDEXES) }) },
  { weight: 2, arbitrary: fc.constant({ op: 'snapshot' as const }) },
);

type Field = keyof LinkIndex;
const FIELD_VALUE: Record<Field, (link: ObservedLink) => string | undefined> = {
  byMaster: (link) => link.master,
  byLink: (link) => link.link,
  byAlias: (link) => link.alias,
  byGroup: (link) => (Number.isNaN(link.group) ? undefined : String(link.group)),
};
const FIELDS = Object.keys(FIELD_VALUE) as Field[];
const LOOKUP: Record<Field, (snapshot: LinkSnapshot, value: string) => ObservedLink[]> = {
  byMaster: slavesOf,
  byLink: linksOn,
  byAlias: linksWithAlias,
  byGroup: (snapshot, value) => linksInGroup(snapshot, Number(value)),
};

interface Taken {
  snapshot: LinkSnapshot;
  /** new Map(table.links) when the snapshot was taken. */
  copy: Map<string, ObservedLink>;
}

/** Every value each field held in any link seen (plus a few never held): the keys to ask an index about. */
function valuesSeen(maps: Iterable<ReadonlyMap<string, ObservedLink>>): Record<Field, Set<string>> {
  const out = { byMaster: new Set(['*', 'if7', 'nobody']), byLink: new Set(['if7', 'nobody']), byAlias: new Set(['nobody']), byGroup: new Set(['3']) };
  for (const map of maps) for (const link of map.values()) for (const field of FIELDS) {
    const value = FIELD_VALUE[field](link);
    if (value !== undefined) out[field].add(value);
  }
  for (const name of NAMES) {
    out.byMaster.add(name);
    out.byLink.add(name);
  }
  return out;
}

function expectLinksEqual(links: ReadonlyMap<string, ObservedLink>, copy: ReadonlyMap<string, ObservedLink>): void {
  expect(links.size).toBe(copy.size);
  for (const name of NAMES) {
    expect(links.has(name), `links.has(${name})`).toBe(copy.has(name));
    expect(links.get(name), `links.get(${name})`).toBe(copy.get(name));
  }
  expect(new Map(links)).toEqual(copy);
}

/** What an index says about each value: has, size, members (as iterated, and by has()). */
function describeIndex(index: LinkIndex, values: Record<Field, Set<string>>): unknown {
  return FIELDS.map((field) =>
    [...values[field]].map((value) => {
      const set = index[field].get(value);
      return {
        field, value, has: index[field].has(value), size: set?.size,
        iterated: set ? [...set].sort() : [], // sorted, duplicates kept
        members: NAMES.filter((name) => set?.has(name)),
      };
    }),
  );
}

/** The lookups' answers (names in the order returned), and the same asked of the plain copy. */
function lookups(snapshot: LinkSnapshot, values: Record<Field, Set<string>>): unknown {
  return FIELDS.map((field) => [...values[field]].map((value) => ({ field, value, names: LOOKUP[field](snapshot, value).map((link) => link.name) })));
}
function expectedLookups(copy: ReadonlyMap<string, ObservedLink>, values: Record<Field, Set<string>>): unknown {
  const byIfindex = [...copy.values()].sort((a, b) => a.ifindex - b.ifindex);
  return FIELDS.map((field) => [...values[field]].map((value) => ({ field, value, names: byIfindex.filter((link) => FIELD_VALUE[field](link) === value).map((link) => link.name) })));
}

function expectSnapshotHolds({ snapshot, copy }: Taken, values: Record<Field, Set<string>>): void {
  expectLinksEqual(snapshot.links, copy);
  expect(snapshot.index, 'the table hands out its index with the snapshot').toBeDefined();
  expect(linkIndexOf(snapshot)).toBe(snapshot.index);
  const scratch = linkIndexOf({ links: new Map(snapshot.links) });
  expect(describeIndex(snapshot.index!, values), 'the kept index vs one built from the snapshot\'s links').toEqual(describeIndex(scratch, values));
  // The lookups: the links of the plain copy with that value, in ifindex order
  // (the expected lists are in ifindex order, so a list out of order fails).
  expect(lookups(snapshot, values)).toEqual(expectedLookups(copy, values));
  for (const field of FIELDS) for (const value of values[field]) for (const link of LOOKUP[field](snapshot, value)) expect(link).toBe(copy.get(link.name));
}

function runTableOps(ops: readonly TableOp[]): void {
  const table = new LinkTable();
  const last = new Map<number, LinkRecord>(); // the last record sent for each ifindex (deleted or not)
  const taken: Taken[] = [];
  const valuesNow = () => valuesSeen([table.links, ...taken.map((t) => t.copy)]);
  for (const op of ops) {
    if (op.op === 'snapshot') {
      taken.push({ snapshot: table.snapshot(), copy: new Map(table.links) });
      expectSnapshotHolds(taken.at(-1)!, valuesNow()); // right when taken...
    } else if (op.op === 'del') {
      table.apply({ op: 'del', ifindex: op.ifindex, name: last.get(op.ifindex)?.name });
    } else {
      const next = { ...(last.get(op.ifindex) ?? record(op.ifindex, `dev${op.ifindex}`)), ...op.patch };
      last.set(op.ifindex, next);
      table.apply({ op: 'new', record: next });
    }
    for (const [name, link] of table.links) expect(link.name).toBe(name);
  }
  // ...and still right after every later message.
  const values = valuesNow();
  for (const t of taken) expectSnapshotHolds(t, values);
  // A snapshot of the end state: its links are the table's, its index is right.
  const end: Taken = { snapshot: table.snapshot(), copy: new Map(table.links) };
  expectSnapshotHolds(end, values);
}

describe('link index kept by the link table', () => {
  it('every snapshot keeps its links, and its index agrees with one built from them (random messages)', () => {
    fc.assert(
      fc.property(fc.array(tableOp, { minLength: 5, maxLength: 40, size: 'max' }), (ops) => runTableOps(ops)),
      RUNS,
    );
  });

  it('a snapshot taken before a master is renamed and deleted still finds its slaves under the old name', () => {
    const t = new LinkTable();
    t.apply({ op: 'new', record: record(2, 'br0', { kind: 'bridge' }) });
    t.apply({ op: 'new', record: record(7, 'tap7', { masterIndex: 2 }) });
    t.apply({ op: 'new', record: record(5, 'tap5', { masterIndex: 2 }) });
    const before = t.snapshot();
    t.apply({ op: 'new', record: record(2, 'br1', { kind: 'bridge' }) });
    const renamed = t.snapshot();
    t.apply({ op: 'del', ifindex: 2, name: 'br1' });
    const deleted = t.snapshot();
    expect(slavesOf(before, 'br0').map((l) => l.name)).toEqual(['tap5', 'tap7']);
    expect(slavesOf(before, 'br1')).toEqual([]);
    expect(slavesOf(renamed, 'br0')).toEqual([]);
    expect(slavesOf(renamed, 'br1').map((l) => l.name)).toEqual(['tap5', 'tap7']);
    expect(slavesOf(deleted, 'br1')).toEqual([]);
    expect(slavesOf(deleted, 'if2').map((l) => l.name)).toEqual(['tap5', 'tap7']);
    expect(before.links.has('br0')).toBe(true);
    expect(deleted.links.has('br1')).toBe(false);
  });

  it('veth peers, macvtaps, aliases and groups are found through the index, in ifindex order', () => {
    const t = new LinkTable();
    t.apply({ op: 'new', record: record(9, 'eth0', { kind: 'other', group: 1 }) });
    t.apply({ op: 'new', record: record(4, 'mvt4', { kind: 'macvtap', linkIndex: 9, alias: 'port-a', group: 1 }) });
    t.apply({ op: 'new', record: record(3, 'mvt3', { kind: 'macvtap', linkIndex: 9, group: 1 }) });
    t.apply({ op: 'new', record: record(11, 'va', { kind: 'veth', linkIndex: 12, alias: 'port-a' }) });
    t.apply({ op: 'new', record: record(12, 'vb', { kind: 'veth', linkIndex: 11 }) });
    const s = t.snapshot();
    expect(linksOn(s, 'eth0').map((l) => l.name)).toEqual(['mvt3', 'mvt4']);
    expect(linksOn(s, 'va').map((l) => l.name)).toEqual(['vb']);
    expect(linksOn(s, 'vb').map((l) => l.name)).toEqual(['va']);
    expect(linksWithAlias(s, 'port-a').map((l) => l.name)).toEqual(['mvt4', 'va']);
    expect(linksInGroup(s, 1).map((l) => l.name)).toEqual(['mvt3', 'mvt4', 'eth0']);
    expect(linksInGroup(s, 0).map((l) => l.name)).toEqual(['va', 'vb']);
  });

  it('linkIndexOf builds an index once for a snapshot without one, and it agrees with the lookups', () => {
    const observed = (ifindex: number, name: string, master?: string): [string, ObservedLink] => {
      const { masterIndex: _m, linkIndex: _l, ...rest } = record(ifindex, name);
      return [name, { ...rest, master, link: undefined }];
    };
    const plain: LinkSnapshot = { links: new Map([observed(8, 'b'), observed(2, 't2', 'b'), observed(6, 't1', 'b')]) };
    expect(linkIndexOf(plain)).toBe(linkIndexOf(plain));
    expect(slavesOf(plain, 'b').map((l) => l.name)).toEqual(['t2', 't1']);
    expect(linkIndexOf(plain).byMaster.get('nobody')).toBeUndefined();
  });
});
