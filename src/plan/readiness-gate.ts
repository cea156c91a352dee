// Readiness gates (docs/design.md §5): when a plugged OVS binding counts as
// Ready. "plugged": as soon as vifd's part is done; "ovn-installed": once
// ovn-controller has set external_ids:ovn-installed=true on the Interface;
// "ofport": once the Interface has a valid OpenFlow port and, if the port was
// isolated, an agent has taken it out of VLAN 4095. Pure.
import type { DesiredOvsPort } from '../desired/spec.js';
import type { ReadyWhen } from '../desired/schema.js';
import type { OvsInterface, OvsPort } from '../host/ovsdb/index.js';
import type { KeyOutcome } from './plan-links.js';

/** Neutron's dead VLAN: a port in it carries no traffic. */
export const DEAD_VLAN = 4095;
export const DEFAULT_READY_WHEN: ReadyWhen = 'plugged';

/** A plugged binding waiting on its gate: phase Pending, retried by OVSDB events. */
export interface GateWait extends KeyOutcome {
  state: 'waiting';
  gate: ReadyWhen;
}

export function isGateWait(outcome: KeyOutcome | undefined): outcome is GateWait {
  return outcome !== undefined && outcome.state === 'waiting' && typeof (outcome as Partial<GateWait>).gate === 'string';
}

export function gateOf(wanted: DesiredOvsPort, defaultReadyWhen: ReadyWhen | undefined): ReadyWhen {
  return wanted.readyWhen ?? defaultReadyWhen ?? DEFAULT_READY_WHEN;
}

/** What the gate still waits for, or undefined when it holds. */
export function gateProblem(gate: ReadyWhen, wanted: DesiredOvsPort, iface: OvsInterface | undefined, port: OvsPort | undefined): string | undefined {
  if (gate === 'plugged') return undefined;
  const name = wanted.name;
  if (!iface) return `waiting for OVS interface ${name}`;
  if (gate === 'ovn-installed') {
    return iface.externalIds['ovn-installed'] === 'true' ? undefined : `plugged; waiting for ovn-controller to set external_ids:ovn-installed=true on OVS interface ${name}`;
  }
  if (iface.ofport === null || iface.ofport <= 0) return `plugged; waiting for a valid ofport on OVS interface ${name} (${iface.ofport === null ? 'none yet' : iface.ofport})`;
  if (wanted.isolate && (port?.tag ?? null) === DEAD_VLAN) return `plugged; waiting for an agent to move OVS port ${name} out of VLAN ${DEAD_VLAN}`;
  return undefined;
}

/** The outcome of a plugged port under its gate: converged, or a GateWait. */
export function gatedOutcome(wanted: DesiredOvsPort, defaultReadyWhen: ReadyWhen | undefined, iface: OvsInterface | undefined, port: OvsPort | undefined): KeyOutcome {
  const gate = gateOf(wanted, defaultReadyWhen);
  const problem = gateProblem(gate, wanted, iface, port);
  if (problem === undefined) return { state: 'converged' };
  const wait: GateWait = { state: 'waiting', message: problem, gate };
  return wait;
}

export interface ReadinessTimes {
  pluggedAt?: string;
  readyAt?: string;
}

/** The status times for this round: each kept from the previous status while
 * it still holds for the same generation, set to `now` when it starts to. */
export function nextReadinessTimes(previous: (ReadinessTimes & { observedGeneration?: number }) | undefined, generation: number | undefined, plugged: boolean, ready: boolean, now: string): ReadinessTimes {
  const prev = previous && previous.observedGeneration === generation ? previous : undefined;
  const out: ReadinessTimes = {};
  if (plugged || ready) out.pluggedAt = prev?.pluggedAt ?? now;
  if (ready) out.readyAt = prev?.readyAt ?? now;
  return out;
}
