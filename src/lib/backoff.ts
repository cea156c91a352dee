// Exponential backoff, written once. Pure (the jitter's randomness is a parameter).

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

/** Delay before retry number `attempt` (1 = the first retry): base·2^(attempt-1), capped. */
export function backoffDelay(attempt: number, { baseMs, maxMs }: BackoffOptions): number {
  const exponent = Math.min(Math.max(attempt, 1) - 1, 30);
  return Math.min(maxMs, baseMs * 2 ** exponent);
}

/** "Equal jitter": a delay drawn from [delay/2, delay], so that many clients
 * cut off at once (an etcd restart) do not all come back at the same instant. */
export function equalJitter(delayMs: number, random: () => number = Math.random): number {
  return Math.round(delayMs / 2 + random() * (delayMs / 2));
}
