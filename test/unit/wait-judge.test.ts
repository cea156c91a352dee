import { describe, expect, it } from 'vitest';
import { judge, type PortNow } from '../../src/cli/wait-judge.js';

const st = (phase: string, observedGeneration?: number) => ({ phase, message: '', ...(observedGeneration === undefined ? {} : { observedGeneration }) });

describe('vifd wait: judge', () => {
  it.each<[string, 'Ready' | 'Removed', PortNow, string]>([
    ['no binding yet', 'Ready', { generation: undefined, status: undefined }, 'waiting'],
    ['binding, no status yet', 'Ready', { generation: 5, status: undefined }, 'waiting'],
    ['Ready of an older generation', 'Ready', { generation: 5, status: st('Ready', 4) }, 'waiting'],
    ['Ready with no generation at all (an old vifd)', 'Ready', { generation: 5, status: st('Ready') }, 'waiting'],
    ['Ready of this generation', 'Ready', { generation: 5, status: st('Ready', 5) }, 'reached'],
    ['Ready of a later generation', 'Ready', { generation: 5, status: st('Ready', 6) }, 'reached'],
    ['Failed of an older generation', 'Ready', { generation: 5, status: st('Failed', 4) }, 'waiting'],
    ['Failed of this generation', 'Ready', { generation: 5, status: st('Failed', 5) }, 'failed'],
    ['Conflict', 'Ready', { generation: 5, status: st('Conflict', 5) }, 'failed'],
    ['Invalid', 'Ready', { generation: 5, status: st('Invalid', 5) }, 'failed'],
    ['Pending', 'Ready', { generation: 5, status: st('Pending', 5) }, 'waiting'],
    ['removed: binding still there', 'Removed', { generation: 5, status: st('Ready', 5) }, 'waiting'],
    ['removed: binding gone, status still there (Removing)', 'Removed', { generation: undefined, status: st('Removing', 5) }, 'waiting'],
    ['removed: both gone', 'Removed', { generation: undefined, status: undefined }, 'reached'],
  ])('%s', (_what, target, now, verdict) => {
    expect(judge(target, now)).toBe(verdict);
  });
});
