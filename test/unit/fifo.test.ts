// The FIFO the netlink channel keeps its requests in: order kept across
// shifts, compaction and removals, compared with a plain array.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Fifo } from '../../src/lib/fifo.js';

type Op = { op: 'push'; n: number } | { op: 'shift' } | { op: 'removeAt'; i: number } | { op: 'drain' };

describe('Fifo', () => {
  it('behaves as an array used as a queue, through compaction', () => {
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 5, arbitrary: fc.integer({ min: 1, max: 3000 }).map((n) => ({ op: 'push' as const, n })) },
      { weight: 5, arbitrary: fc.constant({ op: 'shift' as const }) },
      { weight: 1, arbitrary: fc.nat(50).map((i) => ({ op: 'removeAt' as const, i })) },
      { weight: 1, arbitrary: fc.constant({ op: 'drain' as const }) },
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const fifo = new Fifo<number>();
        const model: number[] = [];
        let next = 0;
        for (const o of ops) {
          if (o.op === 'push') for (let k = 0; k < o.n; k++) (fifo.push(next), model.push(next++));
          else if (o.op === 'shift') for (let k = 0; k < 1500; k++) expect(fifo.shift()).toBe(model.shift());
          else if (o.op === 'removeAt') expect(fifo.removeAt(o.i)).toBe(model.splice(o.i, 1)[0]);
          else expect(fifo.drain()).toEqual(model.splice(0));
          expect(fifo.length).toBe(model.length);
          expect(fifo.at(0)).toBe(model[0]);
          expect(fifo.at(model.length - 1)).toBe(model[model.length - 1]);
        }
        expect([...fifo]).toEqual(model);
        if (model.length > 0) expect(fifo.findIndex((x) => x === model[model.length - 1])).toBe(model.length - 1);
        expect(fifo.findIndex(() => false)).toBe(-1);
      }),
      { numRuns: 100 },
    );
  });

  it('shift and at on an empty queue give undefined', () => {
    const fifo = new Fifo<string>();
    expect(fifo.shift()).toBeUndefined();
    expect(fifo.at(0)).toBeUndefined();
    expect(fifo.at(-1)).toBeUndefined();
    fifo.push('a');
    expect(fifo.at(-1)).toBeUndefined();
    expect(fifo.shift()).toBe('a');
    expect(fifo.length).toBe(0);
  });
});
