// `vifd run`: wires sources, observer, reconciler and state together.
import { access, chmod, mkdir } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { ApiAddress } from './api/address.js';
import { Api } from './api/api.js';
import { DesiredStore } from './desired/store.js';
import { VifdError } from './errors/vifd-error.js';
import type { ReadyWhen } from './desired/schema.js';
import { LinuxHost } from './host/host.js';
import { OvsHost } from './host/ovs-host.js';
import { wedgeableForTests } from './host/test-wedge.js';
import { planningOf } from './app/planning.js';
import { apiControlOf } from './app/reconcile-control.js';
import { Reconciler } from './reconcile/reconciler.js';
import { DirectorySource } from './sources/directory-source.js';
import type { AttachedEtcd, EtcdOptions } from './sources/etcd/attach.js';
import { IntentJournal } from './state/intent-journal.js';
import { lockStateDir } from './state/lock.js';
import { StatusStore } from './state/status-store.js';
import { STATE_DIR_MODE } from './state/atomic-write.js';
import { Lifecycle } from './app/lifecycle.js';
import { Associator } from './reconcile/associator.js';
import { PortProfileDriver } from './host/portprofile/driver.js';
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
  /** Readiness gate of OVS bindings that name none (--ready-when). */
  defaultReadyWhen?: ReadyWhen;
  /** The API (always served): default unix:<state-dir>/vifd.sock; a token on TCP. */
  api?: { address?: ApiAddress; token?: string };
}

export class NetnsMissingError extends VifdError<'NETNS_MISSING'> {
  constructor(readonly netns: string, cause?: unknown) {
    super('NETNS_MISSING', `network namespace ${netns} does not exist (ip netns add ${netns})`, { cause, fields: { netns } });
  }
}

export async function assertNetnsExists(netns: string | undefined): Promise<void> {
  if (netns === undefined) return;
  try {
    await access(`/run/netns/${netns}`);
  } catch (cause) {
    throw new NetnsMissingError(netns, cause);
  }
}

export interface RunningDaemon {
  reconciler: Reconciler;
  store: DesiredStore;
  /** The etcd source, when --etcd is given: `etcd.stale` for readiness/metrics. */
  etcd: AttachedEtcd | undefined;
  api: Api;
  /** Resolves once the first round over every source's bindings finished (/readyz, READY=1). */
  ready: Promise<void>;
  stop(): Promise<void>;
}

export async function startDaemon(o: DaemonOptions): Promise<RunningDaemon> {
  const { logger } = o;
  await assertNetnsExists(o.netns);
  await mkdir(o.stateDir, { recursive: true, mode: STATE_DIR_MODE });
  await chmod(o.stateDir, STATE_DIR_MODE); // status and state: root only
  await mkdir(o.desiredDir, { recursive: true });
  const lock = await lockStateDir(o.stateDir);
  const life = new Lifecycle(logger);
  life.started('lock', () => lock.release());
  const { ownership, defaults } = planningOf(o);
  const store = new DesiredStore();
  const statusStore = new StatusStore(o.stateDir, {
    onHealth: (health) => {
      if (health.ok) logger.info({ stateDir: o.stateDir }, 'state directory writable again: pending status writes landed');
      else logger.error({ stateDir: o.stateDir, error: health.error, pending: health.pending }, 'state directory write failed: retrying until it lands (host work goes on)');
    },
  });
  life.started('status store', () => statusStore.stop());
  await life.step('status store', () => statusStore.init());
  const ovs = o.ovsdb ? new OvsHost(o.ovsdb, logger) : undefined;
  // Stopped in reverse: etcd publishes the last statuses after the last
  // round, OVSDB serves the round in flight, so both are registered first.
  let etcd: AttachedEtcd | undefined;
  life.started('etcd', () => etcd?.stop()); // publishes the last statuses (bounded wait)
  life.started('OVSDB', () => ovs?.stop());
  const host = new LinuxHost(o.netns, ownership, ovs);
  // Before the reconciler, so that it is stopped after the last round.
  await life.step('link model', () => host.watchLinks(logger));
  life.started('link model', () => host.stopWatching());
  const associator = new Associator({ driver: new PortProfileDriver({ netns: o.netns }), store: new AssociationStore(o.stateDir), logger });
  const reconciler = new Reconciler({
    host: wedgeableForTests(host),
    store,
    statusStore,
    journal: new IntentJournal(o.stateDir),
    ownership,
    logger,
    associator,
    options: { resyncMs: o.resyncMs, ...defaults, snapshotsCoverEvents: () => host.snapshotsCoverEvents },
  });
  life.started('reconciler', () => reconciler.stop()); // lets the round in flight finish and record status
  await life.step('reconciler', async () => {
    await reconciler.restore();
    await associator.restore(); // after the reconciler subscribed to it
  });
  if (ovs) {
    ovs.start({ onNames: (names) => reconciler.ovsChanged(names), onResync: () => reconciler.ovsResync() });
    // Give OVSDB a moment, so OVS bindings do not start out Failed; it may also come later.
    await ovs.connect(2000).catch(() => logger.warn({ ovsdb: o.ovsdb }, 'OVSDB not reachable yet; OVS bindings wait for it'));
  }
  const api = new Api({ stateDir: o.stateDir, ...o.api, store, reconciler: apiControlOf(reconciler), logger, stateHealth: () => statusStore.health() });
  const apiBindings = await life.step('API bindings', () => api.load()); // before the directory: a port the API held keeps it
  logger.info({ bindings: apiBindings }, 'API bindings loaded');
  const source = new DirectorySource({ dir: o.desiredDir, store, logger, onChange: (ports) => reconciler.desiredChanged(ports) });
  const started = Date.now();
  life.started('desired directory', () => source.stop());
  await life.step('desired directory', () => source.start());
  reconciler.beforeResync(() => source.resync());
  reconciler.addSummary(() => ({ desiredDirMissing: source.directoryMissing ? 1 : 0, ...source.resyncCounters() }));
  logger.info({ dir: o.desiredDir, documents: store.sourceIds().length, ms: Date.now() - started }, 'desired directory loaded');
  etcd = o.etcd
    ? await life.step('etcd', async () =>
        (await import('./sources/etcd/attach.js')).attachEtcd({
          options: o.etcd!,
          store,
          reconciler,
          stateDir: o.stateDir,
          logger,
          aliveInfo: { netns: o.netns ?? null },
          onStale: () => void reconciler.writeSummary(new Date().toISOString()).catch(() => undefined),
        }),
      )
    : undefined;
  await life.step('API', () => api.start());
  life.started('API', () => api.stop());
  await life.step('link events', () =>
    host.onLinkChanges({
      onNames: (names) => {
        api.metrics.linkEvent(); // starts the repair-latency clock
        reconciler.linksChanged(names);
      },
      // Events were lost and only a full look helps (the ip monitor fallback).
      onGap: () => void reconciler.resync().catch((error: unknown) => logger.error({ err: error }, 'resync failed')),
    }),
  );
  await life.step('first resync', () => reconciler.startResync());
  const ready = reconciler.whenIdle();
  void ready.then(() => api.markReady());
  logger.info({ netns: o.netns ?? '(host)', stateDir: o.stateDir }, 'vifd running');
  return { reconciler, store, etcd, api, ready, stop: () => life.stopAll() };
}
