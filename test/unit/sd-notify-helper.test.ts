// src/host/sd-notify.ts with the real native/build/vifd-notify and a
// stand-in notify socket: each send() is one datagram; a missing helper is
// reported once and makes send/close no-ops (vifd runs on without systemd
// notifications rather than failing).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NotifyHelper } from '../../src/host/sd-notify.js';
import { NotifyListener } from '../helpers/notify-listener.js';
import { waitFor } from '../helpers/vifd-process.js';

const dir = mkdtempSync(join(tmpdir(), 'vifd-sdnotify-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('NotifyHelper', () => {
  for (const kind of ['path', 'abstract'] as const) {
    it(`sends each message as one datagram to a ${kind} socket, and ends at close()`, async () => {
      const address = kind === 'path' ? join(dir, 'notify.sock') : `@vifd-unit-${process.pid}-${Date.now()}`;
      const listener = await NotifyListener.start(address);
      const errors: Error[] = [];
      const helper = new NotifyHelper({ socket: address, onError: (e) => errors.push(e) });
      try {
        helper.send(['READY=1', 'STATUS=multi\nline']);
        helper.send(['WATCHDOG=1']);
        helper.send([]);
        await waitFor(() => listener.datagrams.length >= 2, 5000, 'two datagrams');
        expect(listener.datagrams.map((d) => d.lines)).toEqual([['READY=1', 'STATUS=multi line'], ['WATCHDOG=1']]);
        expect(listener.datagrams[0]!.pid).toBe(helper.pid);
        await helper.close();
        expect(errors).toEqual([]);
      } finally {
        listener.stop();
      }
    });
  }

  it('a helper that cannot run is reported once; send and close do nothing', async () => {
    const errors: Error[] = [];
    const helper = new NotifyHelper({ socket: join(dir, 'x.sock'), helperPath: join(dir, 'no-such-helper'), onError: (e) => errors.push(e) });
    helper.send(['READY=1']);
    await waitFor(() => errors.length > 0, 5000, 'spawn error');
    helper.send(['WATCHDOG=1']);
    await helper.close();
    expect(errors).toHaveLength(1);
    expect((errors[0] as NodeJS.ErrnoException).code).toBe('ENOENT');
  });
});
