// Open vSwitch as the reconciler sees it: a persistent OVSDB connection
// (reconnecting with capped backoff), a monitor whose replica is the
// snapshot of a round (made current by one cheap request) and whose changes
// become work keys, and one transaction per round.
import type { Logger } from 'pino';
import { applyOvsChanges, OvsMonitor, ReconnectingOvsdbClient, snapshotOvs, type ApplyOvsResult, type OvsChanges, type OvsSnapshot } from './ovsdb/index.js';

export interface OvsHostEvents {
  /** Names of bridges, ports or interfaces that changed. */
  onNames(names: string[]): void;
  /** OVSDB came (back): everything OVS-related deserves a look. */
  onResync(): void;
}

/** How long a round waits for a snapshot before OVSDB counts as not answering. */
const SNAPSHOT_PATIENCE_MS = 1500;

export class OvsHost {
  private readonly client: ReconnectingOvsdbClient;
  private readonly monitor: OvsMonitor;
  /** A snapshot request OVSDB has not answered yet (a hung ovsdb-server). */
  private unanswered: Promise<unknown> | undefined;
  private events: OvsHostEvents | undefined;
  /** Why the last snapshot is missing, for the bindings that need OVS. */
  problem: string | undefined;

  constructor(readonly address: string, private readonly logger: Logger) {
    this.client = new ReconnectingOvsdbClient(address, { minBackoffMs: 100, maxBackoffMs: 5000, requestTimeoutMs: 10_000 });
    this.monitor = new OvsMonitor(this.client);
  }

  get connected(): boolean {
    return this.client.connected;
  }

  /** Connects in the background; never fails: OVS may come later. */
  start(events: OvsHostEvents): void {
    this.events = events;
    this.client.on('connected', ({ attempt }) => this.logger.info({ ovsdb: this.address, attempt }, 'OVSDB connected'));
    this.client.on('disconnected', (cause) => {
      this.logger.warn({ ovsdb: this.address, err: cause }, 'OVSDB connection lost; reconnecting');
      events.onResync();
    });
    this.client.on('reconnectFailed', (err, { attempt, delayMs }) => {
      if (attempt === 1 || attempt % 20 === 0) this.logger.warn({ ovsdb: this.address, attempt, delayMs, err }, 'OVSDB not reachable');
    });
    this.monitor.on('change', (change) => events.onNames([...change.bridges, ...change.ports, ...change.interfaces]));
    this.monitor.on('resync', () => events.onResync());
    void this.monitor.start().catch((error: unknown) => this.logger.warn({ err: error }, 'OVSDB monitor not started yet'));
    void this.client.start().catch(() => undefined);
  }

  /** Connects now (for one-shot commands such as `vifd plan`). */
  async connect(timeoutMs: number): Promise<void> {
    await this.client.start(timeoutMs);
  }

  /** A current, consistent view; undefined while OVSDB is unreachable or not
   * answering (then `problem` says which). A round never waits long on a
   * hung ovsdb-server: after a short patience the snapshot is given up (the
   * request stays out; when OVSDB answers it, everything OVS is looked at). */
  async snapshot(): Promise<OvsSnapshot | undefined> {
    if (!this.client.connected) {
      this.problem = 'OVSDB is not reachable; waiting to reconnect';
      return undefined;
    }
    if (this.unanswered) {
      this.problem = `OVSDB (${this.address}) is not answering; waiting for it`;
      return undefined;
    }
    // The monitor's replica once it holds the full contents: a `list_dbs`
    // round trip makes it current. ovsdb-server flushes every pending monitor
    // update of a session before it sends that session any reply
    // (ovsdb_jsonrpc_session_send in ovsdb/jsonrpc-server.c), and our
    // connection applies updates as they arrive, so when the reply is here
    // the replica has every transaction committed before it, ours included.
    // (`echo` would not do: lib/jsonrpc.c answers it without that flush.)
    // A full select is read only until the monitor is synced.
    const request = this.monitor.isSynced
      ? this.client.request('list_dbs', [], { timeoutMs: 60_000 }).then(() => this.monitor.snapshot())
      : snapshotOvs(this.client, { timeoutMs: 60_000 });
    let timer: NodeJS.Timeout | undefined;
    const patience = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), SNAPSHOT_PATIENCE_MS);
    });
    try {
      const result = await Promise.race([request, patience]);
      if (result !== 'late') {
        this.problem = undefined;
        return result;
      }
      this.problem = `OVSDB (${this.address}) is not answering; waiting for it`;
      this.logger.warn({ ovsdb: this.address, waitedMs: SNAPSHOT_PATIENCE_MS }, 'OVSDB is not answering: bindings that need OVS wait, the others go on');
      this.unanswered = request.then(
        () => undefined,
        () => undefined,
      ).finally(() => {
        this.unanswered = undefined;
        this.logger.info({ ovsdb: this.address }, 'OVSDB answers again');
        this.events?.onResync();
      });
      return undefined;
    } catch (error) {
      this.problem = 'OVSDB snapshot failed; retrying';
      this.logger.warn({ err: error }, 'OVSDB snapshot failed');
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  /** One transaction; waits until ovs-vswitchd has applied it. */
  apply(changes: OvsChanges, snapshot: OvsSnapshot | undefined): Promise<ApplyOvsResult> {
    return applyOvsChanges(this.client, changes, { ...(snapshot ? { snapshot } : {}), waitForVswitchd: 5000, comment: 'vifd' });
  }

  async stop(): Promise<void> {
    await this.monitor.stop().catch(() => undefined);
    this.client.close();
  }
}
