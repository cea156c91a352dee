// `vifd run`: wires sources, observer, reconciler and state together.
import { mkdir, access } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { ApiAddress } from './api/address.js';
import { Api } from './api/api.js';
import { DesiredStore } from './desired/store.js';
import { LinuxHost } from './host/host.js';
import { LinkMonitor } from './host/link-monitor.js';
import { OvsHost } from './host/ovs-host.js';
import { DEFAULT_OWNERSHIP } from './reconcile/ownership.js';
import { Reconciler } from './reconcile/reconciler.js';
import { DirectorySource } from './sources/directory-source.js';
import type { AttachedEtcd, EtcdOptions } from './sources/etcd/attach.js';
import { IntentJournal } from './state/intent-journal.js';
import { lockStateDir } from './state/lock.js';
import { StatusStore } from './state/status-store.js';
import { Associator } from './actuators/associator.js';
import { PortProfileDriver } from './actuators/association-driver.js';
import { AssociationStore } from './state/association-store.js';

export interface DaemonOptions {
  desiredDir: string;
  stateDir: string;
  netns: string | undefined;
  resyncMs: number;
  logger: Logger;
  /** Desired bindings also from an etcd prefix (--etcd). */
  etcd?: EtcdOptions;
  /** OVSDB to use for `ovs` bindings (unix:PATH); undefined: no OVS. */
  ovsdb?: string;
  /** Datapath of OVS bridges vifd creates when a binding names none. */
  ovsDatapathType?: 'system' | 'netdev';
  /** The API (always served): default unix:<state-dir>/vifd.sock; a token on TCP. */
  api?: { address?: ApiAddress; token?: string };
}

export class NetnsMissingError extends Error {
  readonly code = 'NETNS_MISSING';
  constructor(readonly netns: string) {
    super(`network namespace ${netns} does not exist (ip netns add ${netns})`);
    this.name = 'NetnsMissingError';
  }
}

export async function assertNetnsExists(netns: string | undefined): Promise<void> {
  if (netns === undefined) return;
  try {
    await access(`/run/netns/${netns}`);
  } catch (cause) {
    throw new NetnsMissingError(netns);
  }
}

export interface RunningDaemon {
  reconciler: Reconciler;
  store: DesiredStore;
  /** The etcd source, when --etcd is given: `etcd.stale` for readiness/metrics. */
  etcd: AttachedEtcd | undefined;
  api: Api;
  stop(): Promise<void>;
}

export async function startDaemon(o: DaemonOptions): Promise<RunningDaemon> {
  const { logger } = o;
  await assertNetnsExists(o.netns);
  await mkdir(o.stateDir, { recursive: true });
  await mkdir(o.desiredDir, { recursive: true });
  const lock = await lockStateDir(o.stateDir);
  const ownership = DEFAULT_OWNERSHIP;
  const store = new DesiredStore();
  const statusStore = new StatusStore(o.stateDir);
  await statusStore.init();
  const ovs = o.ovsdb ? new OvsHost(o.ovsdb, logger) : undefined;
  const associator = new Associator({ driver: new PortProfileDriver({ netns: o.netns }), store: new AssociationStore(o.stateDir), logger });
  const reconciler = new Reconciler({
    host: new LinuxHost(o.netns, ownership, ovs),
    store,
    statusStore,
    journal: new IntentJournal(o.stateDir),
    ownership,
    logger,
    associator,
    options: { resyncMs: o.resyncMs, ...(o.ovsDatapathType ? { defaultDatapathType: o.ovsDatapathType } : {}) },
  });
  await reconciler.restore();
  await associator.restore(); // after the reconciler subscribed to it
  ovs?.start({ onNames: (names) => reconciler.ovsChanged(names), onResync: () => reconciler.ovsResync() });
  // Give OVSDB a moment, so OVS bindings do not start out Failed; it may also come later.
  await ovs?.connect(2000).catch(() => logger.warn({ ovsdb: o.ovsdb }, 'OVSDB not reachable yet; OVS bindings wait for it'));
  const api = new Api({ stateDir: o.stateDir, ...o.api, store, reconciler, logger });
  const apiBindings = await api.load(); // before the directory: a port the API held keeps it
  logger.info({ bindings: apiBindings }, 'API bindings loaded');
  const source = new DirectorySource({ dir: o.desiredDir, store, logger, onChange: (ports) => reconciler.desiredChanged(ports) });
  const started = Date.now();
  await source.start();
  logger.info({ dir: o.desiredDir, documents: store.sourceIds().length, ms: Date.now() - started }, 'desired directory loaded');
  const etcd = o.etcd
    ? await (await import('./sources/etcd/attach.js'))
        .attachEtcd({
          options: o.etcd,
          store,
          reconciler,
          stateDir: o.stateDir,
          logger,
          aliveInfo: { netns: o.netns ?? null },
          onStale: () => void statusStore.writeSummary({ ...reconciler.summary(), at: new Date().toISOString() }).catch(() => undefined),
        })
        .catch(async (error: unknown) => {
          // etcd refused vifd (certificate, credentials, permission): stop cleanly, so the process exits with the error.
          await source.stop();
          await reconciler.stop();
          await ovs?.stop();
          await lock.release();
          throw error;
        })
    : undefined;
  await api.start();
  const monitor = new LinkMonitor(
    o.netns,
    (names) => {
      api.metrics.linkEvent(); // starts the repair-latency clock
      reconciler.linksChanged(names);
    },
    logger,
  );
  monitor.start();
  await reconciler.startResync();
  void reconciler.queue.whenIdle().then(() => api.markReady());
  logger.info({ netns: o.netns ?? '(host)', stateDir: o.stateDir }, 'vifd running');
  return {
    reconciler,
    store,
    etcd,
    api,
    async stop() {
      await api.stop();
      monitor.stop();
      await source.stop();
      await reconciler.stop(); // lets the round in flight finish and record status
      await ovs?.stop();
      await etcd?.stop(); // publishes the last statuses (bounded wait)
      await lock.release();
    },
  };
}
