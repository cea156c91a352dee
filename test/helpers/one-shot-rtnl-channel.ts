// A test-only RtnlChannel over the one-shot native helper (one vifd-netlink
// process per request() call, requests sent in order on its one socket) and
// `ip tuntap add` for taps. It keeps the interface's promises the simple way:
// calls run one at a time, in the order made, and each request() ends with a
// link dump whose names and ifindexes the resolver answers from before the
// call resolves (what the real channel's link model does with notifications).
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { join } from 'node:path';
import { strerror } from '../../src/host/netlink/errno.js';
import type { IfIndexResolver } from '../../src/host/netlink/link-requests.js';
import type { RtnlChannel } from '../../src/host/netlink/rtnl-channel.js';
import { sendNetlink } from '../../src/host/portprofile/netlink-helper.js';
import {
  encodeIfInfoMsg, encodeMessage, IFINFOMSG_LEN, type NlMsg, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, parseNlas, readI32, RTM_GETLINK, RTM_NEWLINK,
} from '../../src/host/netlink/wire.js';
import { repoRoot } from './repo-root.js';

const IFLA_IFNAME = 3;
const ERRNO_OF_TEXT = new Map(Object.values(constants.errno).map((n) => [strerror(n), n]));

export class OneShotRtnlChannel implements RtnlChannel {
  private seq = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private indexes = new Map<string, number>();
  /** Processes spawned (helpers and ip tuntap), for the measurements. */
  spawns = 0;

  private constructor(private readonly netns: string, private readonly helperPath: string) {}

  static async open(netns: string): Promise<OneShotRtnlChannel> {
    const channel = new OneShotRtnlChannel(netns, join(repoRoot(), 'native', 'build', 'vifd-netlink'));
    await channel.request([]);
    return channel;
  }

  readonly resolve: IfIndexResolver = (name) => this.indexes.get(name);

  request(messages: readonly Uint8Array[]): Promise<NlMsg[][]> {
    return this.serially(async () => {
      const seqs = messages.map(() => ++this.seq);
      const dumpSeq = ++this.seq;
      const out = messages.map((m, k) => {
        const copy = Buffer.from(m);
        copy.writeUInt16LE(copy.readUInt16LE(6) | NLM_F_ACK, 6);
        copy.writeUInt32LE(seqs[k]!, 8);
        copy.writeUInt32LE(0, 12);
        return copy;
      });
      const dump = encodeMessage(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, dumpSeq, encodeIfInfoMsg({ index: 0 }), []);
      this.spawns++;
      const replies = await sendNetlink(Buffer.concat([...out, dump]), { uplink: '(test channel)', netns: this.netns, helperPath: this.helperPath });
      const bySeq = new Map<number, NlMsg[]>();
      for (const r of replies) bySeq.set(r.seq, [...(bySeq.get(r.seq) ?? []), r]);
      this.indexes = new Map((bySeq.get(dumpSeq) ?? []).filter((r) => r.type === RTM_NEWLINK).map((r) => [linkName(r), readI32(r.payload, 4)] as const));
      return seqs.map((s) => bySeq.get(s) ?? []);
    });
  }

  /** One `ip -j -batch`: the tap, then its ifindex for the resolver (one spawn). */
  createTap(name: string, options: { multiQueue?: boolean; user?: number; group?: number }): Promise<number> {
    const words = ['tuntap', 'add', 'dev', name, 'mode', 'tap'];
    if (options.multiQueue) words.push('multi_queue');
    if (options.user !== undefined) words.push('user', String(options.user));
    if (options.group !== undefined) words.push('group', String(options.group));
    return this.serially(async () => {
      this.spawns++;
      const result = await runWithInput('ip', ['-n', this.netns, '-j', '-batch', '-'], `${words.join(' ')}\nlink show dev ${name}\n`);
      if (result.code !== 0) {
        const text = /^ioctl\(\w+\): (.+)$/mu.exec(result.stderr)?.[1] ?? '';
        return ERRNO_OF_TEXT.get(text) ?? constants.errno.EIO;
      }
      const [link] = JSON.parse(result.stdout) as { ifindex: number }[];
      this.indexes.set(name, link!.ifindex);
      return 0;
    });
  }

  private serially<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work);
    this.queue = next.catch(() => undefined);
    return next;
  }
}

function linkName(r: NlMsg): string {
  return parseNlas(r.payload.subarray(IFINFOMSG_LEN)).get(IFLA_IFNAME)!.toString('utf8').replace(/\0.*$/su, '');
}

function runWithInput(file: string, args: string[], input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}
