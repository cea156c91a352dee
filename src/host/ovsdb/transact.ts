// Building and running one OVSDB `transact` (RFC 7047 §4.1.3, §5.2).
// A transaction is atomic: if any operation fails, nothing is committed and
// the reply carries the per-operation error, which becomes an
// OvsdbTransactionError listing every failure.
import { OvsdbProtocolError, OvsdbTransactionError, type OvsdbOpFailure } from './errors.js';
import type { OvsdbRequester, OvsdbRow, OvsdbValue, RequestOptions } from './types.js';

export const OPEN_VSWITCH_DB = 'Open_vSwitch';

export type ConditionFunction = '==' | '!=' | 'includes' | 'excludes' | '<' | '<=' | '>' | '>=';
export type Condition = [column: string, fn: ConditionFunction, value: OvsdbValue];
export type Mutator = '+=' | '-=' | '*=' | '/=' | '%=' | 'insert' | 'delete';
export type Mutation = [column: string, mutator: Mutator, value: OvsdbValue];

export type RowInput = Record<string, OvsdbValue>;

export type Operation =
  | { op: 'insert'; table: string; row: RowInput; 'uuid-name'?: string }
  | { op: 'select'; table: string; where: Condition[]; columns?: string[] }
  | { op: 'update'; table: string; where: Condition[]; row: RowInput }
  | { op: 'mutate'; table: string; where: Condition[]; mutations: Mutation[] }
  | { op: 'delete'; table: string; where: Condition[] }
  | { op: 'wait'; table: string; where: Condition[]; columns: string[]; until: '==' | '!='; rows: RowInput[]; timeout?: number }
  | { op: 'comment'; comment: string }
  | { op: 'assert'; lock: string };

/** What one successful operation returns. */
export interface OpResult {
  uuid?: ['uuid', string];
  rows?: OvsdbRow[];
  count?: number;
}

export const eq = (column: string, value: OvsdbValue): Condition => [column, '==', value];
export const whereUuid = (u: string): Condition[] => [['_uuid', '==', ['uuid', u]]];

export function insertOp(table: string, row: RowInput, uuidName?: string): Operation {
  return uuidName === undefined ? { op: 'insert', table, row } : { op: 'insert', table, row, 'uuid-name': uuidName };
}
export function selectOp(table: string, where: Condition[], columns?: string[]): Operation {
  return columns === undefined ? { op: 'select', table, where } : { op: 'select', table, where, columns };
}
export function updateOp(table: string, where: Condition[], row: RowInput): Operation {
  return { op: 'update', table, where, row };
}
export function mutateOp(table: string, where: Condition[], mutations: Mutation[]): Operation {
  return { op: 'mutate', table, where, mutations };
}
export function deleteOp(table: string, where: Condition[]): Operation {
  return { op: 'delete', table, where };
}
/** `wait`: holds (or fails the transaction after `timeoutMs`, 0 = at once)
 * until the rows matching `where`, projected on `columns`, are (`==`) or are
 * not (`!=`) exactly `rows`. With `columns: [], rows: []`: `==` asserts that
 * no row matches, `!=` that at least one does. */
export function waitOp(table: string, where: Condition[], fields: { columns: string[]; until: '==' | '!='; rows: RowInput[]; timeoutMs?: number }): Operation {
  const op: Operation = { op: 'wait', table, where, columns: fields.columns, until: fields.until, rows: fields.rows };
  if (fields.timeoutMs !== undefined) op.timeout = fields.timeoutMs;
  return op;
}
export function commentOp(comment: string): Operation {
  return { op: 'comment', comment };
}

/** Checks a `transact` reply against its operations: returns the results or
 * throws OvsdbTransactionError with every failed operation. Pure. */
export function checkTransactReply(ops: readonly Operation[], reply: unknown): OpResult[] {
  if (!Array.isArray(reply)) throw new OvsdbProtocolError({ message: 'transact reply is not an array', excerpt: JSON.stringify(reply)?.slice(0, 200) });
  const failures: OvsdbOpFailure[] = [];
  reply.forEach((entry: unknown, index) => {
    if (entry === null || typeof entry !== 'object') return; // null: not executed after an earlier failure
    const e = entry as Record<string, unknown>;
    if (typeof e.error !== 'string') return;
    const op = ops[index];
    failures.push({
      index,
      op: op?.op,
      table: op && 'table' in op ? op.table : undefined,
      error: e.error,
      details: typeof e.details === 'string' ? e.details : undefined,
      syntax: typeof e.syntax === 'string' ? e.syntax : undefined,
    });
  });
  if (failures.length > 0) throw new OvsdbTransactionError({ failures, results: reply });
  return reply as OpResult[];
}

/** Runs one transaction on `db` and returns one result per operation. */
export async function transact(client: OvsdbRequester, ops: readonly Operation[], options: RequestOptions & { db?: string } = {}): Promise<OpResult[]> {
  const reply = await client.request('transact', [options.db ?? OPEN_VSWITCH_DB, ...ops], options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs });
  return checkTransactReply(ops, reply);
}
