// vifd's OVS actuation: many bridge/port changes as ONE OVSDB transaction,
// with may-exist / if-exists semantics, then (optionally) waiting until
// ovs-vswitchd has applied the new configuration, as ovs-vsctl does.
import { OvsdbReconfigureTimeoutError, OvsdbTransactionError } from './errors.js';
import type { OvsSnapshot } from './parse-rows.js';
import { planOvsTransaction, type OvsChanges, type OvsPlan } from './ovs-plan.js';
import { snapshotOvs } from './snapshot.js';
import { transact, waitOp } from './transact.js';
import type { OvsdbRequester } from './types.js';

export type { AddPort, DeletePort, EnsureBridge, OvsChanges, PortVlan, UpdateIfaceExternalIds, UpdatePortVlan } from './ovs-plan.js';

export interface ApplyOvsOptions {
  /** The state to plan from (e.g. the monitor's replica). Without it, one is
   * read first (one `select` transaction). Retries always re-read. */
  snapshot?: OvsSnapshot;
  /** Wait until ovs-vswitchd reports cur_cfg >= our next_cfg: false (default)
   * or true (10 s) or a timeout in ms. */
  waitForVswitchd?: boolean | number;
  /** Attempts when a guard finds the snapshot stale (default 3). */
  maxAttempts?: number;
  /** Per-request timeout (ms). */
  timeoutMs?: number;
  /** Guard inserts with `wait` ops (default true). */
  guards?: boolean;
  /** Text for the ovsdb-server log (a `comment` op). */
  comment?: string;
}

/** What the transaction did to bridges and ports: the plan's own record of it. */
type PortOutcomes = Pick<OvsPlan, 'createdBridges' | 'deletedBridges' | 'addedPorts' | 'existingPorts' | 'movedPorts' | 'deletedPorts' | 'missingPorts'>;

export interface ApplyOvsResult extends PortOutcomes {
  /** False when there was nothing to do (no transaction sent). */
  committed: boolean;
  attempts: number;
  operations: number;
  /** Interfaces whose external_ids were updated / that did not exist. */
  updatedInterfaces: string[];
  missingInterfaces: string[];
  nextCfg: number | undefined;
  /** Time spent waiting for ovs-vswitchd (ms), when asked to. */
  reconfigureMs: number | undefined;
  transactMs: number;
}

function isStaleSnapshot(error: unknown): boolean {
  return error instanceof OvsdbTransactionError && error.failures.some((f) => (f.op === 'wait' && f.error === 'timed out') || f.error === 'constraint violation');
}

/** Applies `changes` in one transaction. Throws OvsChangesError (bad input,
 * nothing sent), OvsdbTransactionError (refused; nothing committed),
 * OvsdbReconfigureTimeoutError (committed, but ovs-vswitchd is late), or a
 * connection error (OvsdbClosedError/OvsdbTimeoutError: may have committed). */
export async function applyOvsChanges(client: OvsdbRequester, changes: OvsChanges, options: ApplyOvsOptions = {}): Promise<ApplyOvsResult> {
  const maxAttempts = options.maxAttempts ?? 3;
  const req = options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs };
  let snapshot = options.snapshot;
  for (let attempt = 1; ; attempt++) {
    snapshot ??= await snapshotOvs(client, req);
    const plan = planOvsTransaction(snapshot, changes, {
      ...(options.guards === undefined ? {} : { guards: options.guards }),
      ...(options.comment === undefined ? {} : { comment: options.comment }),
    });
    if (plan.ops.length === 0) return result(plan, attempt, false, [], undefined, 0);
    const started = performance.now();
    let replies;
    try {
      replies = await transact(client, plan.ops, req);
    } catch (error) {
      if (attempt < maxAttempts && isStaleSnapshot(error)) {
        snapshot = undefined;
        continue;
      }
      throw error;
    }
    const transactMs = performance.now() - started;
    const nextCfg = plan.nextCfgOp === undefined ? undefined : (replies[plan.nextCfgOp]?.rows?.[0]?.next_cfg as number | undefined);
    let reconfigureMs: number | undefined;
    if (options.waitForVswitchd && nextCfg !== undefined) {
      const timeoutMs = options.waitForVswitchd === true ? 10_000 : options.waitForVswitchd;
      const t0 = performance.now();
      await waitForCurCfg(client, nextCfg, timeoutMs);
      reconfigureMs = performance.now() - t0;
    }
    return result(plan, attempt, true, replies, nextCfg, transactMs, reconfigureMs);
  }
}

/** Waits (server side, one `wait` op) until Open_vSwitch.cur_cfg >= nextCfg. */
export async function waitForCurCfg(client: OvsdbRequester, nextCfg: number, timeoutMs: number): Promise<void> {
  try {
    await transact(client, [waitOp('Open_vSwitch', [['cur_cfg', '>=', nextCfg]], { columns: [], until: '!=', rows: [], timeoutMs })], { timeoutMs: timeoutMs + 5_000 });
  } catch (error) {
    if (error instanceof OvsdbTransactionError) throw new OvsdbReconfigureTimeoutError({ nextCfg, timeoutMs, cause: error });
    throw error;
  }
}

function result(plan: OvsPlan, attempts: number, committed: boolean, replies: { count?: number }[], nextCfg: number | undefined, transactMs: number, reconfigureMs?: number): ApplyOvsResult {
  const updatedInterfaces: string[] = [];
  const missingInterfaces: string[] = [];
  for (const [name, index] of plan.updateOps) (replies[index]?.count ? updatedInterfaces : missingInterfaces).push(name);
  return {
    committed,
    attempts,
    operations: plan.ops.length,
    createdBridges: plan.createdBridges,
    deletedBridges: plan.deletedBridges,
    addedPorts: plan.addedPorts,
    existingPorts: plan.existingPorts,
    movedPorts: plan.movedPorts,
    deletedPorts: plan.deletedPorts,
    missingPorts: plan.missingPorts,
    updatedInterfaces: committed ? updatedInterfaces : [],
    missingInterfaces: committed ? missingInterfaces : [...plan.updateOps.keys()],
    nextCfg,
    reconfigureMs,
    transactMs,
  };
}
