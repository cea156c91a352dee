// Native OVSDB client (RFC 7047 over a unix socket) for vifd.
export * from './errors.js';
export * from './types.js';
export { parseOvsdbAddress, formatOvsdbAddress, type OvsdbUnixAddress } from './address.js';
export { JsonSplitter, JsonSplitError } from '../../lib/json-splitter.js';
export { OvsdbConnection, type OvsdbConnectionOptions, type OvsdbConnectionEvents } from './connection.js';
export { ReconnectingOvsdbClient, type ReconnectingClientOptions, type ReconnectingClientEvents } from './reconnecting-client.js';
export * from './datum.js';
export * from './transact.js';
export * from './parse-rows.js';
export * from './snapshot-diff.js';
export { snapshotOvs, selectOvsRows } from './snapshot.js';
export { OvsMonitor, type OvsChangeEvent, type OvsMonitorEvents } from './monitor.js';
export { planOvsTransaction, type OvsPlan, type PlanOptions } from './ovs-plan.js';
export { applyOvsChanges, waitForCurCfg, type ApplyOvsOptions, type ApplyOvsResult } from './ovs-ops.js';
export type { AddPort, DeletePort, EnsureBridge, OvsChanges, PortVlan, UpdateIfaceExternalIds, UpdatePortVlan } from './ovs-plan.js';
