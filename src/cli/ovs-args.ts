// --ovsdb / --ovs-datapath, shared by `run` and `plan`.
import { existsSync } from 'node:fs';
import { DEFAULT_OVSDB } from './option-tables.js';
import { UsageError } from './options.js';
import { READY_WHEN_VALUES, type ReadyWhen } from '../desired/schema.js';

export { DEFAULT_OVSDB, OVS_OPTIONS } from './option-tables.js';

export interface OvsArgs {
  ovsdb?: string;
  ovsDatapathType?: 'system' | 'netdev';
  /** Readiness gate of OVS bindings that name none (default plugged). */
  defaultReadyWhen?: ReadyWhen;
}

/** Without --ovsdb, the host's own OVS is used if its socket exists — but
 * never together with --netns: a test namespace gets only the OVS it names. */
export function ovsArgs(values: { ovsdb?: string | undefined; 'ovs-datapath'?: string | undefined; 'ready-when'?: string | undefined; netns?: string | undefined }): OvsArgs {
  const out: OvsArgs = {};
  if (values.ovsdb !== undefined) {
    if (!values.ovsdb.startsWith('unix:')) throw new UsageError('--ovsdb takes unix:PATH');
    out.ovsdb = values.ovsdb;
  } else if (values.netns === undefined && existsSync(DEFAULT_OVSDB.slice('unix:'.length))) {
    out.ovsdb = DEFAULT_OVSDB;
  }
  const dp = values['ovs-datapath'];
  if (dp !== undefined) {
    if (dp !== 'system' && dp !== 'netdev') throw new UsageError('--ovs-datapath is system or netdev');
    out.ovsDatapathType = dp;
  }
  const gate = values['ready-when'];
  if (gate !== undefined) {
    if (!(READY_WHEN_VALUES as readonly string[]).includes(gate)) throw new UsageError(`--ready-when is ${READY_WHEN_VALUES.join(', ')}`);
    out.defaultReadyWhen = gate as ReadyWhen;
  }
  return out;
}
