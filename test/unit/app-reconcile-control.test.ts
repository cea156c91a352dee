// app/reconcile-control.ts: the API's narrow view of the reconciler
// delegates to it (the queue depth is read when asked, not copied).
import { describe, expect, it } from 'vitest';
import { apiControlOf } from '../../src/app/reconcile-control.js';
import type { Reconciler } from '../../src/reconcile/reconciler.js';

describe('apiControlOf', () => {
  it('answers from the reconciler at each call', () => {
    const calls: string[] = [];
    const fake = {
      queue: { depth: 3 },
      desiredChanged: (ports: Iterable<string>) => calls.push(`changed ${[...ports].join(',')}`),
      statusList: () => [],
      summary: () => ({ rounds: 7 }),
      invalidDocuments: () => [],
      onStatus: () => () => calls.push('off status'),
      onRound: () => () => calls.push('off round'),
    };
    const control = apiControlOf(fake as unknown as Reconciler);
    expect(control.queueDepth()).toBe(3);
    fake.queue.depth = 9;
    expect(control.queueDepth()).toBe(9);
    expect(control.summary()).toEqual({ rounds: 7 });
    control.desiredChanged(['a', 'b']);
    control.onStatus(() => undefined)();
    control.onRound(() => undefined)();
    expect(calls).toEqual(['changed a,b', 'off status', 'off round']);
  });
});
