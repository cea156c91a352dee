// associate/disassociate flow with a fake helper and a fake clock: the
// libvirt timings (poll every 125 ms, give up after 10 s) and error mapping.
import { describe, expect, it } from 'vitest';
import { PortProfileRejectedError, PortProfileTimeoutError, PortProfileUnsupportedError, NetlinkHelperError } from '../../src/host/portprofile/errors.js';
import { encodeLinkMessage, nlaNested, nlaString, type Nla, parseMessages, RTM_GETLINK, RTM_NEWLINK, RTM_SETLINK } from '../../src/host/netlink/wire.js';
import type { HelperResult } from '../../src/host/portprofile/netlink-helper.js';
import { associateQbh, type Clock, disassociateQbh } from '../../src/host/portprofile/qbh.js';

const PORT = { uplink: 'eth9', profileId: 'gold', instanceUuid: 'b1e2c3d4-0000-4000-8000-000000000001', hostUuid: '11111111-2222-4333-8444-555555555555' };

function ack(seq: number, errno = 0): Buffer {
  const b = Buffer.alloc(36);
  b.writeUInt32LE(36, 0); b.writeUInt16LE(2, 4); b.writeUInt32LE(seq, 8);
  b.writeInt32LE(-errno, 16); b.writeUInt32LE(16, 20);
  return b;
}
function newlink(seq: number, response?: number): Buffer {
  const attrs: Nla[] = [nlaString(3, 'eth9')];
  if (response !== undefined) {
    const r = Buffer.alloc(2); r.writeUInt16LE(response);
    attrs.push(nlaNested(25, [{ type: 7, data: r }]));
  }
  return encodeLinkMessage(RTM_NEWLINK, 0, seq, { index: 4 }, attrs);
}

class FakeClock implements Clock {
  t = 0;
  sleeps: number[] = [];
  now() { return this.t; }
  async sleep(ms: number) { this.sleeps.push(ms); this.t += ms; }
}

/** A fake helper: SETLINK answered with `setErrno`, GETLINK with the next response. */
function fakeRunner(setErrno: number, responses: Array<number | undefined>) {
  const seen: Array<{ args: string[]; type: number }> = [];
  const runner = async (_file: string, args: string[], input: Buffer): Promise<HelperResult> => {
    const [req] = parseMessages(input);
    seen.push({ args, type: req!.type });
    if (req!.type === RTM_SETLINK) return { exitCode: 0, stdout: ack(req!.seq, setErrno), stderr: '' };
    if (req!.type === RTM_GETLINK) {
      const r = responses.length > 1 ? responses.shift() : responses[0];
      return { exitCode: 0, stdout: Buffer.concat([newlink(req!.seq, r), ack(req!.seq)]), stderr: '' };
    }
    throw new Error('unexpected request');
  };
  return { runner, seen };
}

describe('associateQbh', () => {
  it('sends SETLINK then polls GETLINK every 125 ms until SUCCESS', async () => {
    const clock = new FakeClock();
    const { runner, seen } = fakeRunner(0, [0x101, 0x101, 0x100]);
    const st = await associateQbh(PORT, { runner, clock, netns: 'ns1', helperPath: '/x/vifd-netlink' });
    expect(st).toMatchObject({ response: 0x100, responseName: 'success' });
    expect(seen.map((s) => s.type)).toEqual([RTM_SETLINK, RTM_GETLINK, RTM_GETLINK, RTM_GETLINK]);
    expect(seen[0]!.args).toEqual(['--netns', 'ns1']);
    expect(clock.sleeps).toEqual([125, 125]);
  });

  it('gives up after 10 s of INPROGRESS (80 polls) with PORT_PROFILE_TIMEOUT', async () => {
    const clock = new FakeClock();
    const { runner, seen } = fakeRunner(0, [0x101]);
    const err = await associateQbh(PORT, { runner, clock }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PortProfileTimeoutError);
    expect(err).toMatchObject({ code: 'PORT_PROFILE_TIMEOUT', lastResponse: 'in-progress', uplink: 'eth9' });
    expect(seen.filter((s) => s.type === RTM_GETLINK)).toHaveLength(80);
    expect(clock.t).toBe(79 * 125);
  });

  it('a failure response is PORT_PROFILE_REJECTED with its name', async () => {
    const { runner } = fakeRunner(0, [0x101, 0x102]);
    await expect(associateQbh(PORT, { runner, clock: new FakeClock() })).rejects.toSatisfy(
      (e: unknown) => e instanceof PortProfileRejectedError && e.response === 0x102 && e.responseName === 'invalid',
    );
  });

  it('EOPNOTSUPP from the kernel is PORT_PROFILE_UNSUPPORTED and nothing is polled', async () => {
    const { runner, seen } = fakeRunner(95, [0x100]);
    const err = await associateQbh(PORT, { runner, clock: new FakeClock() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PortProfileUnsupportedError);
    expect(err).toMatchObject({ code: 'PORT_PROFILE_UNSUPPORTED', errno: 95, uplink: 'eth9' });
    expect(seen).toHaveLength(1);
  });

  it('a helper that fails is NETLINK_HELPER_FAILED with the command and stderr tail', async () => {
    const runner = async (): Promise<HelperResult> => ({ exitCode: 5, stdout: Buffer.alloc(0), stderr: 'vifd-netlink: timed out waiting for the netlink reply: Connection timed out (errno 110)\n' });
    const err = await associateQbh(PORT, { runner, helperPath: '/x/h' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetlinkHelperError);
    expect(err).toMatchObject({ code: 'NETLINK_HELPER_FAILED', exitCode: 5, command: ['/x/h'] });
    expect((err as Error).message).toMatch(/timed out/u);
  });
});

describe('disassociateQbh', () => {
  it('sends PORT_REQUEST_DISASSOCIATE and waits for SUCCESS', async () => {
    let request = -1;
    const base = fakeRunner(0, [0x100]);
    const runner = async (f: string, a: string[], input: Buffer) => {
      const [m] = parseMessages(input);
      if (m!.type === RTM_SETLINK) request = input[input.length - 4]!;
      return base.runner(f, a, input);
    };
    await disassociateQbh(PORT, { runner, clock: new FakeClock() });
    expect(request).toBe(3);
  });
});
