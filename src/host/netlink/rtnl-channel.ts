import type { NlMsg } from './wire.js';
export interface RtnlChannel {
  /** Sends complete netlink requests (the channel sets nlmsg_seq, nlmsg_pid 0 and adds NLM_F_ACK); resolves, per request in the order given, with every reply message carrying its seq (the terminating NLMSG_ERROR ack/error last; NLMSG_DONE last for dumps). Requests are pipelined on one socket, so the kernel runs them in the order given. Every notification the kernel queued before a reply has been applied to the link model before that reply resolves. Rejects only if the channel itself fails (helper died). */
  request(messages: readonly Uint8Array[]): Promise<NlMsg[][]>;
  /** Creates a persistent tap in the channel's namespace as `ip tuntap add dev NAME mode tap [multi_queue] [user U] [group G]` does, but failing if the name exists (IFF_TUN_EXCL). Resolves with 0 or a positive errno. */
  createTap(name: string, options: { multiQueue?: boolean; user?: number; group?: number }): Promise<number>;
}
