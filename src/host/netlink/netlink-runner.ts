// Runs the actuator's `ip -batch` lines over one rtnetlink channel instead of
// spawning `ip -force -batch -` (and `tc -batch` for noqueue): no process per
// round. Same contract as ip -force: every line runs, in order, a failed line
// is reported by its 1-based number with the words ip prints, the rest go on.
//
// Requests are pipelined: lines go to the channel together, and the kernel
// runs one socket's requests in order, so the order is ip's. A line stops the
// pipeline only when it needs an ifindex (a master, a lower device) that a
// line still in the pipe may change: one creating that name, or a group
// delete (which removes names no line spells out). It waits for those
// replies, by which time the link model behind the resolver knows (the
// channel's guarantee). A tap is created by ioctl, outside the socket's
// order, so the pipe drains before it and the lines after it wait for it;
// taps in a row are sent together and waited for together.
import { constants } from 'node:os';
import { LinkActionError } from '../../errors/host-errors.js';
import { VifdError } from '../../errors/vifd-error.js';
import type { LinkBatchRunner } from '../links/link-actuator.js';
import { cannotFindDevice, invalidArgument, masterMissing, rtnetlinkMessage, tuntapMessage } from './errno.js';
import { type LinkCommand, linkCreations, LinkLineError, linkReferences, parseLinkLine } from './link-lines.js';
import { encodeLinkCommand, getLinkRequest, type IfIndexResolver } from './link-requests.js';
import { noQueueRequest } from './qdisc-request.js';
import type { RtnlChannel } from './rtnl-channel.js';
import { type NlError, type NlMsg, NLMSG_ERROR, parseError, readI32, RTM_NEWLINK } from './wire.js';

const { EINVAL, ENODEV } = constants.errno;

/** The channel answered a request without its terminating ack or error. */
export class NetlinkReplyError extends VifdError<'NETLINK_NO_ACK'> {
  constructor(line: string) {
    super('NETLINK_NO_ACK', `ip ${line}: the netlink channel returned no ack for the request`, { fields: { line } });
  }
}

interface InFlight {
  index: number;
  cmd: LinkCommand;
  message: Buffer;
  /** The ifindexes its master / lower device had when it was sent. */
  refs: ReadonlyArray<[string, number | undefined]>;
}

export class NetlinkLinkRunner implements LinkBatchRunner {
  constructor(private readonly channel: RtnlChannel, private readonly resolve: IfIndexResolver) {}

  async batch(lines: readonly string[]): Promise<LinkActionError[]> {
    const errors: LinkActionError[] = [];
    const fail = (index: number, message: string) => errors.push(new LinkActionError({ line: lines[index]!, lineNumber: index + 1, message }));
    let pipe: InFlight[] = [];
    // Names whose ifindex a request in the pipe may change; null: any name.
    let unsettled: Set<string> | null = new Set();
    const drain = async () => {
      const sent = pipe;
      pipe = [];
      unsettled = new Set();
      if (sent.length === 0) return;
      const replies = await this.channel.request(sent.map((r) => r.message));
      sent.forEach((r, k) => {
        const error = outcome(replies[k] ?? [], lines[r.index]!);
        if (error.errno === 0) return;
        // A master or lower device deleted after it was resolved (the kernel
        // answers EINVAL for an ifindex that is gone): what ip says when it
        // looks the name up a moment later, and a retry can cure it.
        const gone = error.errno === EINVAL ? r.refs.find(([name, ifindex]) => this.resolve(name) !== ifindex) : undefined;
        fail(r.index, gone ? cannotFindDevice(gone[0]) : failureText(r.cmd, error));
      });
    };
    let taps: Array<{ index: number; errno: Promise<number> }> = [];
    const tapsDone = async () => {
      const sent = taps;
      taps = [];
      const results = await Promise.allSettled(sent.map((t) => t.errno));
      const down = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (down) throw down.reason;
      results.forEach((r, k) => {
        const errno = (r as PromiseFulfilledResult<number>).value;
        if (errno !== 0) fail(sent[k]!.index, tuntapMessage(errno));
      });
    };
    for (const [index, line] of lines.entries()) {
      let cmd: LinkCommand;
      try {
        cmd = parseLinkLine(line);
      } catch (error) {
        if (!(error instanceof LinkLineError)) throw error;
        // Worded as ip's invarg(): a retry cannot cure it (isRetryableIpMessage).
        fail(index, invalidArgument(error.word, `${error.message} (${error.code})`));
        continue;
      }
      if (cmd.op !== 'add-tap') await tapsDone();
      if (linkReferences(cmd).some((name) => unsettled === null || unsettled.has(name)) || cmd.op === 'add-tap') await drain();
      const request = encodeLinkCommand(cmd, this.resolve);
      if (request.kind === 'tap') {
        // Taps in a row go together (the helper creates them in order); the
        // next line that is not one waits for all of them.
        const errno = this.channel.createTap(request.name, request.options);
        errno.catch(() => undefined); // seen by tapsDone; never an unhandled rejection meanwhile
        taps.push({ index, errno });
      } else if (request.kind === 'unresolved') {
        fail(index, request.role === 'master' ? masterMissing(request.name) : cannotFindDevice(request.name));
      } else {
        pipe.push({ index, cmd, message: request.message, refs: linkReferences(cmd).map((name) => [name, this.resolve(name)]) });
        if (cmd.op === 'delete-group') unsettled = null;
        else for (const name of linkCreations(cmd)) unsettled?.add(name);
      }
    }
    await tapsDone();
    await drain();
    return errors.sort((a, b) => a.lineNumber - b.lineNumber);
  }

  /** Root qdisc noqueue on each device, as `tc -force -batch` of `qdisc replace
   * dev D root noqueue` lines: 0 when all took, 1 otherwise (tc's exit code). */
  async noQueue(devices: readonly string[]): Promise<number> {
    if (devices.length === 0) return 0;
    const known = (await this.ifindexes(devices)).flatMap((ifindex, k) => (ifindex === undefined ? [] : [{ device: devices[k]!, ifindex }]));
    const replies = known.length === 0 ? [] : await this.channel.request(known.map((k) => noQueueRequest(k.ifindex)));
    const failed = replies.filter((r, k) => outcome(r, `(tc) qdisc replace dev ${known[k]!.device} root noqueue`).errno !== 0).length;
    return failed === 0 && known.length === devices.length ? 0 : 1;
  }

  /** From the resolver, else from the kernel: a tap is made by ioctl, and the
   * channel promises nothing about when its model learns one. */
  private async ifindexes(devices: readonly string[]): Promise<(number | undefined)[]> {
    const indexes = devices.map((d) => this.resolve(d));
    const unknown = devices.filter((_, k) => indexes[k] === undefined);
    if (unknown.length === 0) return indexes;
    const replies = await this.channel.request(unknown.map(getLinkRequest));
    const asked = new Map(unknown.map((d, k) => [d, replies[k]?.find((m) => m.type === RTM_NEWLINK)]));
    return devices.map((d, k) => indexes[k] ?? (asked.get(d) ? readI32(asked.get(d)!.payload, 4) : undefined));
  }
}

function outcome(replies: readonly NlMsg[], line: string): NlError {
  const last = replies[replies.length - 1];
  if (last?.type !== NLMSG_ERROR) throw new NetlinkReplyError(line);
  return parseError(last);
}

/** ENODEV to a request that names its device means that name is not a device:
 * ip would have found that out itself and printed nodev(). */
function failureText(cmd: LinkCommand, error: NlError): string {
  if (cmd.op === 'set' && error.errno === ENODEV) return cannotFindDevice(cmd.name);
  return rtnetlinkMessage(error);
}
