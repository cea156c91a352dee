// The host side of port-profile associations: 802.1Qbg through lldpad
// (vdp.ts) and 802.1Qbh through the uplink's driver (qbh.ts). The Associator
// decides when; this only runs them.
import { errorCode } from '../../errors/vifd-error.js';
import { runCommand } from '../run.js';
import { associateQbh, disassociateQbh, queryQbh } from './qbh.js';
import { PORT_PROFILE_RESPONSE_SUCCESS } from './qbh-message.js';
import { associateVdp, disassociateVdp, queryVdp, type VsiProfile } from './vdp.js';
import type { AssociationRequest } from '../../model/association.js';
import type { QbgVif, QbhVif } from '../../desired/schema.js';
import { readHostUuid } from '../host-uuid.js';

/** held: the switch (as far as the host's agent knows) still has it; false:
 * it is gone (reason says why); 'unknown': the check itself failed. */
export type QueryResult = { held: true } | { held: false; reason: string } | { held: 'unknown'; reason: string };

export interface AssociationDriver {
  associate(request: AssociationRequest): Promise<void>;
  disassociate(request: AssociationRequest): Promise<void>;
  query(request: AssociationRequest): Promise<QueryResult>;
}

export interface PortProfileDriverOptions {
  netns: string | undefined;
  hostUuid?: () => Promise<string>;
}

interface VdpTarget { uplink: string; vlan: number }

export class PortProfileDriver implements AssociationDriver {
  private hostUuid: Promise<string> | undefined;
  constructor(private readonly o: PortProfileDriverOptions) {}

  private netnsOpt(): { netns?: string } {
    return this.o.netns ? { netns: this.o.netns } : {};
  }

  private host(): Promise<string> {
    this.hostUuid ??= (this.o.hostUuid ?? (() => readHostUuid()))();
    // A failure is not cached: the next attempt reads again.
    return this.hostUuid.catch((error: unknown) => {
      this.hostUuid = undefined;
      throw error;
    });
  }

  /** lldpad runs on the physical port: a VLAN uplink is its lower device plus the VLAN id in the filter. */
  private async vdpTarget(uplink: string): Promise<VdpTarget> {
    const argv = ['ip', ...(this.o.netns ? ['-n', this.o.netns] : []), '-j', '-d', 'link', 'show', 'dev', uplink];
    try {
      const [link] = JSON.parse((await runCommand(argv)).stdout) as Array<{ link?: string; linkinfo?: { info_kind?: string; info_data?: { id?: number } } }>;
      if (link?.linkinfo?.info_kind === 'vlan' && link.link && typeof link.linkinfo.info_data?.id === 'number') {
        return { uplink: link.link, vlan: link.linkinfo.info_data.id };
      }
    } catch {
      // vdptool reports a missing device itself
    }
    return { uplink, vlan: 0 };
  }

  private vsi(r: AssociationRequest, vlan: number): VsiProfile {
    const p = r.profile as QbgVif['profile'];
    return { managerId: p.managerId, typeId: p.typeId, typeIdVersion: p.typeIdVersion, instanceId: p.instanceId, mac: r.mac, vlan };
  }

  private async qbhPort(r: AssociationRequest) {
    return { uplink: r.uplink, profileId: (r.profile as QbhVif['profile']).profileId, instanceUuid: r.instance, hostUuid: await this.host() };
  }

  async associate(r: AssociationRequest): Promise<void> {
    if (r.kind === '802.1qbg') {
      const t = await this.vdpTarget(r.uplink);
      await associateVdp(t.uplink, this.vsi(r, t.vlan), this.netnsOpt());
    } else {
      await associateQbh(await this.qbhPort(r), this.netnsOpt());
    }
  }

  async disassociate(r: AssociationRequest): Promise<void> {
    if (r.kind === '802.1qbg') {
      const t = await this.vdpTarget(r.uplink);
      await disassociateVdp(t.uplink, this.vsi(r, t.vlan), this.netnsOpt());
    } else {
      await disassociateQbh(await this.qbhPort(r), this.netnsOpt());
    }
  }

  async query(r: AssociationRequest): Promise<QueryResult> {
    try {
      if (r.kind === '802.1qbg') {
        const t = await this.vdpTarget(r.uplink);
        const vsi = await queryVdp(t.uplink, r.instance, this.netnsOpt());
        if (!vsi) return { held: false, reason: `lldpad no longer knows the VSI on ${t.uplink} (lldpad restarted?)` };
        if (vsi.status?.kind === 'rejected' || vsi.status?.kind === 'timeout') return { held: false, reason: `lldpad reports ${vsi.status.text}` };
        if (vsi.mode !== undefined && vsi.mode !== 'assoc') return { held: false, reason: `lldpad reports the VSI in mode ${vsi.mode}` };
        return { held: true };
      }
      const status = await queryQbh(r.uplink, undefined, this.netnsOpt());
      if (status?.response === PORT_PROFILE_RESPONSE_SUCCESS) return { held: true };
      return { held: false, reason: `the driver of ${r.uplink} reports ${status?.responseName ?? 'no port profile'}` };
    } catch (error) {
      const code = errorCode(error);
      // No agent, or no port-profile support at all: nothing holds the association.
      if (code === 'LLDPAD_NOT_RUNNING' || code === 'PORT_PROFILE_UNSUPPORTED') return { held: false, reason: describeAssociationError(error) };
      return { held: 'unknown', reason: describeAssociationError(error) };
    }
  }
}

/** What the host answered, without the "802.1Qbx: " prefix the errors carry. */
export function describeAssociationError(error: unknown): string {
  const e = error as { code?: string; message?: string };
  if (e.code === 'PORT_PROFILE_UNSUPPORTED') return 'the uplink driver does not support port profiles (kernel: EOPNOTSUPP, Operation not supported)';
  const message = e.message ?? String(error);
  return message.replace(/^802\.1Qb[gh]: /u, '');
}
