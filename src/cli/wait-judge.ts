// `vifd wait`'s decision for one port, from what the API says now. Pure.
// A status counts only when it describes the current generation (or a later
// one): a Ready left from before the last change is never the answer.

export type WaitTarget = 'Ready' | 'Removed';
export type Verdict = 'reached' | 'failed' | 'waiting';

export interface PortNow {
  /** The desired binding's generation; undefined: no source names the port. */
  generation: number | undefined;
  /** The status; undefined: none (not yet, or removed). */
  status: { phase: string; message: string; observedGeneration?: number } | undefined;
}

const FAILED = new Set(['Failed', 'Conflict', 'Invalid']);

export function judge(target: WaitTarget, now: PortNow): Verdict {
  if (target === 'Removed') return now.generation === undefined && now.status === undefined ? 'reached' : 'waiting';
  if (now.generation === undefined || now.status === undefined) return 'waiting';
  if ((now.status.observedGeneration ?? -1) < now.generation) return 'waiting';
  if (now.status.phase === 'Ready') return 'reached';
  return FAILED.has(now.status.phase) ? 'failed' : 'waiting';
}
