// Where the daemon's view of links comes from: the link model over the
// netlink stream helper (no process per round, O(changes)), or, when that
// helper is missing or keeps failing, the old way: an `ip` dump per snapshot
// and `ip monitor` for events. The switch is logged once each way.
import type { Logger } from 'pino';
import type { LinkSnapshot, ObservedLink } from '../observed/links.js';
import type { Ip } from './ip.js';
import { LinkMonitor } from './link-monitor.js';
import type { LinkBatchRunner } from './links/link-actuator.js';
import { LinkModel } from './netlink/link-model.js';
import { NetlinkLinkRunner } from './netlink/netlink-runner.js';
import { HelperRtnlChannel, type RtnlChannel } from './netlink/rtnl-channel.js';
import { nativeHelperPath } from './native-path.js';

export interface LinkWatch {
  /** Link names that changed (kernel events), batched. */
  onNames: (names: string[]) => void;
  /** Events were lost and only a full look helps (the `ip monitor` fallback). */
  onGap: () => void;
}

export class LinkObserver {
  private readonly channel: HelperRtnlChannel;
  private readonly model: LinkModel;
  private fallback: LinkMonitor | undefined;
  private gaveUp = false;
  private runner: NetlinkLinkRunner | undefined;
  private degradedLogged = false;
  private stopped = false;
  /** Until someone subscribes, changes go nowhere (the first resync looks at everything). */
  private watch: LinkWatch = { onNames: () => undefined, onGap: () => undefined };

  constructor(
    private readonly netns: string | undefined,
    private readonly ip: Ip,
    private readonly logger: Logger,
    env: NodeJS.ProcessEnv = process.env,
  ) {
    // TEST ONLY: a tiny receive buffer makes the socket overrun on a burst.
    const rcvbuf = Number(env['VIFD_TEST_NETLINK_RCVBUF']) || undefined;
    this.channel = new HelperRtnlChannel({ helperPath: nativeHelperPath('vifd-netlink', 'VIFD_NETLINK_HELPER'), netns, logger, ...(rcvbuf ? { rcvbuf } : {}) });
    this.model = new LinkModel(this.channel, logger, (names) => this.watch.onNames(names));
  }

  get rtnl(): RtnlChannel {
    return this.channel;
  }

  /** Snapshots come from the event-fed model (not an `ip` dump): each one
   * includes every link event delivered before it. */
  get fromModel(): boolean {
    return !this.gaveUp && !this.degradedLogged;
  }

  /** A link as the model has it now (after the events delivered so far). */
  linkNow(name: string): ObservedLink | undefined {
    return this.model.linkNow(name);
  }

  /** Link lines over the model's netlink socket (no process per round), or
   * undefined while the model is not in use (then `ip -batch` runs them). */
  linkRunner(): LinkBatchRunner | undefined {
    if (!this.fromModel) return undefined;
    this.runner ??= new NetlinkLinkRunner(this.channel, (name) => this.model.ifindexOf(name));
    return this.runner;
  }

  subscribe(watch: LinkWatch): void {
    this.watch = watch;
  }

  start(): void {
    this.channel.start({
      onNotification: (messages) => this.model.notified(messages),
      onLost: (reason) => this.model.lost(reason),
      onGiveUp: (error) => this.giveUp(error),
    });
    void this.model.sync().catch(() => undefined); // warm: the first round finds the dump done
  }

  stop(): void {
    this.stopped = true;
    this.channel.stop();
    this.fallback?.stop();
  }

  /** After vifd changed these devices: read them again at the next snapshot. */
  touched(names: Iterable<string>): void {
    if (!this.gaveUp) this.model.reread(names);
  }

  /** The links now; `fresh`: a full re-dump, checked against the model. */
  async snapshot(fresh: boolean): Promise<LinkSnapshot> {
    if (!this.gaveUp) {
      try {
        if (fresh) await this.model.resync();
        else await this.model.sync();
        if (this.degradedLogged) this.logger.info('link model available again');
        this.degradedLogged = false;
        return this.model.snapshot();
      } catch (error) {
        if (!this.degradedLogged) this.logger.warn({ err: error }, 'link model unavailable; reading links with ip until it is back');
        this.degradedLogged = true;
      }
    }
    return this.ip.snapshotLinks();
  }

  private giveUp(error: Error): void {
    if (this.stopped) return;
    this.gaveUp = true;
    this.logger.error({ err: error }, 'netlink stream helper unusable (build native/vifd-netlink with native/build.sh): links are dumped with ip every round and events come from ip monitor');
    this.fallback = new LinkMonitor(this.netns, (names) => this.watch.onNames(names), this.logger, () => this.watch.onGap());
    this.fallback.start();
  }
}
