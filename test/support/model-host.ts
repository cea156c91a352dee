// The model host: ModelKernel (links) + ModelOvsdb (OVS rows) behind the
// Host interface the reconciler uses, running vifd's real actuators (the
// `ip -batch` lines of src/actuators, the OVSDB operations of
// src/host/ovsdb/ovs-ops.ts) against the models.
import { applyLinkActions, type ActuationResult } from '../../src/host/links/link-actuator.js';
import type { Host, HostSnapshot } from '../../src/host/host.js';
import { applyOvsChanges, type ApplyOvsResult, type OvsChanges, type OvsSnapshot } from '../../src/host/ovsdb/index.js';
import type { LinkAction } from '../../src/model/actions.js';
import { DEFAULT_OWNERSHIP, type OwnershipConfig } from '../../src/model/ownership.js';
import { ModelKernel } from './model-kernel.js';
import { ModelOvsdb } from './model-ovsdb.js';

export class ModelHost implements Host {
  readonly kernel: ModelKernel;
  readonly ovsdb: ModelOvsdb;
  /** false: OVSDB not reachable (snapshot has no ovs, applyOvs throws). */
  ovsUp = true;
  snapshots = 0;
  /** Runs before each snapshot / apply (tests inject faults here). */
  onSnapshot: (() => void) | undefined;

  constructor(readonly ownership: OwnershipConfig = DEFAULT_OWNERSHIP, kernel = new ModelKernel(), ovsdb = new ModelOvsdb()) {
    this.kernel = kernel;
    this.ovsdb = ovsdb;
    this.ovsdb.kernelHas = (name) => this.kernel.links.has(name);
  }

  clone(): ModelHost {
    const copy = new ModelHost(this.ownership, this.kernel.clone(), this.ovsdb.clone());
    copy.ovsUp = this.ovsUp;
    return copy;
  }

  snapshot(): Promise<HostSnapshot> {
    this.onSnapshot?.();
    this.snapshots++;
    return Promise.resolve({ links: this.kernel.snapshot(), ovs: this.ovsUp ? this.ovsdb.snapshot() : undefined, takenAt: Date.now() });
  }

  applyLinks(actions: readonly LinkAction[]): Promise<ActuationResult> {
    return applyLinkActions(this.kernel, actions, this.ownership);
  }

  async applyOvs(changes: OvsChanges, snapshot: OvsSnapshot | undefined): Promise<ApplyOvsResult> {
    if (!this.ovsUp) throw Object.assign(new Error('model: OVSDB is down'), { code: 'OVSDB_CLOSED' });
    return applyOvsChanges(this.ovsdb, changes, snapshot ? { snapshot } : {});
  }
}
