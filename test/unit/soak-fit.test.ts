import { describe, expect, it } from 'vitest';
import { linearFit } from '../support/fit.js';
import { ppidOfStat } from '../support/procs.js';

describe('soak helpers', () => {
  it('fits a line by least squares', () => {
    const fit = linearFit([0, 1, 2, 3], [1, 3, 5, 7]);
    expect(fit?.slope).toBeCloseTo(2);
    expect(fit?.intercept).toBeCloseTo(1);
    expect(fit?.r2).toBeCloseTo(1);
    const flat = linearFit([1, 2, 3, 4], [10, 11, 10, 11]);
    expect(flat?.slope).toBeCloseTo(0.2);
    expect(flat!.r2).toBeLessThan(0.5);
    expect(linearFit([1], [1])).toBeUndefined();
    expect(linearFit([2, 2], [1, 3])).toBeUndefined();
  });

  it('reads the parent pid of a /proc stat line, whatever the command name holds', () => {
    expect(ppidOfStat('1234 (node) S 77 1234 1234 0 -1')).toBe(77);
    expect(ppidOfStat('99 (a) b (c)) R 5 99 99 0')).toBe(5);
    expect(ppidOfStat('garbage')).toBeUndefined();
  });
});
