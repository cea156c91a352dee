// vifd run: the daemon. SIGTERM/SIGINT finish the round in flight, write
// status and exit 0; nothing is torn down.
import { startDaemon } from '../daemon.js';
import { apiRunOptions } from './api-args.js';
import { createLogger } from '../log.js';
import { parseCommand, UsageError } from './options.js';
import { RUN } from './option-tables.js';
import { etcdRunOptions } from './etcd-args.js';
import { ovsArgs } from './ovs-args.js';
import { startServiceNotifier } from './service-notify.js';
import { applyHeapPolicy } from './heap-policy.js';

export async function runCommand(argv: string[]): Promise<number> {
  const { values } = parseCommand(RUN, argv);
  const v8Flags = applyHeapPolicy();
  const ovs = ovsArgs(values);
  const api = await apiRunOptions(values);
  const etcd = etcdRunOptions(values);
  const resync = Number(values['resync-seconds']);
  if (!Number.isFinite(resync) || resync <= 0) throw new UsageError('--resync-seconds must be a positive number');
  const logger = createLogger();
  logger.debug({ v8Flags }, 'V8 flags');
  // From the first moment: a SIGTERM while vifd is still starting (its first
  // resync can take a while) must not kill it half-way; it finishes starting,
  // then stops as it would have.
  // The handlers stay installed (`on`, not `once`): execa's exit hook
  // (signal-exit) re-raises a signal that no other listener is left for,
  // which killed vifd by its own SIGTERM mid-shutdown while a helper ran.
  let stopping = false;
  const stopSignal = new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) return logger.info({ signal }, 'already stopping');
      stopping = true;
      logger.info({ signal }, 'stopping: finishing work in flight');
      resolve();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  const notifier = startServiceNotifier(logger);
  const daemon = await startDaemon({
    desiredDir: values['desired-dir'],
    stateDir: values['state-dir'],
    netns: values.netns,
    resyncMs: resync * 1000,
    logger,
    ...(etcd ? { etcd } : {}),
    ...ovs,
    api,
  });
  const queue = daemon.reconciler.queue;
  notifier?.attach({ busySince: () => queue.busySince, summary: () => daemon.reconciler.summary() });
  void daemon.ready.then(() => notifier?.ready());
  // SIGHUP (systemctl reload): a resync now, as the periodic one would.
  const onHangup = () => {
    logger.info('SIGHUP: resyncing');
    void daemon.reconciler.resync().catch((error: unknown) => logger.error({ err: error }, 'resync failed'));
  };
  process.on('SIGHUP', onHangup);
  await stopSignal;
  process.off('SIGHUP', onHangup);
  notifier?.stopping();
  await daemon.stop();
  await notifier?.close();
  logger.info('stopped');
  return 0;
}
