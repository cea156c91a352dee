// The host as the reconciler sees it: a snapshot to read, actions to apply.
// LinuxHost runs real commands in the managed namespace; tests may supply a
// fake with the same shape.
import type { Logger } from 'pino';
import { applyLinkActions, type ActuationResult } from './links/link-actuator.js';
import type { LinkSnapshot, ObservedLink } from '../observed/links.js';
import type { LinkAction } from '../model/actions.js';
import type { OwnershipConfig } from '../model/ownership.js';
import { Ip } from './ip.js';
import { LinkObserver, type LinkWatch } from './link-observer.js';
import type { RtnlChannel } from './netlink/rtnl-channel.js';
import type { OvsHost } from './ovs-host.js';
import type { ApplyOvsResult, OvsChanges, OvsSnapshot } from './ovsdb/index.js';

export interface HostSnapshot {
  links: LinkSnapshot;
  /** undefined: no OVSDB configured, not reachable or not answering now, or not asked for. */
  ovs: OvsSnapshot | undefined;
  /** Why `ovs` is missing although OVSDB is configured. */
  ovsProblem?: string;
  takenAt: number;
}

export interface SnapshotOptions {
  /** false: the round involves no OVS; do not wait for OVSDB. Default true. */
  ovs?: boolean;
  /** true: read every link from the kernel anew (the periodic resync), not
   * only what events said changed. Default false. */
  fresh?: boolean;
}

export interface Host {
  snapshot(options?: SnapshotOptions): Promise<HostSnapshot>;
  applyLinks(actions: readonly LinkAction[]): Promise<ActuationResult>;
  applyOvs(changes: OvsChanges, snapshot: OvsSnapshot | undefined): Promise<ApplyOvsResult>;
  /** A link as the host knows it this instant, without asking the kernel:
   * undefined it does not exist, null the host cannot tell (no event-fed model). */
  linkNow?(name: string): ObservedLink | undefined | null;
}

export class LinuxHost implements Host {
  readonly ip: Ip;
  private observer: LinkObserver | undefined;
  constructor(
    readonly netns: string | undefined,
    private readonly ownership: OwnershipConfig,
    readonly ovs?: OvsHost,
  ) {
    this.ip = new Ip(netns);
  }

  /** Keeps links current from kernel events from now on (the daemon does;
   * without it, e.g. for `vifd plan`, every snapshot is an `ip` dump). */
  watchLinks(logger: Logger): void {
    this.observer = new LinkObserver(this.netns, this.ip, logger);
    this.observer.start();
  }

  /** Where link changes go (after watchLinks). */
  onLinkChanges(watch: LinkWatch): void {
    this.observer?.subscribe(watch);
  }

  stopWatching(): void {
    this.observer?.stop();
  }

  linkNow(name: string): ObservedLink | undefined | null {
    return this.observer?.fromModel ? this.observer.linkNow(name) : null;
  }

  /** Whether each snapshot includes every link event delivered before it
   * resolves (the event-fed model is in use, not `ip` dumps). */
  get snapshotsCoverEvents(): boolean {
    return this.observer?.fromModel === true;
  }

  /** The netlink socket of the managed namespace (for the netlink link actuator); undefined until watchLinks. */
  get rtnl(): RtnlChannel | undefined {
    return this.observer?.rtnl;
  }

  async snapshot(options: SnapshotOptions = {}): Promise<HostSnapshot> {
    const wantOvs = options.ovs !== false;
    const links = this.observer ? this.observer.snapshot(options.fresh === true) : this.ip.snapshotLinks();
    const [linkSnapshot, ovs] = await Promise.all([links, wantOvs ? this.ovs?.snapshot() : undefined]);
    const problem = wantOvs && !ovs ? this.ovs?.problem : undefined;
    return { links: linkSnapshot, ovs, ...(problem ? { ovsProblem: problem } : {}), takenAt: Date.now() };
  }

  applyOvs(changes: OvsChanges, snapshot: OvsSnapshot | undefined): Promise<ApplyOvsResult> {
    if (!this.ovs) throw new Error('no OVSDB configured (--ovsdb)');
    return this.ovs.apply(changes, snapshot);
  }

  async applyLinks(actions: readonly LinkAction[]): Promise<ActuationResult> {
    // Over the model's netlink socket when it is in use: no `ip`/`tc` process per round.
    const result = await applyLinkActions(this.observer?.linkRunner() ?? this.ip, actions, this.ownership);
    // Some of these changes reach no event (alias, group on a device that is down).
    this.observer?.touched(actions.flatMap((a) => (a.op === 'create-veth' ? [a.name, a.peer] : [a.name])));
    return result;
  }
}
