import { describe, expect, it } from 'vitest';
import { eventLine, progressLine } from '../../src/cli/status-watch.js';
import type { BindingStatus } from '../../src/model/status.js';

const status = (port: string, phase: BindingStatus['phase'], message = ''): BindingStatus =>
  ({ port, phase, message, attempts: 0, lastTransitionTime: '', source: 'api', type: 'bridge', devices: [], libvirt: undefined }) as BindingStatus;

describe('vifd status --watch', () => {
  it('shows a progress bar while bindings converge, a summary once settled', () => {
    expect(progressLine([status('a', 'Ready'), status('b', 'Pending'), status('c', 'Failed'), status('d', 'Conflict')], 8)).toBe(
      'converging [####....] 1/4 Ready (1 Ready, 1 Pending, 1 Failed, 1 Conflict)',
    );
    expect(progressLine([status('a', 'Ready'), status('b', 'Invalid')])).toBe('2 binding(s): 1 Ready, 1 Invalid');
    expect(progressLine([])).toBe('0 binding(s): none');
  });

  it('prints one line per change', () => {
    expect(eventLine({ type: 'MODIFIED', revision: 7, port: 'p', status: status('p', 'Failed', 'boom') })).toBe('7 p Failed boom');
    expect(eventLine({ type: 'DELETED', revision: 8, port: 'p' })).toBe('8 p gone');
    expect(eventLine({ type: 'BOOKMARK', revision: 8 })).toBeUndefined();
  });
});
