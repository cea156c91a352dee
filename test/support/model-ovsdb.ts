// A model ovsdb-server for the Open_vSwitch tables vifd uses: runs the
// `transact` operations vifd sends (insert, mutate, update, wait, select,
// comment) atomically, with RFC 7047 rules: named-uuid references, unique
// names per table (a duplicate fails the whole transaction with "constraint
// violation"), map `insert` keeping existing keys, garbage collection of
// Bridge/Port/Interface rows no longer referenced from the root, and a Port
// needing at least one Interface. Interface.error is what ovs-vswitchd
// would report for a system interface whose kernel device is missing.
import type { Condition, Operation, OpResult } from '../../src/host/ovsdb/transact.js';
import type { OvsdbAtom, OvsdbRequester, OvsdbRow, OvsdbValue } from '../../src/host/ovsdb/types.js';
import { parseOvsRows, type OvsSnapshot, type RawTables } from '../../src/host/ovsdb/parse-rows.js';

type Row = Record<string, OvsdbValue>;
type Tables = Record<string, Map<string, Row>>;

const TABLES = ['Open_vSwitch', 'Bridge', 'Port', 'Interface'] as const;
const ROOT = '00000000-0000-4000-8000-000000000000';

const isTag = (v: unknown, tag: string): v is [string, unknown] => Array.isArray(v) && v.length === 2 && v[0] === tag;
const setOf = (v: OvsdbValue | undefined): OvsdbAtom[] => (v === undefined ? [] : isTag(v, 'set') ? (v[1] as OvsdbAtom[]) : [v as OvsdbAtom]);
const mapOf = (v: OvsdbValue | undefined): Array<[OvsdbAtom, OvsdbAtom]> => (isTag(v, 'map') ? (v[1] as Array<[OvsdbAtom, OvsdbAtom]>) : []);
const refOf = (a: OvsdbAtom): string | undefined => (isTag(a, 'uuid') ? (a[1] as string) : undefined);
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

class OpError extends Error {
  constructor(readonly error: string, readonly details: string) {
    super(`${error}: ${details}`);
  }
}

export class ModelOvsdb implements OvsdbRequester {
  tables: Tables = Object.fromEntries(TABLES.map((t) => [t, new Map<string, Row>()])) as Tables;
  private n = 1;
  transactions = 0;
  /** Kernel device names, for Interface.error (set by the model host). */
  kernelHas: (name: string) => boolean = () => true;

  constructor() {
    this.tables['Open_vSwitch']!.set(ROOT, { bridges: ['set', []], next_cfg: 0, cur_cfg: 0 });
  }

  clone(): ModelOvsdb {
    const copy = new ModelOvsdb();
    copy.tables = structuredClone(this.tables);
    copy.n = this.n;
    return copy;
  }

  private uuid(): string {
    const hex = (this.n++).toString(16).padStart(12, '0');
    return `10000000-0000-4000-8000-${hex}`;
  }

  snapshot(): OvsSnapshot {
    const raw: RawTables = {};
    for (const t of TABLES) raw[t] = new Map([...this.tables[t]!].map(([u, r]) => [u, this.view(t, r)]));
    return parseOvsRows(raw);
  }

  private view(table: string, row: Row): OvsdbRow {
    if (table !== 'Interface') return row;
    const name = String(row['name']);
    const missing = (row['type'] ?? '') === '' && !this.kernelHas(name);
    return { ...row, error: missing ? `could not open network device ${name} (No such device)` : ['set', []], ofport: missing ? -1 : 1 };
  }

  /** Adds a bridge with its internal port as another agent (ovs-vsctl) would. */
  addBridge(name: string, externalIds: Record<string, string> = {}): void {
    void this.transactNow([
      { op: 'insert', table: 'Interface', row: { name, type: 'internal' }, 'uuid-name': 'i' },
      { op: 'insert', table: 'Port', row: { name, interfaces: ['named-uuid', 'i'] }, 'uuid-name': 'p' },
      { op: 'insert', table: 'Bridge', row: { name, ports: ['named-uuid', 'p'], external_ids: ['map', Object.entries(externalIds)] }, 'uuid-name': 'b' },
      { op: 'mutate', table: 'Open_vSwitch', where: [], mutations: [['bridges', 'insert', ['set', [['named-uuid', 'b']]]]] },
    ]);
  }

  /** Adds a port (one system interface) to a bridge as another agent would. */
  addPort(bridge: string, name: string, ifaceIds: Record<string, string> = {}, portIds: Record<string, string> = {}): void {
    void this.transactNow([
      { op: 'insert', table: 'Interface', row: { name, external_ids: ['map', Object.entries(ifaceIds)] }, 'uuid-name': 'i' },
      { op: 'insert', table: 'Port', row: { name, interfaces: ['named-uuid', 'i'], external_ids: ['map', Object.entries(portIds)] }, 'uuid-name': 'p' },
      { op: 'mutate', table: 'Bridge', where: [['name', '==', bridge]], mutations: [['ports', 'insert', ['set', [['named-uuid', 'p']]]]] },
    ]);
  }

  request<T = unknown>(method: string, params: unknown[]): Promise<T> {
    if (method !== 'transact' || params[0] !== 'Open_vSwitch') return Promise.reject(new Error(`model ovsdb: ${method}`));
    this.transactions++;
    return Promise.resolve(this.transactNow(params.slice(1) as Operation[]) as T);
  }

  /** One atomic transaction: the reply as ovsdb-server sends it. */
  transactNow(ops: readonly Operation[]): Array<OpResult | { error: string; details: string } | null> {
    const work = structuredClone(this.tables);
    const named = new Map<string, string>();
    for (const op of ops) if (op.op === 'insert' && op['uuid-name']) named.set(op['uuid-name'], this.uuid());
    const reply: Array<OpResult | { error: string; details: string } | null> = [];
    try {
      for (const op of ops) {
        try {
          reply.push(this.runOp(work, op, named));
        } catch (error) {
          if (!(error instanceof OpError)) throw error;
          reply.push({ error: error.error, details: error.details });
          while (reply.length < ops.length) reply.push(null);
          return reply;
        }
      }
      this.commit(work);
    } catch (error) {
      if (!(error instanceof OpError)) throw error;
      reply.push({ error: error.error, details: error.details });
      return reply;
    }
    this.tables = work;
    return reply;
  }

  private resolve(v: OvsdbValue, named: Map<string, string>): OvsdbValue {
    if (isTag(v, 'named-uuid')) {
      const u = named.get(v[1] as string);
      if (!u) throw new OpError('referential integrity violation', `unknown named-uuid ${String(v[1])}`);
      return ['uuid', u];
    }
    if (isTag(v, 'set')) return ['set', (v[1] as OvsdbAtom[]).map((a) => this.resolve(a, named) as OvsdbAtom)];
    return v;
  }

  private matches(table: string, uuid: string, row: Row, where: readonly Condition[]): boolean {
    return where.every(([col, fn, value]) => {
      const actual = col === '_uuid' ? ['uuid', uuid] : row[col];
      if (fn === '==') return same(actual, value);
      if (fn === '!=') return !same(actual, value);
      if (fn === '>=' && typeof actual === 'number' && typeof value === 'number') return actual >= value;
      throw new OpError('not supported', `model: condition ${col} ${fn} on ${table}`);
    });
  }

  private rows(work: Tables, table: string, where: readonly Condition[]): Array<[string, Row]> {
    const t = work[table];
    if (!t) throw new OpError('unknown table', table);
    return [...t].filter(([u, r]) => this.matches(table, u, r, where));
  }

  private runOp(work: Tables, op: Operation, named: Map<string, string>): OpResult {
    switch (op.op) {
      case 'comment':
        return {};
      case 'insert': {
        const u = op['uuid-name'] ? named.get(op['uuid-name'])! : this.uuid();
        const row: Row = {};
        for (const [k, v] of Object.entries(op.row)) row[k] = this.resolve(v, named);
        work[op.table]!.set(u, row);
        return { uuid: ['uuid', u] };
      }
      case 'select':
        return { rows: this.rows(work, op.table, op.where).map(([u, r]) => {
          const v = this.view(op.table, r);
          const cols = op.columns ?? Object.keys(v);
          return Object.fromEntries([['_uuid', ['uuid', u]], ...cols.filter((c) => c !== '_uuid').map((c) => [c, v[c] ?? ['set', []]])]);
        }) };
      case 'update': {
        const hit = this.rows(work, op.table, op.where);
        for (const [, r] of hit) for (const [k, v] of Object.entries(op.row)) r[k] = this.resolve(v, named);
        return { count: hit.length };
      }
      case 'mutate': {
        const hit = this.rows(work, op.table, op.where);
        for (const [, r] of hit) for (const [col, mutator, value] of op.mutations) r[col] = this.mutate(r[col], mutator, this.resolve(value, named), col);
        return { count: hit.length };
      }
      case 'wait': {
        const hit = this.rows(work, op.table, op.where);
        if (op.columns.length !== 0 || op.rows.length !== 0) throw new OpError('not supported', 'model: wait with columns');
        const ok = op.until === '==' ? hit.length === 0 : hit.length > 0;
        if (!ok) throw new OpError('timed out', `wait on ${op.table}`);
        return {};
      }
      default:
        throw new OpError('not supported', `model: op ${op.op}`);
    }
  }

  private mutate(current: OvsdbValue | undefined, mutator: string, value: OvsdbValue, col: string): OvsdbValue {
    if (mutator === '+=') return (typeof current === 'number' ? current : 0) + (value as number);
    if (col === 'external_ids') {
      const map = new Map(mapOf(current).map(([k, v]) => [String(k), v]));
      if (mutator === 'delete') {
        if (isTag(value, 'map')) for (const [k, v] of mapOf(value)) { if (same(map.get(String(k)), v)) map.delete(String(k)); }
        else for (const k of setOf(value)) map.delete(String(k));
      } else if (mutator === 'insert') {
        for (const [k, v] of mapOf(value)) if (!map.has(String(k))) map.set(String(k), v); // insert keeps existing keys
      } else throw new OpError('not supported', `model: ${mutator} on a map`);
      return ['map', [...map].map(([k, v]) => [k, v] as [OvsdbAtom, OvsdbAtom])];
    }
    const set = setOf(current);
    const items = setOf(value);
    if (mutator === 'insert') return ['set', [...set, ...items.filter((a) => !set.some((b) => same(a, b)))]];
    if (mutator === 'delete') return ['set', set.filter((a) => !items.some((b) => same(a, b)))];
    throw new OpError('not supported', `model: ${mutator} on ${col}`);
  }

  /** Commit-time checks: garbage collection from the root, then constraints. */
  private commit(work: Tables): void {
    const refs = (table: string, col: string, uuids: Iterable<string>) => {
      const out = new Set<string>();
      for (const u of uuids) for (const a of setOf(work[table]!.get(u)?.[col])) { const r = refOf(a); if (r) out.add(r); }
      return out;
    };
    const bridges = refs('Open_vSwitch', 'bridges', work['Open_vSwitch']!.keys());
    const ports = refs('Bridge', 'ports', [...bridges].filter((u) => work['Bridge']!.has(u)));
    const ifaces = refs('Port', 'interfaces', [...ports].filter((u) => work['Port']!.has(u)));
    for (const [table, keep] of [['Bridge', bridges], ['Port', ports], ['Interface', ifaces]] as const) {
      for (const u of [...work[table]!.keys()]) if (!keep.has(u)) work[table]!.delete(u);
      for (const u of keep) if (!work[table]!.has(u)) throw new OpError('referential integrity violation', `${table} ${u} does not exist`);
      const names = new Set<string>();
      for (const row of work[table]!.values()) {
        const name = String(row['name']);
        if (names.has(name)) throw new OpError('constraint violation', `${table} ${name} is not unique`);
        names.add(name);
      }
    }
    for (const row of work['Port']!.values()) if (setOf(row['interfaces']).length === 0) throw new OpError('constraint violation', `port ${String(row['name'])} has no interface`);
    // A port or interface in two places at once is a broken database too.
    const seen = new Set<string>();
    for (const u of work['Bridge']!.keys()) for (const a of setOf(work['Bridge']!.get(u)!['ports'])) {
      const r = refOf(a)!;
      if (seen.has(r)) throw new OpError('constraint violation', `port ${r} on two bridges`);
      seen.add(r);
    }
  }
}
