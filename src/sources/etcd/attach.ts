// Wires the etcd source and the status publisher into a daemon. Initial load
// (see README): vifd holds every removal until etcd has been listed once in
// this run. If etcd answers within `initialTimeoutMs`, that is before the
// first resync; if not, vifd starts anyway with the last known etcd state
// (<state-dir>/etcd-cache.json) applied and repaired, reports stale, and
// unplugs nothing until the first list succeeds.
import type { Logger } from 'pino';
import type { DesiredStore } from '../../desired/store.js';
import type { BindingStatus } from '../../model/status.js';
import type { EtcdAuthOptions } from './client.js';
import { createEtcdClient } from './connect.js';
import { EtcdSource } from './etcd-source.js';
import { bindingsPrefix } from './keys.js';
import { StatusPublisher } from './status-publisher.js';
import type { EtcdTlsFiles } from './tls.js';

export interface EtcdOptions {
  endpoints: string[];
  hostname: string;
  /** Bindings prefix; default /vifd/v1/hosts/<hostname>/bindings/. */
  prefix?: string;
  leaseSeconds: number;
  initialTimeoutMs: number;
  /** For https:// endpoints: CA, client certificate and key files (re-read when they change). */
  tls?: EtcdTlsFiles | undefined;
  /** etcd user and password file (auth API token). */
  auth?: EtcdAuthOptions | undefined;
}

export interface AttachedEtcd {
  source: EtcdSource;
  publisher: StatusPublisher;
  /** True while the desired state from etcd may be out of date. */
  readonly stale: boolean;
  stop(): Promise<void>;
}

const HOLD = 'etcd-initial-list';

/** What the etcd source needs of the controller: where to say the desired
 * state changed, a removal hold until etcd is listed, a summary line, and
 * the statuses to publish. */
export interface EtcdReconcileHooks {
  desiredChanged(ports: Iterable<string>): void;
  holdRemovals(reason: string): void;
  releaseRemovals(reason: string): void;
  addSummary(provider: () => Record<string, number>): void;
  statusList(): BindingStatus[];
  onStatus(listener: (port: string, status: BindingStatus | undefined) => void): () => void;
}

export interface AttachDeps {
  options: EtcdOptions;
  store: DesiredStore;
  reconciler: EtcdReconcileHooks;
  stateDir: string;
  logger: Logger;
  /** Called when staleness flips or a failure counter moves (to rewrite summary.json). */
  onStale?: (stale: boolean) => void;
  aliveInfo?: Record<string, unknown>;
}

/** Loads the etcd source (bounded wait). Call before reconciler.startResync(). */
export async function attachEtcd(deps: AttachDeps): Promise<AttachedEtcd> {
  const { options, reconciler, logger } = deps;
  const prefix = options.prefix ?? bindingsPrefix(options.hostname);
  const log = logger.child({ etcd: options.endpoints.join(','), prefix });
  // Counters of failures (certificates, credentials) are published in summary.json when they move (at most every second).
  let pending: NodeJS.Timeout | undefined;
  const publishCounters = () => {
    pending ??= setTimeout(() => {
      pending = undefined;
      deps.onStale?.(source.stale);
    }, 1000).unref();
  };
  const { client, tls } = createEtcdClient(options, log, publishCounters);
  reconciler.holdRemovals(HOLD);
  const source = new EtcdSource({
    client,
    prefix,
    store: deps.store,
    stateDir: deps.stateDir,
    logger: log,
    onChange: (ports) => reconciler.desiredChanged(ports),
    ...(deps.onStale ? { onStale: deps.onStale } : {}),
  });
  reconciler.addSummary(() => ({
    etcdStale: source.stale ? 1 : 0,
    etcdRelists: source.counters.relists,
    etcdResumes: source.counters.resumes,
    etcdRevision: source.counters.revision,
    etcdConfigErrors: source.counters.configErrors,
    etcdTlsHandshakeFailures: client.stats.tlsHandshakeFailures,
    etcdTlsReloads: tls?.reloads ?? 0,
    etcdTlsFileFailures: tls?.failures ?? 0,
    etcdAuthFailures: client.stats.authFailures,
    etcdPermissionDenied: client.stats.permissionDenied,
    etcdAuthentications: client.stats.authentications,
  }));
  const started = Date.now();
  const { listed, cached } = await source.start(options.initialTimeoutMs);
  if (listed) {
    reconciler.releaseRemovals(HOLD);
    log.info({ keys: source.counters.keys, ms: Date.now() - started }, 'etcd bindings loaded');
  } else {
    log.warn({ cachedKeys: cached, waitedMs: Date.now() - started }, 'etcd unreachable at start: using the last known etcd state; nothing is unplugged until etcd is listed');
    void source.whenListed().then(() => {
      reconciler.releaseRemovals(HOLD);
      log.info({ keys: source.counters.keys }, 'etcd bindings loaded late: removals released');
    });
  }
  const publisher = new StatusPublisher({
    client,
    hostname: options.hostname,
    leaseSeconds: options.leaseSeconds,
    logger: log,
    ...(deps.aliveInfo ? { aliveInfo: deps.aliveInfo } : {}),
  });
  for (const status of reconciler.statusList()) publisher.update(status.port, status);
  const unsubscribe = reconciler.onStatus((port, status) => publisher.update(port, status));
  publisher.start();
  return {
    source,
    publisher,
    get stale() {
      return source.stale;
    },
    async stop() {
      unsubscribe();
      await source.stop();
      await publisher.stop();
      tls?.destroy();
    },
  };
}
