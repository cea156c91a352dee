import { describe, expect, it } from 'vitest';
import { WorkQueue, type RoundResult } from '../../src/reconcile/work-queue.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('WorkQueue', () => {
  it('batches keys added together into one round and dedups them', async () => {
    const rounds: string[][] = [];
    const q = new WorkQueue({ process: async (keys) => (rounds.push([...keys].sort()), new Map()) });
    q.addAll(['a', 'b', 'a', 'c', 'b']);
    await tick(30);
    await q.whenIdle();
    expect(rounds).toEqual([['a', 'b', 'c']]);
    await q.stop();
  });

  it('never processes a key twice at once; a key re-added mid-round runs again after', async () => {
    let running = 0;
    let maxRunning = 0;
    const seen: string[][] = [];
    const q = new WorkQueue({
      concurrency: 4,
      process: async (keys) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        seen.push(keys);
        if (seen.length === 1) q.add('a');
        await tick(20);
        running--;
        return new Map();
      },
    });
    q.add('a');
    await tick(10);
    await tick(100);
    expect(seen).toEqual([['a'], ['a']]);
    expect(maxRunning).toBe(1);
    await q.stop();
  });

  it('backs off exponentially on failure and resets on success', async () => {
    const times: number[] = [];
    const start = Date.now();
    let failuresLeft = 3;
    const q = new WorkQueue({
      baseDelayMs: 20,
      maxDelayMs: 1000,
      process: async () => {
        times.push(Date.now() - start);
        const r: RoundResult = new Map([['k', failuresLeft-- > 0 ? 'retry' : 'done']]);
        return r;
      },
    });
    q.add('k');
    await tick(400);
    expect(times).toHaveLength(4);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    // ~20, ~40, ~80 ms (±10% jitter, plus timer slack)
    expect(gaps[0]).toBeGreaterThanOrEqual(17);
    expect(gaps[1]).toBeGreaterThanOrEqual(35);
    expect(gaps[2]).toBeGreaterThanOrEqual(71);
    expect(gaps[2]!).toBeGreaterThan(gaps[0]!);
    expect(q.attempts('k')).toBe(0);
    await q.stop();
  });

  it('caps the backoff', async () => {
    const times: number[] = [];
    const q = new WorkQueue({ baseDelayMs: 10, maxDelayMs: 25, process: async () => (times.push(Date.now()), new Map([['k', 'retry']])) });
    q.add('k');
    await tick(250);
    await q.stop();
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(Math.max(...gaps.slice(2))).toBeLessThan(25 * 1.1 + 15);
    expect(times.length).toBeGreaterThan(5);
  });

  it('a desired-state change skips the remaining backoff', async () => {
    let calls = 0;
    const q = new WorkQueue({ baseDelayMs: 10_000, process: async () => (calls++, new Map([['k', 'retry']])) });
    q.add('k');
    await tick(30);
    expect(calls).toBe(1);
    q.add('k'); // a host event: still waits for the backoff
    await tick(30);
    expect(calls).toBe(1);
    q.add('k', { resetBackoff: true });
    await tick(30);
    expect(calls).toBe(2);
    await q.stop();
  });

  it('a round that throws retries all its keys', async () => {
    let calls = 0;
    const errors: unknown[] = [];
    const q = new WorkQueue({
      baseDelayMs: 10,
      onError: (e) => errors.push(e),
      process: async () => {
        if (calls++ === 0) throw new Error('snapshot failed');
        return new Map();
      },
    });
    q.addAll(['a', 'b']);
    await tick(80);
    expect(calls).toBe(2);
    expect(errors).toHaveLength(1);
    await q.stop();
  });
});
