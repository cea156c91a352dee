// The host as the reconciler sees it: a snapshot to read, actions to apply.
// LinuxHost runs real commands in the managed namespace; tests may supply a
// fake with the same shape.
import { applyLinkActions, type ActuationResult } from '../actuators/link-actuator.js';
import type { LinkSnapshot } from '../observed/links.js';
import type { LinkAction } from '../reconcile/actions.js';
import type { OwnershipConfig } from '../reconcile/ownership.js';
import { Ip } from './ip.js';

export interface HostSnapshot {
  links: LinkSnapshot;
  takenAt: number;
}

export interface Host {
  snapshot(): Promise<HostSnapshot>;
  applyLinks(actions: readonly LinkAction[]): Promise<ActuationResult>;
}

export class LinuxHost implements Host {
  readonly ip: Ip;
  constructor(readonly netns: string | undefined, private readonly ownership: OwnershipConfig) {
    this.ip = new Ip(netns);
  }

  async snapshot(): Promise<HostSnapshot> {
    return { links: await this.ip.snapshotLinks(), takenAt: Date.now() };
  }

  applyLinks(actions: readonly LinkAction[]): Promise<ActuationResult> {
    return applyLinkActions(this.ip, actions, this.ownership);
  }
}
