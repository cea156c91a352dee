// A key queued again while its round runs (a host event after the round's
// snapshot) is retried at once, not after the backoff; a key that keeps
// failing still backs off.
import { describe, expect, it } from 'vitest';
import { WorkQueue, type RoundResult } from '../../src/reconcile/work-queue.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('WorkQueue: events during a round', () => {
  it('retries at once when the key was re-added while in flight', async () => {
    const times: number[] = [];
    const start = Date.now();
    let q!: WorkQueue;
    let calls = 0;
    q = new WorkQueue({
      baseDelayMs: 5000,
      process: async () => {
        times.push(Date.now() - start);
        calls++;
        if (calls === 1) q.add('k'); // the device broke again mid-round
        return new Map([['k', calls === 1 ? 'retry' : 'done']]) as RoundResult;
      },
    });
    q.add('k');
    await tick(150);
    expect(times).toHaveLength(2);
    expect(times[1]! - times[0]!).toBeLessThan(100);
    await q.stop();
  });

  it('still backs off after two quick retries (no hot loop)', async () => {
    let calls = 0;
    let q!: WorkQueue;
    q = new WorkQueue({
      baseDelayMs: 5000,
      process: async () => {
        calls++;
        q.add('k'); // every round causes an event for its own key
        return new Map([['k', 'retry']]) as RoundResult;
      },
    });
    q.add('k');
    await tick(300);
    expect(calls).toBe(3);
    await q.stop();
  });

  it('without an event during the round, a retry waits for the backoff', async () => {
    let calls = 0;
    const q = new WorkQueue({ baseDelayMs: 5000, process: async () => (calls++, new Map([['k', 'retry']]) as RoundResult) });
    q.add('k');
    await tick(200);
    expect(calls).toBe(1);
    await q.stop();
  });
});
