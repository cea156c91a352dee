// One port's association as the associator tracks it, and the state
// machine's transitions (pure: the time is passed in):
//   associating → associated | failed (retried, retry.ts) ;
//   associated → (a re-check finds it lost) → failed → associating ... ;
//   on unplug: disassociating → forgotten.
import {
  associatingMessage, associationSignature, kindLabel,
  type AssociationRequest, type AssociationView,
} from '../../model/association.js';
import type { AssociationRecord } from '../../state/association-store.js';
import { describeAssociationError } from '../../host/portprofile/driver.js';

export interface Entry {
  port: string;
  request: AssociationRequest;
  sig: string;
  state: 'associating' | 'associated' | 'failed' | 'disassociating';
  /** An operation (associate, disassociate, query) is running for this port. */
  busy: boolean;
  /** The switch may hold an association made for `request` (undo on unplug). */
  mayHold: boolean;
  /** Failures since the last success. */
  attempts: number;
  code?: string;
  message: string;
  retryAt: number;
  timer?: NodeJS.Timeout;
  /** Restored from the state file; not confirmed by a query yet. */
  unverified?: boolean;
  at: string;
}

/** Errors after which the switch cannot hold the association (nothing to undo). */
const NEVER_HELD = new Set([
  'PORT_PROFILE_UNSUPPORTED', 'PORT_PROFILE_NETLINK_ERROR', 'NETLINK_HELPER_FAILED', 'LLDPAD_NOT_RUNNING',
  'VDP_COMMAND_FAILED', 'VDPTOOL_FAILED', 'HOST_UUID_UNAVAILABLE',
]);

/** An entry from the previous run's state file: held ones count as held
 * until a query answers (a restart over a converged host must not take the
 * macvtaps down); interrupted ones are redone. */
export function restoredEntry(r: AssociationRecord): Entry {
  const held = r.state === 'associated';
  return {
    port: r.port, request: r.request, sig: associationSignature(r.request), state: held ? 'associated' : 'failed',
    busy: false, mayHold: true, attempts: 0, retryAt: 0, at: r.at, unverified: held,
    ...(held ? {} : { code: 'INTERRUPTED' }),
    message: held ? `${kindLabel(r.request.kind)} association on ${r.request.uplink} restored; re-checking it` : `${kindLabel(r.request.kind)} association on ${r.request.uplink} was interrupted by a restart; redoing it`,
  };
}

/** An attempt starting for `request`; `e`, the port's entry before it. */
export function associatingEntry(port: string, request: AssociationRequest, sig: string, e: Entry | undefined, now: number): Entry {
  const retry = e !== undefined && e.sig === sig && e.attempts > 0;
  return {
    port, request, sig, state: 'associating', busy: true, mayHold: true,
    attempts: retry ? e.attempts : 0, retryAt: 0, at: new Date(now).toISOString(),
    // A retry keeps saying what failed last (the phase stays Failed until it succeeds).
    message: retry ? `${e.message.replace(/; attempt \d+, retrying in .*$/u, '')}; attempt ${e.attempts + 1} in progress` : associatingMessage(request.kind, request.uplink),
    ...(retry && e.code ? { code: e.code } : {}),
  };
}

/** A port that waits for lldpad (another binding's attempt probes it). */
export function lldpadWaitEntry(port: string, request: AssociationRequest, sig: string, e: Entry | undefined, lldpad: { answered: boolean; retryAt: number }, now: number): Entry {
  return {
    port, request, sig, busy: false, mayHold: false,
    ...(lldpad.answered ? { state: 'failed' as const, code: 'LLDPAD_NOT_RUNNING' } : { state: 'associating' as const }),
    attempts: e && e.sig === sig ? e.attempts : 0, retryAt: lldpad.retryAt, at: new Date(now).toISOString(),
    // No countdown in the text: the status stays the same while it waits.
    message: lldpad.answered
      ? `${kindLabel(request.kind)} association on ${request.uplink} waits: lldpad is not running (one binding's attempt at a time probes it)`
      : `${kindLabel(request.kind)} association on ${request.uplink} waits for the first request to reach lldpad`,
  };
}

export function markAssociated(e: Entry, now: number): void {
  Object.assign(e, { state: 'associated', attempts: 0, at: new Date(now).toISOString(), message: `${kindLabel(e.request.kind)} association on ${e.request.uplink} holds` });
  delete e.code;
}

/** A failed step (`code`: the error's); `delay`: when it is retried. */
export function markFailed(e: Entry, step: string, error: unknown, code: string, delay: number, now: number): void {
  e.state = 'failed';
  e.code = code;
  e.mayHold = !NEVER_HELD.has(code);
  e.retryAt = now + delay;
  e.message = `${kindLabel(e.request.kind)} ${step} on ${e.request.uplink} failed: ${describeAssociationError(error)}; attempt ${e.attempts}, retrying in ${formatDelay(delay)}`;
}

/** The retry time moved (to the lldpad gate's): the message says so. */
export function retryAt(e: Entry, at: number, now: number): void {
  e.retryAt = at;
  e.message = e.message.replace(/retrying in .*$/u, `retrying in ${formatDelay(e.retryAt - now)}`);
}

export function markVerified(e: Entry): void {
  e.unverified = false;
  e.message = `${kindLabel(e.request.kind)} association on ${e.request.uplink} holds`;
}

/** A re-check found the switch no longer holds it: redone at once. */
export function markLost(e: Entry, reason: string, now: number): void {
  e.state = 'failed';
  e.code = 'ASSOCIATION_LOST';
  e.unverified = false;
  e.retryAt = now;
  e.message = `${kindLabel(e.request.kind)} association on ${e.request.uplink} lost: ${reason}; re-associating`;
}

export function viewOf(e: Entry): AssociationView {
  return { kind: e.request.kind, state: e.state, message: e.message, attempts: e.attempts, ...(e.code ? { code: e.code } : {}) };
}

/** What the state file keeps: associations made or being made. */
export function recordsOf(entries: Iterable<Entry>): AssociationRecord[] {
  const out: AssociationRecord[] = [];
  for (const e of entries) {
    if (e.state === 'associated') out.push({ port: e.port, request: e.request, state: 'associated', at: e.at });
    else if (e.mayHold) out.push({ port: e.port, request: e.request, state: 'associating', at: e.at });
  }
  return out;
}

export function formatDelay(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`;
}
