// Open vSwitch as the reconciler sees it: a persistent OVSDB connection
// (reconnecting with capped backoff), a fresh snapshot per round, one
// transaction per round, and a monitor whose changes become work keys.
import type { Logger } from 'pino';
import { applyOvsChanges, OvsMonitor, ReconnectingOvsdbClient, snapshotOvs, type ApplyOvsResult, type OvsChanges, type OvsSnapshot } from './ovsdb/index.js';

export interface OvsHostEvents {
  /** Names of bridges, ports or interfaces that changed. */
  onNames(names: string[]): void;
  /** OVSDB came (back): everything OVS-related deserves a look. */
  onResync(): void;
}

export class OvsHost {
  private readonly client: ReconnectingOvsdbClient;
  private readonly monitor: OvsMonitor;

  constructor(readonly address: string, private readonly logger: Logger) {
    this.client = new ReconnectingOvsdbClient(address, { minBackoffMs: 100, maxBackoffMs: 5000, requestTimeoutMs: 10_000 });
    this.monitor = new OvsMonitor(this.client);
  }

  get connected(): boolean {
    return this.client.connected;
  }

  /** Connects in the background; never fails: OVS may come later. */
  start(events: OvsHostEvents): void {
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

  /** A fresh, consistent read; undefined while OVSDB is unreachable. */
  async snapshot(): Promise<OvsSnapshot | undefined> {
    if (!this.client.connected) return undefined;
    try {
      return await snapshotOvs(this.client, { timeoutMs: 5000 });
    } catch (error) {
      this.logger.warn({ err: error }, 'OVSDB snapshot failed');
      return undefined;
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
