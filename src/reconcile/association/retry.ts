// When a failed association is tried again: capped exponential backoff, and
// the longest wait for an uplink whose driver has no port-profile support.
import { backoffDelay } from '../../lib/backoff.js';

export interface RetryPolicy {
  /** base * 2^(failures-1), capped (defaults 1 s, 60 s). */
  baseDelayMs?: number;
  maxDelayMs?: number;
}

export function retryDelay(code: string, attempts: number, policy: RetryPolicy): number {
  const max = policy.maxDelayMs ?? 60_000;
  // The uplink's driver has no port-profile support: only new hardware or a
  // new driver changes that, so retrying soon only churns; wait the longest.
  return code === 'PORT_PROFILE_UNSUPPORTED' ? max : backoffDelay(attempts, { baseMs: policy.baseDelayMs ?? 1000, maxMs: max });
}
