// The start/stop manager: parts stop in reverse order of start; a part that
// never finishes stopping cannot hold the daemon's exit up (it is named in
// the log); a failing start stops what had started.
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { Lifecycle } from '../../src/app/lifecycle.js';

function recorder() {
  const lines: Array<{ msg: string; part?: string }> = [];
  return { lines, logger: pino({ level: 'debug' }, { write: (l: string) => void lines.push(JSON.parse(l) as { msg: string; part?: string }) }) };
}

describe('Lifecycle', () => {
  it('stops in reverse; a hanging part is cut off at its bound and named', async () => {
    const { lines, logger } = recorder();
    const life = new Lifecycle(logger);
    const order: string[] = [];
    life.started('lock', () => void order.push('lock'));
    life.started('hangs', () => new Promise<void>(() => undefined));
    life.started('api', () => void order.push('api'));
    const t = Date.now();
    await life.stopAll(100, 1000);
    expect(Date.now() - t).toBeLessThan(900);
    expect(order).toEqual(['api', 'lock']);
    expect(lines.find((l) => l.msg === 'a part did not stop in time: going on without it')?.part).toBe('hangs');
  });

  it('the total bound: once spent, the remaining parts are only told to stop', async () => {
    const { logger } = recorder();
    const life = new Lifecycle(logger);
    const told: string[] = [];
    life.started('last', () => void told.push('last'));
    for (const n of ['a', 'b', 'c']) life.started(n, () => new Promise<void>(() => void told.push(n)));
    const t = Date.now();
    await life.stopAll(200, 300);
    expect(Date.now() - t).toBeLessThan(700);
    expect(told).toEqual(['c', 'b', 'a', 'last']);
  });

  it('a part failing to start stops what had started, then rethrows', async () => {
    const { logger } = recorder();
    const life = new Lifecycle(logger);
    const stopped: string[] = [];
    life.started('one', () => void stopped.push('one'));
    await expect(life.step('two', () => Promise.reject(Object.assign(new Error('socket in use'), { code: 'API_SOCKET_IN_USE' })))).rejects.toThrow('socket in use');
    expect(stopped).toEqual(['one']);
  });
});
