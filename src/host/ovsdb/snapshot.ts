// One-shot read of OVS: a single `transact` of `select` ops (a consistent
// view, like a monitor's initial contents, without leaving a monitor behind).
import { OVS_COLUMNS, OVS_TABLES, parseOvsRows, rawTablesFromSelect, type OvsSnapshot, type RawTables } from './parse-rows.js';
import { selectOp, transact } from './transact.js';
import type { OvsdbRequester, OvsdbRow, RequestOptions } from './types.js';

/** Selects the raw rows of the tables vifd reads. */
export async function selectOvsRows(client: OvsdbRequester, options: RequestOptions = {}): Promise<RawTables> {
  const ops = OVS_TABLES.map((table) => selectOp(table, [], ['_uuid', ...OVS_COLUMNS[table]]));
  const results = await transact(client, ops, options);
  return rawTablesFromSelect(Object.fromEntries(OVS_TABLES.map((table, i) => [table, (results[i]?.rows ?? []) as OvsdbRow[]])));
}

/** The current bridges, ports and interfaces, keyed by name. */
export async function snapshotOvs(client: OvsdbRequester, options: RequestOptions = {}): Promise<OvsSnapshot> {
  return parseOvsRows(await selectOvsRows(client, options));
}
