// The host as the reconciler sees it: a snapshot to read, actions to apply.
// LinuxHost runs real commands in the managed namespace; tests may supply a
// fake with the same shape.
import { applyLinkActions, type ActuationResult } from './links/link-actuator.js';
import type { LinkSnapshot } from '../observed/links.js';
import type { LinkAction } from '../model/actions.js';
import type { OwnershipConfig } from '../model/ownership.js';
import { Ip } from './ip.js';
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
}

export interface Host {
  snapshot(options?: SnapshotOptions): Promise<HostSnapshot>;
  applyLinks(actions: readonly LinkAction[]): Promise<ActuationResult>;
  applyOvs(changes: OvsChanges, snapshot: OvsSnapshot | undefined): Promise<ApplyOvsResult>;
}

export class LinuxHost implements Host {
  readonly ip: Ip;
  constructor(
    readonly netns: string | undefined,
    private readonly ownership: OwnershipConfig,
    readonly ovs?: OvsHost,
  ) {
    this.ip = new Ip(netns);
  }

  async snapshot(options: SnapshotOptions = {}): Promise<HostSnapshot> {
    const wantOvs = options.ovs !== false;
    const [links, ovs] = await Promise.all([this.ip.snapshotLinks(), wantOvs ? this.ovs?.snapshot() : undefined]);
    const problem = wantOvs && !ovs ? this.ovs?.problem : undefined;
    return { links, ovs, ...(problem ? { ovsProblem: problem } : {}), takenAt: Date.now() };
  }

  applyOvs(changes: OvsChanges, snapshot: OvsSnapshot | undefined): Promise<ApplyOvsResult> {
    if (!this.ovs) throw new Error('no OVSDB configured (--ovsdb)');
    return this.ovs.apply(changes, snapshot);
  }

  applyLinks(actions: readonly LinkAction[]): Promise<ActuationResult> {
    return applyLinkActions(this.ip, actions, this.ownership);
  }
}
