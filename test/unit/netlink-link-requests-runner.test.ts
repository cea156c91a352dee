// NetlinkLinkRunner over a scripted channel: how lines are grouped into
// pipelined requests, where it waits, and how replies become ip's failures.
import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';
import type { LinkBatchRunner } from '../../src/host/links/link-actuator.js';
import { NetlinkLinkRunner, NetlinkReplyError } from '../../src/host/netlink/netlink-runner.js';
import type { RtnlChannel } from '../../src/host/netlink/rtnl-channel.js';
import { IFINFOMSG_LEN, type NlMsg, NLMSG_ERROR, parseMessages, parseNlas, readI32, readU32 } from '../../src/host/netlink/wire.js';

const { EEXIST, EBUSY, ENODEV, EINVAL } = constants.errno;

/** Answers each request from `answer` (errno and ext-ack by the request's
 * IFLA_IFNAME), and records what was called, in order. */
class ScriptedChannel implements RtnlChannel {
  readonly calls: string[] = [];
  readonly indexes = new Map<string, number>([['up0', 2], ['br0', 3]]);
  private next = 10;

  constructor(private readonly answer: (name: string | undefined, type: number) => { errno: number; extAck?: string } = () => ({ errno: 0 }), private readonly tapErrno = new Map<string, number>()) {}

  async request(messages: readonly Uint8Array[]): Promise<NlMsg[][]> {
    this.calls.push(`request ${messages.length}`);
    return messages.map((m) => {
      const [msg] = parseMessages(m);
      const name = parseNlas(msg!.payload.subarray(IFINFOMSG_LEN)).get(3)?.toString().replace(/\0$/u, '');
      const { errno, extAck } = this.answer(name, msg!.type);
      // The model learns a device the kernel just made, before the reply.
      if (errno === 0 && name !== undefined && msg!.type === 16 && (msg!.flags & 0x400)) this.indexes.set(name, this.next++);
      return [ack(errno, extAck)];
    });
  }

  async createTap(name: string): Promise<number> {
    this.calls.push(`tap ${name}`);
    const errno = this.tapErrno.get(name) ?? 0;
    if (errno === 0) this.indexes.set(name, this.next++);
    return errno;
  }
}

function ack(errno: number, extAck?: string): NlMsg {
  const tlv = extAck === undefined ? Buffer.alloc(0) : (() => {
    const text = Buffer.from(`${extAck}\0`);
    const b = Buffer.alloc((4 + text.length + 3) & ~3);
    b.writeUInt16LE(4 + text.length, 0);
    b.writeUInt16LE(1, 2);
    text.copy(b, 4);
    return b;
  })();
  const payload = Buffer.alloc(4 + 16);
  payload.writeInt32LE(-errno, 0);
  payload.writeUInt32LE(16, 4);
  return { type: NLMSG_ERROR, flags: extAck === undefined ? 0 : 0x100 | 0x200, seq: 1, pid: 0, payload: Buffer.concat([payload, tlv]) };
}

const runnerOn = (channel: ScriptedChannel) => new NetlinkLinkRunner(channel, (name) => channel.indexes.get(name));
const failures = async (runner: NetlinkLinkRunner, lines: string[]) =>
  (await runner.batch(lines)).map((e) => ({ n: e.lineNumber, reason: e.reason, retryable: e.retryable, code: e.code }));

describe('NetlinkLinkRunner', () => {
  it('is a LinkBatchRunner', () => {
    const runner: LinkBatchRunner = runnerOn(new ScriptedChannel());
    expect(typeof runner.noQueue).toBe('function');
  });

  it("runs the actuator's set-up stage as one pipelined request (no process, one round trip)", async () => {
    const channel = new ScriptedChannel();
    const lines = Array.from({ length: 50 }, (_, i) => `link set dev tap${i} group 4242 alias vifd:p${i} master br0 up`);
    expect(await failures(runnerOn(channel), lines)).toEqual([]);
    expect(channel.calls).toEqual(['request 50']);
  });

  it('waits only where a line needs the ifindex of something still in the pipe', async () => {
    const channel = new ScriptedChannel();
    await runnerOn(channel).batch([
      'link add name br1 group 4242 type bridge forward_delay 0 stp_state 0',
      'link set dev br1 alias vifd:br1 addrgenmode none up', // by name: no wait
      'link set dev x0 master br0 up', // br0 is settled: no wait
      'link set dev x1 master br1 up', // br1 is being created: wait
      'link set dev x2 master br1 up',
      'link set dev x3 group 4243',
      'link del group 4243',
      'link set dev x4 master br0', // the group delete may have removed br0: wait
      'link add link up0 name mvt1 address 02:00:00:00:00:01 group 4242 type macvtap mode vepa',
    ]);
    expect(channel.calls).toEqual(['request 3', 'request 4', 'request 2']);
  });

  it('runs a tap alone, after what came before it and before what follows', async () => {
    const channel = new ScriptedChannel();
    await runnerOn(channel).batch(['link set dev a up', 'tuntap add dev t1 mode tap', 'tuntap add dev t2 mode tap', 'link set dev t1 up', 'link set dev t2 up']);
    expect(channel.calls).toEqual(['request 1', 'tap t1', 'tap t2', 'request 2']);
  });

  it("reports failed lines by number with ip's words; the rest run", async () => {
    const channel = new ScriptedChannel((name) => ({
      br0: { errno: EEXIST }, gone: { errno: ENODEV }, big: { errno: EINVAL, extAck: 'mtu greater than device maximum' },
    })[name ?? ''] ?? (name === undefined ? { errno: ENODEV } : { errno: 0 }), new Map([['br0', EBUSY]]));
    expect(await failures(runnerOn(channel), [
      'link add name br0 group 4242 type bridge forward_delay 0 stp_state 0',
      'tuntap add dev br0 mode tap',
      'link set dev gone up',
      'link set dev big mtu 70000',
      'link set dev t1 master nobr up',
      'link add link nolower name m1 address 02:00:00:00:00:01 group 1 type macvtap mode vepa',
      'link set dev t1 promisc on',
      'link del group 4243',
      'link set dev ok up',
    ])).toEqual([
      { n: 1, reason: 'RTNETLINK answers: File exists', retryable: true, code: 'LINK_ACTION_FAILED' },
      { n: 2, reason: 'ioctl(TUNSETIFF): Device or resource busy', retryable: true, code: 'LINK_ACTION_FAILED' },
      { n: 3, reason: 'Cannot find device "gone"', retryable: true, code: 'LINK_ACTION_FAILED' },
      { n: 4, reason: 'Error: mtu greater than device maximum.', retryable: true, code: 'LINK_ACTION_FAILED' },
      { n: 5, reason: 'Error: argument "nobr" is wrong: Device does not exist', retryable: false, code: 'LINK_ACTION_REJECTED' },
      { n: 6, reason: 'Cannot find device "nolower"', retryable: true, code: 'LINK_ACTION_FAILED' },
      { n: 7, reason: expect.stringMatching(/^Error: argument "promisc" is wrong: .*NETLINK_LINE_UNSUPPORTED/u), retryable: false, code: 'LINK_ACTION_REJECTED' },
      { n: 8, reason: 'RTNETLINK answers: No such device', retryable: true, code: 'LINK_ACTION_FAILED' },
    ]);
  });

  it('an empty batch asks nothing', async () => {
    const channel = new ScriptedChannel();
    expect(await runnerOn(channel).batch([])).toEqual([]);
    expect(await runnerOn(channel).noQueue([])).toBe(0);
    expect(channel.calls).toEqual([]);
  });

  it('noqueue: one request for all known devices; 1 when any failed or is no device', async () => {
    const seen: number[] = [];
    const channel = new ScriptedChannel();
    channel.request = async (messages) => messages.map((m) => {
      const [msg] = parseMessages(m);
      seen.push(readI32(msg!.payload, 4), readU32(msg!.payload, 12));
      return [ack(0)];
    });
    channel.indexes.set('tap1', 21).set('tap2', 22);
    expect(await runnerOn(channel).noQueue(['tap1', 'tap2'])).toBe(0);
    expect(seen).toEqual([21, 0xffffffff, 22, 0xffffffff]);
    expect(await runnerOn(channel).noQueue(['tap1', 'nosuch'])).toBe(1);
  });

  it('noqueue asks the kernel for a device the resolver does not know yet (a tap the model has not seen)', async () => {
    const channel = new ScriptedChannel();
    const asked: string[] = [];
    channel.request = async (messages) => messages.map((m) => {
      const [msg] = parseMessages(m);
      if (msg!.type === 18) {
        const name = parseNlas(msg!.payload.subarray(IFINFOMSG_LEN)).get(3)!.toString().replace(/\0$/u, '');
        asked.push(name);
        if (name !== 'tap9') return [ack(ENODEV)];
        const link = Buffer.alloc(16);
        link.writeInt32LE(99, 4);
        return [{ type: 16, flags: 0, seq: 1, pid: 0, payload: link }, ack(0)];
      }
      asked.push(`qdisc ${readI32(msg!.payload, 4)}`);
      return [ack(0)];
    });
    expect(await runnerOn(channel).noQueue(['br0', 'tap9'])).toBe(0);
    expect(asked).toEqual(['tap9', 'qdisc 3', 'qdisc 99']);
    asked.length = 0;
    expect(await runnerOn(channel).noQueue(['gone'])).toBe(1);
    expect(asked).toEqual(['gone']);
  });

  it('a reply without its ack is the channel breaking its contract', async () => {
    const channel = new ScriptedChannel();
    channel.request = async (messages) => messages.map(() => []);
    await expect(runnerOn(channel).batch(['link set dev a up'])).rejects.toBeInstanceOf(NetlinkReplyError);
  });
});
