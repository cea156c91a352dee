// Exponential backoff, written once. Pure.

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

/** Delay before retry number `attempt` (1 = the first retry): base·2^(attempt-1), capped. */
export function backoffDelay(attempt: number, { baseMs, maxMs }: BackoffOptions): number {
  const exponent = Math.min(Math.max(attempt, 1) - 1, 30);
  return Math.min(maxMs, baseMs * 2 ** exponent);
}
