// Guards lib/versioned-map.ts (VersionedMap, SnapshotMap) and
// lib/versioned-set-map.ts (VersionedSetMap, SetIndex, MemberSet): a snapshot
// must read, forever, exactly what the map held when it was taken, however
// many writes and later snapshots follow. Each snapshot is checked against a
// plain copy (new Map / a Map of Sets) made at the same moment, at every
// later snapshot and at the end of a random sequence of writes.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VersionedMap, type SnapshotMap } from '../../src/lib/versioned-map.js';
import { VersionedSetMap, type MemberSet, type SetIndex } from '../../src/lib/versioned-set-map.js';

const RUNS = { numRuns: 200 };
const sorted = (xs: Iterable<string>): string[] => [...xs].sort();

// ---------------------------------------------------------------- VersionedMap

// Keys that share prefixes ('p/', 'p', 'q/'), so changedSince must cut exactly.
const KEYS = ['p/a', 'p/b', 'p/ab', 'pa', 'q/a', 'a', ''];
const PREFIXES = ['p/', 'p', 'q/', 'p/a', ''];

type MapOp = { op: 'set'; key: string; value: number } | { op: 'delete'; key: string } | { op: 'snapshot' } | { op: 'check' };

const mapOp: fc.Arbitrary<MapOp> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('set' as const), key: fc.constantFrom(...KEYS), value: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('delete' as const), key: fc.constantFrom(...KEYS) }) },
  { weight: 2, arbitrary: fc.constant({ op: 'snapshot' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'check' as const }) },
);

interface Taken {
  view: SnapshotMap<string, number>;
  /** The live map copied when `view` was taken. */
  copy: Map<string, number>;
  /** Keys written (set, or delete of a present key) after `view` was taken. */
  touched: Set<string>;
}

/** A map as plain data: size, get/has of every key, and what each way of iterating yields (sorted, duplicates kept). */
function describeMap(map: ReadonlyMap<string, number>): unknown {
  const forEach: string[] = [];
  map.forEach((value, key, self) => forEach.push(`${key}=${value}${self === map ? '' : ' (wrong map)'}`));
  return {
    size: map.size,
    get: KEYS.map((key) => map.get(key)),
    has: KEYS.map((key) => map.has(key)),
    entries: [...map.entries()].map(([k, v]) => `${k}=${v}`).sort(),
    iterator: [...map].map(([k, v]) => `${k}=${v}`).sort(),
    keys: sorted(map.keys()),
    values: [...map.values()].sort(),
    forEach: forEach.sort(),
  };
}

/** changedSince(prefix) for every prefix, judged by what it promises: every
 * key whose value moved since the snapshot, nothing that was not written
 * since (its cost is what changed), no duplicate, the prefix cut off. A key
 * written and put back may or may not be named. Returns the broken promises. */
function changedSinceFaults(view: SnapshotMap<string, number>, copy: ReadonlyMap<string, number>, live: ReadonlyMap<string, number>, touched: ReadonlySet<string>): string[] {
  const faults: string[] = [];
  for (const prefix of PREFIXES) {
    const reported = [...view.changedSince(prefix)];
    const full = new Set(reported.map((rest) => prefix + rest));
    if (full.size !== reported.length) faults.push(`${JSON.stringify(prefix)}: duplicates in ${JSON.stringify(reported)}`);
    for (const key of KEYS) {
      const moved = copy.has(key) !== live.has(key) || copy.get(key) !== live.get(key);
      if (key.startsWith(prefix) && moved && !full.has(key)) faults.push(`${JSON.stringify(prefix)}: misses ${JSON.stringify(key)}, which moved`);
    }
    for (const key of full) if (!touched.has(key)) faults.push(`${JSON.stringify(prefix)}: names ${JSON.stringify(key)}, not written since`);
  }
  return faults;
}

function expectHolds(t: Taken, live: ReadonlyMap<string, number>): void {
  expect(describeMap(t.view)).toEqual(describeMap(t.copy));
  expect(changedSinceFaults(t.view, t.copy, live, t.touched)).toEqual([]);
}

function runMapOps(ops: readonly MapOp[]): void {
  const map = new VersionedMap<string, number>();
  const taken: Taken[] = [];
  for (const op of ops) {
    if (op.op === 'snapshot') {
      taken.push({ view: map.snapshot(), copy: new Map(map.current), touched: new Set() });
      expectHolds(taken.at(-1)!, map.current);
    } else if (op.op === 'check') {
      for (const t of taken) expectHolds(t, map.current);
    } else {
      if (op.op === 'set' || map.has(op.key)) for (const t of taken) t.touched.add(op.key);
      if (op.op === 'set') map.set(op.key, op.value);
      else map.delete(op.key);
    }
  }
  for (const t of taken) expectHolds(t, map.current);
  // And a snapshot of the end state reads the end state.
  expectHolds({ view: map.snapshot(), copy: new Map(map.current), touched: new Set() }, map.current);
}

describe('VersionedMap', () => {
  it('every snapshot reads what the map held when it was taken (random writes and snapshots)', () => {
    fc.assert(
      fc.property(fc.array(mapOp, { minLength: 5, maxLength: 60, size: 'max' }), (ops) => runMapOps(ops)),
      RUNS,
    );
  });

  it('a snapshot stays as it was after later sets and deletes', () => {
    const map = new VersionedMap<string, number>();
    map.set('a', 1);
    map.set('b', 2);
    const s = map.snapshot();
    map.set('a', 10);
    map.delete('b');
    map.set('c', 3);
    expect([...s].sort()).toEqual([['a', 1], ['b', 2]]);
    expect(s.get('a')).toBe(1);
    expect(s.has('b')).toBe(true);
    expect(s.has('c')).toBe(false);
    expect(s.size).toBe(2);
    expect(sorted(s.changedSince(''))).toEqual(['a', 'b', 'c']);
    expect([...map.current].sort()).toEqual([['a', 10], ['c', 3]]);
  });

  it('a chain of snapshots: each older one reads through the logs of the newer ones', () => {
    const map = new VersionedMap<string, number>();
    map.set('k', 1);
    const s1 = map.snapshot();
    map.set('k', 2);
    const s2 = map.snapshot();
    map.delete('k');
    const s3 = map.snapshot();
    map.set('k', 4);
    expect([s1.get('k'), s2.get('k'), s3.get('k'), map.get('k')]).toEqual([1, 2, undefined, 4]);
    expect([s1.size, s2.size, s3.size, map.size]).toEqual([1, 1, 0, 1]);
  });

  it('snapshot() twice without a write returns the same view; a write makes the next one new', () => {
    const map = new VersionedMap<string, number>();
    map.set('a', 1);
    const s1 = map.snapshot();
    expect(map.snapshot()).toBe(s1);
    map.set('a', 2);
    const s2 = map.snapshot();
    expect(s2).not.toBe(s1);
    expect(map.snapshot()).toBe(s2);
    expect(s1.get('a')).toBe(1);
    expect(s2.get('a')).toBe(2);
  });

  it('current is the live map: it moves with every write, and is not a snapshot', () => {
    const map = new VersionedMap<string, number>();
    const current = map.current;
    const s = map.snapshot();
    map.set('a', 1);
    expect(map.current).toBe(current);
    expect(current.get('a')).toBe(1);
    expect(current.size).toBe(1);
    map.delete('a');
    expect(current.has('a')).toBe(false);
    expect(map.get('a')).toBeUndefined();
    expect(map.size).toBe(0);
    expect(s.size).toBe(0);
    expect(current).not.toBe(s);
  });
});

// ------------------------------------------------------------- VersionedSetMap

// Names where one is a prefix of another ('a', 'ab'): one name's iteration
// must not pick up another's members. (Names and members never hold '\0'.)
const NAMES = ['a', 'ab', 'b', ''];
const MEMBERS = ['x', 'y', 'xy', 'z'];

type SetOp = { op: 'add' | 'remove'; name: string; member: string } | { op: 'snapshot' } | { op: 'check' };

const setOp: fc.Arbitrary<SetOp> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('add' as const), name: fc.constantFrom(...NAMES), member: fc.constantFrom(...MEMBERS) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('remove' as const), name: fc.constantFrom(...NAMES), member: fc.constantFrom(...MEMBERS) }) },
  { weight: 2, arbitrary: fc.constant({ op: 'snapshot' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'check' as const }) },
);

type Sets = Map<string, Set<string>>;
const copySets = (sets: Sets): Sets => new Map([...sets].map(([name, set]) => [name, new Set(set)]));

/** One name's members as plain data: undefined, or size, has() of every member, and the iteration (sorted, duplicates kept). */
function describeMembers(set: Pick<MemberSet, 'size' | 'has'> & Iterable<string> | undefined): unknown {
  if (!set) return undefined;
  return { size: set.size, has: MEMBERS.filter((member) => set.has(member)), iterated: sorted(set) };
}

/** What the plain copy says a SetIndex must say: a name without members is absent. */
function describeCopy(copy: Sets): unknown {
  return NAMES.map((name) => {
    const set = copy.get(name);
    return { name, has: !!set?.size, get: set?.size ? describeMembers(set) : undefined };
  });
}

function describeIndex(index: SetIndex): unknown {
  return NAMES.map((name) => ({ name, has: index.has(name), get: describeMembers(index.get(name)) }));
}

interface TakenIndex {
  index: SetIndex;
  copy: Sets;
  /** get(name) as handed out when the snapshot was taken, read later. */
  early: Map<string, MemberSet | undefined>;
}

function expectIndexHolds(t: TakenIndex): void {
  const expected = describeCopy(t.copy);
  expect(describeIndex(t.index)).toEqual(expected);
  // A MemberSet handed out earlier reads the same as one asked for now.
  expect(NAMES.map((name) => ({ name, has: t.index.has(name), get: describeMembers(t.early.get(name)) }))).toEqual(expected);
}

function runSetOps(ops: readonly SetOp[]): void {
  const sets = new VersionedSetMap();
  const model: Sets = new Map();
  const taken: TakenIndex[] = [];
  for (const op of ops) {
    if (op.op === 'snapshot') {
      const index = sets.snapshot();
      taken.push({ index, copy: copySets(model), early: new Map(NAMES.map((name) => [name, index.get(name)])) });
      expectIndexHolds(taken.at(-1)!);
    } else if (op.op === 'check') {
      for (const t of taken) expectIndexHolds(t);
    } else if (op.op === 'add') {
      sets.add(op.name, op.member);
      if (!model.has(op.name)) model.set(op.name, new Set());
      model.get(op.name)!.add(op.member);
    } else {
      sets.remove(op.name, op.member);
      model.get(op.name)?.delete(op.member);
      if (model.get(op.name)?.size === 0) model.delete(op.name);
    }
  }
  for (const t of taken) expectIndexHolds(t);
  const end = sets.snapshot();
  expectIndexHolds({ index: end, copy: model, early: new Map(NAMES.map((name) => [name, end.get(name)])) });
}

describe('VersionedSetMap', () => {
  it('every snapshot reads the sets as they were when it was taken (random adds, removes and snapshots)', () => {
    fc.assert(
      fc.property(fc.array(setOp, { minLength: 5, maxLength: 60, size: 'max' }), (ops) => runSetOps(ops)),
      RUNS,
    );
  });

  it('a snapshot keeps members removed later, and not members added later', () => {
    const sets = new VersionedSetMap();
    sets.add('br', 'p1');
    sets.add('br', 'p2');
    const s = sets.snapshot();
    sets.remove('br', 'p1');
    sets.add('br', 'p3');
    expect(sorted(s.get('br')!)).toEqual(['p1', 'p2']);
    expect(s.get('br')!.has('p3')).toBe(false);
    expect(s.get('br')!.size).toBe(2);
    expect(sorted(sets.snapshot().get('br')!)).toEqual(['p2', 'p3']);
  });

  it('a name whose last member goes is absent (get undefined, has false), in the next snapshot only', () => {
    const sets = new VersionedSetMap();
    sets.add('br', 'p1');
    const before = sets.snapshot();
    sets.remove('br', 'p1');
    const after = sets.snapshot();
    expect(after.get('br')).toBeUndefined();
    expect(after.has('br')).toBe(false);
    expect(before.has('br')).toBe(true);
    expect([...before.get('br')!]).toEqual(['p1']);
    sets.remove('br', 'p1'); // removing what is not there changes nothing
    sets.remove('nobody', 'p1');
    expect(sets.snapshot().has('br')).toBe(false);
    expect(sets.snapshot().get('nobody')).toBeUndefined();
  });

  it('adding a member twice counts it once', () => {
    const sets = new VersionedSetMap();
    sets.add('br', 'p1');
    sets.add('br', 'p1');
    const s = sets.snapshot();
    expect(s.get('br')!.size).toBe(1);
    expect([...s.get('br')!]).toEqual(['p1']);
  });
});
