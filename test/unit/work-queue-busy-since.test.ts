// WorkQueue.busySince: the watchdog's progress signal (src/cli/service-notify.ts).
import { describe, expect, it } from 'vitest';
import { WorkQueue, type RoundResult } from '../../src/reconcile/work-queue.js';

describe('WorkQueue.busySince', () => {
  it('is the start of the round in flight, and undefined before and after it', async () => {
    let clock = 1000;
    let release!: () => void;
    let started!: () => void;
    const roundStarted = new Promise<void>((r) => (started = r));
    const queue = new WorkQueue({
      now: () => clock,
      coalesceMs: 0,
      process: async (): Promise<RoundResult> => {
        started();
        await new Promise<void>((r) => (release = r));
        return new Map();
      },
    });
    expect(queue.busySince).toBeUndefined();
    queue.add('a');
    await roundStarted;
    expect(queue.busySince).toBe(1000);
    clock = 5000;
    expect(queue.busySince).toBe(1000); // still the same round
    release();
    await queue.whenIdle();
    expect(queue.busySince).toBeUndefined();
    await queue.stop();
  });

  it('a round that throws is over too', async () => {
    const queue = new WorkQueue({ coalesceMs: 0, baseDelayMs: 60_000, onError: () => undefined, process: async () => Promise.reject(new Error('boom')) });
    queue.add('a');
    await new Promise((r) => setTimeout(r, 50));
    expect(queue.busySince).toBeUndefined();
    await queue.stop();
  });
});
