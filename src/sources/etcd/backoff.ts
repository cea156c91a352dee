// Capped exponential backoff with jitter, for reconnects: counts the attempts
// in a row and draws each delay with lib/backoff.
import { backoffDelay, equalJitter } from '../../lib/backoff.js';

export class Backoff {
  private attempt = 0;
  constructor(
    private readonly baseMs = 200,
    private readonly maxMs = 5000,
  ) {}

  next(): number {
    this.attempt++;
    return equalJitter(backoffDelay(this.attempt, { baseMs: this.baseMs, maxMs: this.maxMs }));
  }

  reset(): void {
    this.attempt = 0;
  }
}

export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
