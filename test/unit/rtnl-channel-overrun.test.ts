// The netlink channel after an overrun whose barrier probe is lost too: the
// kernel reports an overrun once, so no second ENOBUFS announces the lost
// probe. The requests in flight must still end (answered as lost, ENOBUFS),
// by a probe sent again, not hang until a watchdog kills the helper.
import { join } from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { HelperRtnlChannel } from '../../src/host/netlink/rtnl-channel.js';
import { encodeHeaderOnly, NLMSG_ERROR, NLMSG_NOOP, NLM_F_REQUEST, parseError } from '../../src/host/netlink/wire.js';

const HELPER = join(import.meta.dirname, '../fixtures/fake-helpers/lossy-stream-helper.mjs');

describe('HelperRtnlChannel after an overrun', () => {
  it('answers requests whose acks and first probe were lost, as lost, within seconds', async () => {
    const lost: string[] = [];
    const channel = new HelperRtnlChannel({ helperPath: HELPER, netns: undefined, logger: pino({ level: 'silent' }) });
    channel.start({ onNotification: () => undefined, onLost: (reason) => lost.push(reason), onGiveUp: (error) => lost.push(`gave up: ${error.message}`) });
    try {
      const started = Date.now();
      const replies = await channel.request([encodeHeaderOnly(NLMSG_NOOP, NLM_F_REQUEST, 0), encodeHeaderOnly(NLMSG_NOOP, NLM_F_REQUEST, 0)]);
      const ms = Date.now() - started;
      expect(lost).toEqual(['overrun']);
      expect(replies).toHaveLength(2);
      for (const reply of replies) {
        expect(reply.at(-1)?.type).toBe(NLMSG_ERROR);
        expect(parseError(reply.at(-1)!).errno).toBe(105); // ENOBUFS: answered as lost
      }
      // The lost probe is sent again after 1 s (checked every 200 ms).
      expect(ms).toBeGreaterThanOrEqual(900);
      expect(ms).toBeLessThan(4000);
      // And the channel goes on: a later request is acked.
      const [later] = await channel.request([encodeHeaderOnly(NLMSG_NOOP, NLM_F_REQUEST, 0)]);
      expect(parseError(later!.at(-1)!).errno).toBe(0);
    } finally {
      channel.stop();
    }
  }, 15_000);
});
