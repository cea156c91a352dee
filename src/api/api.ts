// Everything the daemon needs for the API, built from its parts: the saved
// API bindings (a DesiredStore source), the watch hub and metrics fed by the
// reconciler's hooks, and the HTTP server.
import type { Logger } from 'pino';
import type { DesiredStore } from '../desired/store.js';
import { commandCounts, hostCounts } from '../host/host-counters.js';
import type { BindingStatus } from '../model/status.js';
import type { InvalidDocument, RoundInfo } from '../reconcile/reconciler.js';
import { defaultApiAddress, type ApiAddress } from './address.js';
import { ApiBindingFiles } from './binding-files.js';
import { BindingsService } from './bindings-service.js';
import { ApiServer } from './server.js';
import { VifdMetrics } from './vifd-metrics.js';
import { WatchHub } from './watch-hub.js';

/** What the API needs of the controller: statuses and their changes, the
 * summary and queue depth (metrics), and where to say the desired state
 * changed. The daemon adapts the reconciler to it (app/reconcile-control.ts). */
export interface ReconcileControl {
  desiredChanged(ports: Iterable<string>): void;
  statusList(): BindingStatus[];
  summary(): Record<string, number>;
  invalidDocuments(): InvalidDocument[];
  /** Keys waiting for a round. */
  queueDepth(): number;
  onStatus(listener: (port: string, status: BindingStatus | undefined) => void): () => void;
  onRound(listener: (info: RoundInfo) => void): () => void;
}

export interface ApiOptions {
  stateDir: string;
  /** Default: unix:<state-dir>/vifd.sock. */
  address?: ApiAddress;
  token?: string;
  store: DesiredStore;
  reconciler: ReconcileControl;
  logger: Logger;
  ringSize?: number;
  /** Whether state files land (a full or read-only state disk makes vifd not ready). */
  stateHealth?: () => { ok: boolean; error?: string };
}

export class Api {
  readonly bindings: BindingsService;
  readonly hub: WatchHub;
  readonly metrics: VifdMetrics;
  readonly server: ApiServer;
  private isReady = false;
  private readonly unhook: Array<() => void> = [];

  constructor(o: ApiOptions) {
    const { reconciler } = o;
    const statuses = () => reconciler.statusList();
    this.hub = new WatchHub(statuses, o.ringSize);
    this.metrics = new VifdMetrics({
      statuses,
      queueDepth: () => reconciler.queueDepth(),
      hostCommands: commandCounts,
      netlink: hostCounts,
      watchClients: () => this.hub.clients,
      revision: () => this.hub.revision,
      summary: () => reconciler.summary(),
    });
    this.unhook.push(
      reconciler.onStatus((port, status) => {
        this.hub.publish(port, status);
        this.metrics.onStatus(port, status);
      }),
      reconciler.onRound((info) => this.metrics.onRound(info)),
    );
    this.bindings = new BindingsService({
      store: o.store,
      files: new ApiBindingFiles(o.stateDir),
      onChange: (ports) => reconciler.desiredChanged(ports),
      logger: o.logger,
    });
    this.server = new ApiServer(
      {
        bindings: this.bindings,
        hub: this.hub,
        metrics: this.metrics,
        statuses,
        summary: () => reconciler.summary(),
        documents: () => reconciler.invalidDocuments(),
        readiness: () => {
          if (!this.isReady) return { ready: false, reason: 'first full reconcile not done yet' };
          const state = o.stateHealth?.();
          if (state && !state.ok) return { ready: false, reason: `state directory writes failing (${state.error ?? 'unknown error'}); retrying` };
          return { ready: true, reason: 'first full reconcile done' };
        },
      },
      { address: o.address ?? defaultApiAddress(o.stateDir), ...(o.token ? { token: o.token } : {}), logger: o.logger },
    );
  }

  /** Loads the saved API bindings into the store: call before the first reconcile. */
  load(): Promise<number> {
    return this.bindings.load();
  }

  start(): Promise<void> {
    return this.server.start();
  }

  /** The first full reconcile is done: /readyz answers 200 from now on. */
  markReady(): void {
    this.isReady = true;
  }

  get ready(): boolean {
    return this.isReady;
  }

  async stop(): Promise<void> {
    for (const off of this.unhook) off();
    await this.server.stop();
  }
}
