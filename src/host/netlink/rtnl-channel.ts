// One NETLINK_ROUTE socket in the managed namespace, shared by the link model
// (dumps, barriers, link notifications) and the link actuator (requests,
// taps). Node has no netlink sockets, so the socket lives in the stream
// helper (stream-helper.ts); this is the protocol side: sequence numbers,
// matching replies to requests, telling notifications from replies, and
// restarting the helper when it dies.
//
// Ordering. The kernel runs the messages of one socket in the order sent and
// queues their replies, and the notifications they cause, on that socket in
// the same order. Two exceptions are handled here: a dump is answered lazily
// (one chunk per read) and a second dump while one runs fails with EBUSY,
// so a dump is sent alone: after every earlier request finished, and before
// any later one is sent. And an overrun socket drops unicast replies (acks)
// as well as notifications: after an overrun a barrier (NLMSG_NOOP) is sent,
// and a request whose terminating message was overtaken by a later
// request's reply is answered with a synthesized NLMSG_ERROR of ENOBUFS
// (outcome unknown). The same barrier restarts a dump stalled by the
// overrun (the kernel continues a dump only in a successful recv).
import { constants as osConstants } from 'node:os';
import type { Logger } from 'pino';
import { VifdError } from '../../errors/vifd-error.js';
import { backoffDelay } from '../../lib/backoff.js';
import { Fifo } from '../../lib/fifo.js';
import { countNetlinkRequests } from '../run.js';
import { encodeCreateTap, encodeFrame, IN_SEND, OUT_ENOBUFS, OUT_MULTICAST, OUT_READY, OUT_SEND_FAILED, OUT_TAP_RESULT, OUT_UNICAST, type Frame } from './stream-frames.js';
import { StreamHelper } from './stream-helper.js';
import { encodeHeaderOnly, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, parseMessages, peekHeader, readI32, readU32, restamp, syntheticError, type NlMsg } from './wire.js';

export interface RtnlChannel {
  /** Sends complete netlink requests (the channel sets nlmsg_seq, nlmsg_pid 0 and adds NLM_F_ACK); resolves, per request in the order given, with every reply message carrying its seq (the terminating NLMSG_ERROR ack/error last; NLMSG_DONE last for dumps). Requests are pipelined on one socket, so the kernel runs them in the order given. Every notification the kernel queued before a reply has been applied to the link model before that reply resolves. Rejects only if the channel itself fails (helper died). */
  request(messages: readonly Uint8Array[]): Promise<NlMsg[][]>;
  /** Creates a persistent tap in the channel's namespace as `ip tuntap add dev NAME mode tap [multi_queue] [user U] [group G]` does, but failing if the name exists (IFF_TUN_EXCL). Resolves with 0 or a positive errno. */
  createTap(name: string, options: { multiQueue?: boolean; user?: number; group?: number }): Promise<number>;
}

export type RtnlChannelErrorCode = 'RTNL_CHANNEL_DOWN' | 'RTNL_HELPER_EXITED';

export class RtnlChannelError extends VifdError<RtnlChannelErrorCode> {}

const ENOBUFS = osConstants.errno.ENOBUFS;
const RTM_BASE = 16;
/** Helper runs that end before READY, in a row, before the channel gives up. */
const MAX_FAILED_STARTS = 5;
/** A helper that ran this long was healthy: the restart backoff starts over. */
const HEALTHY_MS = 30_000;
const PROBE_RETRY_MS = 200;
const PROBE_SILENT_MS = 1000;

interface Pending {
  seq: number;
  bytes: Buffer;
  dump: boolean;
  replies: NlMsg[];
  observe: ((msg: NlMsg) => void) | undefined;
  /** Called when it leaves for the kernel (it may wait behind others first). */
  onSent?: (() => void) | undefined;
  resolve: (replies: NlMsg[]) => void;
  reject: (error: Error) => void;
}

export interface ChannelHooks {
  /** One notification datagram, in socket order. */
  onNotification: (messages: NlMsg[]) => void;
  /** Messages were lost: the socket overran, or the helper restarted. */
  onLost: (reason: 'overrun' | 'helper restarted') => void;
  /** No helper to run (missing, not executable) or it keeps failing to start. */
  onGiveUp: (error: Error) => void;
}

export interface HelperChannelOptions {
  helperPath: string;
  netns: string | undefined;
  rcvbuf?: number;
  logger: Logger;
}

export class HelperRtnlChannel implements RtnlChannel {
  private helper: StreamHelper | undefined;
  /** A helper process exists (requests queue until it is ready). */
  private running = false;
  /** Its socket is open: requests may be sent. */
  private ready = false;
  private stopped = false;
  private hooks: ChannelHooks | undefined;
  private seq = 0;
  /** Sent, in request order (the order the kernel answers in). */
  private readonly inFlight = new Fifo<Pending>();
  /** A dump is among them: nothing else is sent until it ends. */
  private dumpsInFlight = 0;
  private readonly waiting = new Fifo<Pending>();
  private readonly tapWaiters = new Fifo<{ resolve: (errno: number) => void; reject: (error: Error) => void }>();
  /** The barrier sent after an overrun, until answered; one at a time. */
  private probe: { seq: number; again: boolean; timer: NodeJS.Timeout } | undefined;
  private failedStarts = 0;
  private restarts = 0;
  private runs = 0;
  private startedAt = 0;

  constructor(private readonly o: HelperChannelOptions) {}

  start(hooks: ChannelHooks): void {
    this.hooks = hooks;
    this.spawn();
  }

  stop(): void {
    this.stopped = true;
    this.helper?.stop();
  }

  /** Kills the helper (it is restarted like one that died): the way out of
   * a socket that stopped answering. */
  restart(why: string): void {
    this.o.logger.warn({ why, pid: this.helper?.pid }, 'restarting the netlink stream helper');
    this.helper?.kill();
  }

  /** As RtnlChannel.request; `observe` sees each reply as it arrives, in
   * socket order with the notifications (the link model applies a dump so);
   * `onSent` is called as each message is written to the helper (a dump
   * waits until nothing else is in flight: thousands of requests, after an
   * overrun, can take longer than any fixed patience). */
  request(messages: readonly Uint8Array[], observe?: (msg: NlMsg) => void, onSent?: () => void): Promise<NlMsg[][]> {
    if (!this.running) return Promise.reject(this.downError());
    const all = messages.map((message) => {
      const seq = this.nextSeq();
      const bytes = restamp(message, seq, NLM_F_ACK);
      return new Promise<NlMsg[]>((resolve, reject) => {
        this.waiting.push({ seq, bytes, dump: isDump(bytes), replies: [], observe, onSent, resolve, reject });
      });
    });
    this.pump();
    return Promise.all(all);
  }

  createTap(name: string, options: { multiQueue?: boolean; user?: number; group?: number }): Promise<number> {
    if (!this.running) return Promise.reject(this.downError());
    const frame = encodeCreateTap(name, options);
    return new Promise((resolve, reject) => {
      this.tapWaiters.push({ resolve, reject });
      this.helper!.write(frame);
    });
  }

  private nextSeq(): number {
    this.seq = this.seq >= 0xffff_fff0 ? 1 : this.seq + 1;
    return this.seq;
  }

  /** Sends what may go now: everything up to the next dump, or a dump alone. */
  private pump(): void {
    if (!this.ready || this.dumpsInFlight > 0) return;
    const batch: Pending[] = [];
    while (this.waiting.length > 0) {
      const next = this.waiting.at(0)!;
      if (next.dump && (this.inFlight.length > 0 || batch.length > 0)) break;
      batch.push(this.waiting.shift()!);
      if (next.dump) break;
    }
    if (batch.length === 0) return;
    for (const p of batch) this.sent(p);
    countNetlinkRequests(batch.length);
    this.helper!.write(encodeFrame(IN_SEND, Buffer.concat(batch.map((p) => p.bytes))));
    for (const p of batch) p.onSent?.();
  }

  private sent(p: Pending): void {
    this.inFlight.push(p);
    if (p.dump) this.dumpsInFlight++;
  }

  private spawn(): void {
    this.running = true;
    this.ready = false;
    this.startedAt = Date.now();
    this.runs++;
    const run = this.runs;
    this.helper = new StreamHelper({
      file: this.o.helperPath,
      netns: this.o.netns,
      rcvbuf: this.o.rcvbuf,
      onFrame: (frame) => this.onFrame(frame),
      onExit: (exit) => {
        if (run !== this.runs) return;
        const wasReady = this.ready;
        this.running = false;
        this.ready = false;
        this.failAll(new RtnlChannelError('RTNL_HELPER_EXITED', `the netlink stream helper exited (${exit.signal ?? `code ${exit.code}`})${exit.stderr ? `: ${exit.stderr.trim()}` : ''}`, { fields: { code: exit.code, signal: exit.signal } }));
        if (this.stopped) return;
        if (!wasReady) this.failedStarts++;
        if (exit.notStarted || this.failedStarts >= MAX_FAILED_STARTS) {
          this.hooks?.onGiveUp(exit.notStarted ?? new RtnlChannelError('RTNL_HELPER_EXITED', `the netlink stream helper failed to start ${this.failedStarts} times: ${exit.stderr.trim()}`));
          return;
        }
        if (Date.now() - this.startedAt > HEALTHY_MS) this.restarts = 0;
        const delayMs = backoffDelay(++this.restarts, { baseMs: 100, maxMs: 5000 });
        this.o.logger.warn({ code: exit.code, signal: exit.signal, stderr: exit.stderr.trim() || undefined, delayMs }, 'netlink stream helper exited; restarting');
        setTimeout(() => {
          if (!this.stopped) this.spawn();
        }, delayMs).unref();
      },
    });
  }

  private onFrame(frame: Frame): void {
    switch (frame.type) {
      case OUT_READY:
        this.ready = true;
        this.failedStarts = 0;
        this.o.logger.debug({ pid: this.helper?.pid, rcvbuf: readU32(frame.payload, 0) }, 'netlink stream helper ready');
        if (this.runs > 1) this.hooks?.onLost('helper restarted');
        this.pump();
        return;
      case OUT_MULTICAST:
        this.hooks?.onNotification(parseMessages(frame.payload));
        return;
      case OUT_UNICAST:
        for (const msg of parseMessages(frame.payload)) this.onReply(msg);
        this.pump();
        return;
      case OUT_ENOBUFS:
        this.hooks?.onLost('overrun');
        // Acks may be gone too: a barrier's answer shows which (see onReply).
        // And a dump the kernel could not go on with in the recv that failed
        // waits for the next read: the barrier's answer is one.
        if (this.probe) this.probe.again = true;
        else if (this.inFlight.length > 0) this.sendProbe();
        return;
      case OUT_SEND_FAILED: {
        const seq = readU32(frame.payload, 4);
        if (this.inFlight.findIndex((p) => p.seq === seq) >= 0) this.onReply(syntheticError(seq, readI32(frame.payload, 0)));
        this.pump();
        return;
      }
      case OUT_TAP_RESULT:
        this.tapWaiters.shift()?.resolve(readI32(frame.payload, 0));
        return;
    }
  }

  private onReply(msg: NlMsg): void {
    const at = this.inFlight.findIndex((p) => p.seq === msg.seq);
    if (at < 0) return; // a request already answered as lost
    // Replies come in request order: what is still open before this one lost
    // its end, but for a dump, which is answered lazily and still going.
    // (Almost always `at` is 0: the answer is the oldest request's.)
    if (at > 0) {
      const earlier: Pending[] = [];
      for (let i = 0; i < at; i++) earlier.push(this.inFlight.shift()!);
      const rest = this.inFlight.drain();
      for (const p of earlier) if (p.dump) this.inFlight.push(p);
      for (const p of rest) this.inFlight.push(p);
      for (const lost of earlier) if (!lost.dump) this.finish(lost, syntheticError(lost.seq, ENOBUFS));
    }
    const index = this.inFlight.findIndex((p) => p.seq === msg.seq);
    const pending = this.inFlight.at(index)!;
    if (msg.type === NLMSG_ERROR || msg.type === NLMSG_DONE) {
      if (index === 0) this.inFlight.shift();
      else this.inFlight.removeAt(index);
      if (pending.dump) this.dumpsInFlight--;
      this.finish(pending, msg);
    } else {
      pending.replies.push(pending.dump ? msg : detached(msg));
      pending.observe?.(msg);
    }
  }

  private finish(pending: Pending, last: NlMsg): void {
    pending.replies.push(pending.dump ? last : detached(last));
    pending.observe?.(last);
    pending.resolve(pending.replies);
  }

  /** A barrier after an overrun. Its answer settles what was lost before it;
   * if more was lost meanwhile (its own ack perhaps), another follows. */
  private sendProbe(): void {
    const seq = this.nextSeq();
    const bytes = encodeHeaderOnly(NLMSG_NOOP, NLM_F_REQUEST | NLM_F_ACK, seq);
    const answered = () => {
      if (this.probe?.seq !== seq) return;
      clearTimeout(this.probe.timer);
      const again = this.probe.again;
      this.probe = undefined;
      if (again && this.inFlight.length > 0) this.sendProbe();
    };
    // An ack dropped too leaves no answer at all: try again, at once when
    // another overrun was reported, and after PROBE_SILENT_MS anyway (the
    // kernel reports an overrun once, not each message it then drops, so a
    // probe lost in the same overrun is never announced: the channel hung
    // there until a dump's watchdog killed the helper, seconds into a cold
    // start of thousands of bindings). Checked every PROBE_RETRY_MS.
    const startedAt = Date.now();
    const check = () => {
      if (this.probe?.seq !== seq) return;
      if (this.probe.again || Date.now() - startedAt >= PROBE_SILENT_MS) {
        this.probe = undefined;
        this.sendProbe();
        return;
      }
      this.probe.timer = setTimeout(check, PROBE_RETRY_MS).unref();
    };
    this.probe = { seq, again: false, timer: setTimeout(check, PROBE_RETRY_MS).unref() };
    this.sent({ seq, bytes, dump: false, replies: [], observe: undefined, resolve: answered, reject: answered });
    countNetlinkRequests(1);
    this.helper!.write(encodeFrame(IN_SEND, bytes));
  }

  private failAll(error: Error): void {
    if (this.probe) clearTimeout(this.probe.timer);
    this.probe = undefined;
    const pending = [...this.inFlight.drain(), ...this.waiting.drain()];
    this.dumpsInFlight = 0;
    const taps = this.tapWaiters.drain();
    for (const p of pending) p.reject(error);
    for (const t of taps) t.reject(error);
  }

  private downError(): RtnlChannelError {
    return new RtnlChannelError('RTNL_CHANNEL_DOWN', 'the netlink stream helper is not running', { fields: { netns: this.o.netns } });
  }
}

/** As rtnetlink_rcv_msg decides: a GET (type & 3 == 2) with NLM_F_DUMP bits.
 * (0x100/0x200 mean NLM_F_REPLACE/NLM_F_EXCL on a NEW request, no dump.) */
function isDump(bytes: Uint8Array): boolean {
  const { type, flags } = peekHeader(bytes);
  return type >= RTM_BASE && (type & 3) === 2 && (flags & NLM_F_DUMP) !== 0;
}

/** The message with a payload of its own. A reply is a view into the chunk
 * the helper's pipe delivered (64 KiB, mostly other messages): an ack kept
 * until its batch ends would keep that whole chunk alive, and a batch of
 * thousands of requests kept tens of MB so. (A dump's replies are read
 * together and are most of their chunks: kept as they are.) */
function detached(msg: NlMsg): NlMsg {
  return { ...msg, payload: Buffer.from(msg.payload) };
}
