// Wire types of RFC 7047 (the OVSDB management protocol), and the small
// interfaces that connect the client's layers. No runtime code.

/** An atom: a scalar or a UUID reference (`named-uuid` only inside a transact). */
export type OvsdbAtom = string | number | boolean | ['uuid', string] | ['named-uuid', string];
export type OvsdbSet = ['set', OvsdbAtom[]];
export type OvsdbMap = ['map', [OvsdbAtom, OvsdbAtom][]];
/** A column value: an atom (a one-element set may be sent bare), a set or a map. */
export type OvsdbValue = OvsdbAtom | OvsdbSet | OvsdbMap;

/** A row as the server sends it (only the columns asked for). */
export type OvsdbRow = Record<string, OvsdbValue>;

/** One row's change in a `monitor` update (RFC 7047 §4.1.6). */
export interface RowUpdate {
  old?: OvsdbRow;
  new?: OvsdbRow;
}

/** `<table-updates>`: table name → row UUID → change. */
export type TableUpdates = Record<string, Record<string, RowUpdate>>;

/** `<monitor-request>`: which columns of a table to watch, and which changes. */
export interface MonitorRequest {
  columns?: string[];
  select?: { initial?: boolean; insert?: boolean; delete?: boolean; modify?: boolean };
}

export interface RequestOptions {
  /** Per-request timeout in ms (default: the connection's). */
  timeoutMs?: number;
}

/** Anything that can send a JSON-RPC request to an ovsdb-server: a single
 * connection or a reconnecting client. */
export interface OvsdbRequester {
  request<T = unknown>(method: string, params: unknown[], options?: RequestOptions): Promise<T>;
}

/** A monitor to establish; `onInitial` gets the full current contents of the
 * monitored columns (again after every reconnect), `onUpdate` each change. */
export interface MonitorSpec {
  db: string;
  requests: Record<string, MonitorRequest>;
  onInitial(updates: TableUpdates): void;
  onUpdate(updates: TableUpdates): void;
}

export interface MonitorHandle {
  /** The JSON-RPC monitor id on the current connection. */
  readonly id: string;
  /** Sends `monitor_cancel` (if connected) and stops delivering updates. */
  cancel(): Promise<void>;
}

/** Something that can run monitors: OvsdbConnection (for its lifetime) or
 * ReconnectingOvsdbClient (re-established after each reconnect). */
export interface OvsdbMonitorHost extends OvsdbRequester {
  startMonitor(spec: MonitorSpec): Promise<MonitorHandle>;
}
