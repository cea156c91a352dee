// A live replica of the OVS tables vifd cares about, kept by an OVSDB
// `monitor`. After a reconnect (with ReconnectingOvsdbClient) the monitor is
// re-established, its initial contents replace the replica, and whatever
// changed while disconnected is reported like any other change.
import { EventEmitter } from 'node:events';
import { applyTableUpdates, emptyRawTables, OVS_COLUMNS, OVS_TABLES, parseOvsRows, type OvsSnapshot, type RawTables } from './parse-rows.js';
import { diffSnapshots, emptySnapshot, isEmptyChange, type OvsChange } from './snapshot-diff.js';
import { OPEN_VSWITCH_DB } from './transact.js';
import type { MonitorHandle, MonitorRequest, OvsdbMonitorHost, TableUpdates } from './types.js';

export interface OvsChangeEvent extends OvsChange {
  /** True when the change comes from a (re)synchronisation, not an update. */
  resync: boolean;
}

export interface OvsMonitorEvents {
  /** Names of bridges/ports/interfaces added, removed or modified. */
  change: [change: OvsChangeEvent, snapshot: OvsSnapshot];
  /** The full contents arrived (first start, and after every reconnect). */
  resync: [snapshot: OvsSnapshot];
}

export class OvsMonitor extends EventEmitter<OvsMonitorEvents> {
  private readonly host: OvsdbMonitorHost;
  private tables: RawTables = emptyRawTables();
  private current: OvsSnapshot = emptySnapshot();
  private synced = false;
  private handle: MonitorHandle | undefined;

  constructor(host: OvsdbMonitorHost) {
    super();
    this.host = host;
  }

  /** True once the initial contents have been received. */
  get isSynced(): boolean {
    return this.synced;
  }

  /** The current replica. Treat as read-only; it is replaced, not mutated, on change. */
  snapshot(): OvsSnapshot {
    return this.current;
  }

  /** Starts the monitor; resolves with the initial snapshot. */
  async start(): Promise<OvsSnapshot> {
    if (this.handle) return this.current;
    const requests: Record<string, MonitorRequest> = Object.fromEntries(OVS_TABLES.map((t) => [t, { columns: [...OVS_COLUMNS[t]] }]));
    this.handle = await this.host.startMonitor({
      db: OPEN_VSWITCH_DB,
      requests,
      onInitial: (updates) => this.onInitial(updates),
      onUpdate: (updates) => this.onUpdate(updates),
    });
    return this.current;
  }

  async stop(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.cancel();
  }

  private onInitial(updates: TableUpdates): void {
    const first = !this.synced;
    this.tables = applyTableUpdates(emptyRawTables(), updates);
    this.synced = true;
    this.publish(true, first);
    this.emit('resync', this.current);
  }

  private onUpdate(updates: TableUpdates): void {
    applyTableUpdates(this.tables, updates);
    this.publish(false, false);
  }

  private publish(resync: boolean, quiet: boolean): void {
    const next = parseOvsRows(this.tables);
    const change = diffSnapshots(this.current, next);
    this.current = next;
    if (!quiet && !isEmptyChange(change)) this.emit('change', { ...change, resync }, next);
  }
}
