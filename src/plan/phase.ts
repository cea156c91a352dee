// A key's verified outcome (plus the errors its actions met) → the phase to
// report and whether to retry. Pure.
import { describeErrors, allTerminal } from './errors-summary.js';
import type { KeyOutcome } from './plan-links.js';
import type { Phase } from '../model/status.js';

export interface PhaseDecision {
  /** 'Gone': not desired and nothing of it left on the host. */
  phase: Phase | 'Gone';
  message: string;
  retry: 'done' | 'retry' | 'retry-slow';
}

export function phaseOf(input: { desired: boolean; outcome: KeyOutcome; failures: readonly Error[] }): PhaseDecision {
  const { desired, outcome, failures } = input;
  if (!desired) {
    if (outcome.state === 'converged') return { phase: 'Gone', message: '', retry: 'done' };
    // The associator queues the key again once the disassociation is done.
    if (outcome.state === 'waiting') return { phase: 'Removing', message: outcome.message ?? 'unplugging', retry: 'done' };
    return { phase: 'Removing', message: failures.length ? describeErrors(failures) : (outcome.state === 'blocked' ? outcome.message : undefined) ?? 'unplugging', retry: 'retry' };
  }
  switch (outcome.state) {
    case 'converged':
      return { phase: 'Ready', message: outcome.message ?? '', retry: 'done' };
    case 'conflict':
      // Settles when the other holder goes away: events and resync bring it back.
      return { phase: 'Conflict', message: outcome.message ?? 'conflict', retry: 'done' };
    case 'blocked':
      return { phase: 'Failed', message: outcome.message ?? 'blocked', retry: 'retry' };
    case 'waiting':
      // Retried (with its own backoff) by whatever the key waits on.
      return { phase: outcome.failed ? 'Failed' : 'Pending', message: outcome.message ?? 'waiting', retry: 'done' };
    case 'changing': {
      const message = failures.length ? describeErrors(failures) : (outcome.message ?? 'host did not converge after the round; will retry');
      return { phase: 'Failed', message, retry: failures.length && allTerminal(failures) ? 'retry-slow' : 'retry' };
    }
  }
}
