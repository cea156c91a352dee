// Raw OVSDB rows (from a monitor or from select ops) → vifd's typed view of
// OVS: bridges, ports and interfaces keyed by name, with UUID references
// resolved to names. Pure: no node:* imports, no I/O.
import { decodeOptional, decodeSet, decodeString, decodeStringMap, decodeUuid, decodeUuidSet } from './datum.js';
import type { OvsdbRow, TableUpdates } from './types.js';

/** The columns vifd reads, per table (for `monitor` and `select`). */
export const OVS_COLUMNS = {
  Open_vSwitch: ['bridges', 'external_ids'],
  Bridge: ['name', 'ports', 'datapath_type', 'external_ids', 'controller', 'fail_mode'],
  // tag, trunks and vlan_mode: read for the readiness gate and for bindings
  // that ask vifd to own the VLAN (docs/design.md §4); never acted on otherwise.
  Port: ['name', 'interfaces', 'external_ids', 'tag', 'trunks', 'vlan_mode'],
  Interface: ['name', 'type', 'external_ids', 'ofport', 'error'],
} as const satisfies Record<string, readonly string[]>;

export type OvsTable = keyof typeof OVS_COLUMNS;
export const OVS_TABLES = Object.keys(OVS_COLUMNS) as OvsTable[];

/** Raw rows: table → row UUID → row. */
export type RawTables = Record<string, Map<string, OvsdbRow>>;

export interface OvsBridge {
  uuid: string;
  name: string;
  datapathType: string;
  externalIds: Record<string, string>;
  /** Port names, sorted. */
  ports: string[];
  /** Controller rows it references (set by an SDN controller, never by vifd). */
  controllers?: number;
  /** fail_mode ("secure", "standalone"), null when unset. */
  failMode?: string | null;
}

export interface OvsPort {
  uuid: string;
  name: string;
  /** The bridge whose `ports` holds it (null for a row no bridge references). */
  bridge: string | null;
  /** Interface names, sorted. */
  interfaces: string[];
  externalIds: Record<string, string>;
  /** VLAN columns (null/empty when unset). */
  tag?: number | null;
  trunks?: number[];
  vlanMode?: string | null;
}

export interface OvsInterface {
  uuid: string;
  name: string;
  type: string;
  externalIds: Record<string, string>;
  /** OpenFlow port number; -1 when it failed; null before ovs-vswitchd set it. */
  ofport: number | null;
  error: string | null;
  /** The port that holds this interface (null if none). */
  port: string | null;
}

export interface OvsSnapshot {
  bridges: Map<string, OvsBridge>;
  ports: Map<string, OvsPort>;
  interfaces: Map<string, OvsInterface>;
  /** The Open_vSwitch row's external_ids (ovn-bridge, ovn-remote, system-id). */
  systemExternalIds?: Record<string, string>;
}

export function emptyRawTables(): RawTables {
  return Object.fromEntries(OVS_TABLES.map((t) => [t, new Map<string, OvsdbRow>()]));
}

/** The reply of a `monitor` (or later `update`s) as raw tables, or applied
 * onto existing ones: `new` replaces the row (a `monitor` update carries every
 * monitored column in `new`), no `new` deletes it. Mutates and returns `tables`. */
export function applyTableUpdates(tables: RawTables, updates: TableUpdates): RawTables {
  for (const [table, rows] of Object.entries(updates)) {
    let target = tables[table];
    if (!target) target = tables[table] = new Map();
    for (const [rowUuid, change] of Object.entries(rows)) {
      if (change.new) target.set(rowUuid, { ...target.get(rowUuid), ...change.new });
      else target.delete(rowUuid);
    }
  }
  return tables;
}

/** Raw tables from the results of `select` ops (rows must include `_uuid`),
 * given as table name → rows. */
export function rawTablesFromSelect(selected: Record<string, readonly OvsdbRow[]>): RawTables {
  const tables = emptyRawTables();
  for (const [table, rows] of Object.entries(selected)) {
    const target = (tables[table] ??= new Map());
    for (const row of rows) {
      const rowUuid = decodeUuid(row._uuid);
      if (rowUuid === undefined) throw new TypeError(`select row of ${table} has no _uuid`);
      target.set(rowUuid, row);
    }
  }
  return tables;
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Builds the typed snapshot. References to rows that are not there (which a
 * consistent database never has) are skipped. */
export function parseOvsRows(tables: RawTables): OvsSnapshot {
  const ifaceRows = tables.Interface ?? new Map<string, OvsdbRow>();
  const portRows = tables.Port ?? new Map<string, OvsdbRow>();
  const bridgeRows = tables.Bridge ?? new Map<string, OvsdbRow>();

  const interfaces = new Map<string, OvsInterface>();
  const ifaceName = new Map<string, string>();
  for (const [rowUuid, row] of ifaceRows) {
    const name = decodeString(row.name);
    ifaceName.set(rowUuid, name);
    interfaces.set(name, {
      uuid: rowUuid,
      name,
      type: decodeString(row.type),
      externalIds: decodeStringMap(row.external_ids),
      ofport: decodeOptional<number>(row.ofport, 'number'),
      error: decodeOptional<string>(row.error, 'string'),
      port: null,
    });
  }

  const ports = new Map<string, OvsPort>();
  const portName = new Map<string, string>();
  for (const [rowUuid, row] of portRows) {
    const name = decodeString(row.name);
    portName.set(rowUuid, name);
    const names: string[] = [];
    for (const ref of decodeUuidSet(row.interfaces)) {
      const n = ifaceName.get(ref);
      if (n === undefined) continue;
      names.push(n);
      const iface = interfaces.get(n);
      if (iface) iface.port = name;
    }
    ports.set(name, {
      uuid: rowUuid,
      name,
      bridge: null,
      interfaces: names.sort(byName),
      externalIds: decodeStringMap(row.external_ids),
      tag: decodeOptional<number>(row.tag, 'number'),
      trunks: decodeSet(row.trunks).filter((t): t is number => typeof t === 'number').sort((a, b) => a - b),
      vlanMode: decodeOptional<string>(row.vlan_mode, 'string'),
    });
  }

  const bridges = new Map<string, OvsBridge>();
  for (const [rowUuid, row] of bridgeRows) {
    const name = decodeString(row.name);
    const names: string[] = [];
    for (const ref of decodeUuidSet(row.ports)) {
      const n = portName.get(ref);
      if (n === undefined) continue;
      names.push(n);
      const port = ports.get(n);
      if (port) port.bridge = name;
    }
    bridges.set(name, {
      uuid: rowUuid,
      name,
      datapathType: decodeString(row.datapath_type),
      externalIds: decodeStringMap(row.external_ids),
      ports: names.sort(byName),
      controllers: decodeUuidSet(row.controller).length,
      failMode: decodeOptional<string>(row.fail_mode, 'string'),
    });
  }
  const system = tables.Open_vSwitch?.values().next().value;
  return { bridges, ports, interfaces, systemExternalIds: system ? decodeStringMap(system.external_ids) : {} };
}

/** The UUID of the single Open_vSwitch row, if known. */
export function openVswitchUuid(tables: RawTables): string | undefined {
  return tables.Open_vSwitch?.keys().next().value;
}
