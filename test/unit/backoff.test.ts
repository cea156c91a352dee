import { describe, expect, it } from 'vitest';
import { backoffDelay, equalJitter } from '../../src/lib/backoff.js';
import { Backoff } from '../../src/sources/etcd/backoff.js';

describe('backoffDelay', () => {
  it('doubles from the base per attempt and holds at the cap', () => {
    const o = { baseMs: 100, maxMs: 1000 };
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, o))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('treats attempt 0 as the first and does not overflow on huge attempts', () => {
    const o = { baseMs: 250, maxMs: 5000 };
    expect(backoffDelay(0, o)).toBe(250);
    expect(backoffDelay(10_000, o)).toBe(5000);
  });
});

describe('equalJitter', () => {
  it('draws from [delay/2, delay]', () => {
    expect(equalJitter(1000, () => 0)).toBe(500);
    expect(equalJitter(1000, () => 0.999999)).toBe(1000);
    expect(equalJitter(1000, () => 0.5)).toBe(750);
  });
});

describe('etcd Backoff', () => {
  it('grows per attempt within its jitter band and starts over after reset()', () => {
    const b = new Backoff(200, 1600);
    const ceilings = [200, 400, 800, 1600, 1600];
    for (const ceiling of ceilings) {
      const d = b.next();
      expect(d).toBeGreaterThanOrEqual(ceiling / 2);
      expect(d).toBeLessThanOrEqual(ceiling);
    }
    b.reset();
    expect(b.next()).toBeLessThanOrEqual(200);
  });
});
