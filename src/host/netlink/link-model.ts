// The links of the managed namespace, kept current by kernel notifications
// instead of dumped per round (an informer): one dump at start, then every
// RTM_NEWLINK/RTM_DELLINK applied in socket order. A round asks for sync()
// (a barrier: once answered, every notification queued before it is in) and
// takes an immutable snapshot; observing costs no process and O(changes).
//
// Correctness rests on one socket: dump chunks are generated when read, so a
// dump and the notifications around it, applied in stream order, describe
// the namespace at the moment of the last message. A dump is applied to a
// fresh table that also receives the notifications arriving meanwhile, and
// replaces the model when done. When notifications were lost (socket
// overrun, helper restart) the model re-dumps at once, and the names that
// differ are reported as changes, so a device lost in the gap is repaired.
// The periodic resync re-dumps too, and any difference found then is a bug
// (counted, logged at error, and the dump wins).
//
// What events miss: the kernel notifies alias, group and tun changes
// (TUNSETPERSIST, queues attached) only for devices that are up
// (netdev_state_change), and a new tap is announced before its creator made
// it persistent. So every tun device that appears, and every device vifd's
// own actions touched, is read again (one RTM_GETLINK each) at the next
// sync; such changes made by others to devices that are down are seen at
// the periodic resync (as they were not seen by `ip monitor` either), and
// are not counted as drift there.
//
// Snapshots cost O(1) whatever N: the by-name map and its index (by master,
// peer or lower device, alias, group) are versioned maps (lib/versioned-map.ts)
// whose snapshots stay as they were while the model moves on, and
// ObservedLinks are never mutated, so a round's `before` is still `before`
// after its own batch.
import type { Logger } from 'pino';
import { VifdError } from '../../errors/vifd-error.js';
import type { LinkSnapshot, ObservedLink } from '../../observed/links.js';
import { count } from '../host-counters.js';
import { parseLinkMessage, type LinkMessage } from './link-message.js';
import { differingNames, LinkTable, sameLink } from './link-table.js';
import type { HelperRtnlChannel } from './rtnl-channel.js';
import { encodeHeaderOnly, encodeLinkMessage, nlaString, nlaU32, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_REQUEST, NLMSG_DONE, NLMSG_NOOP, parseError, RTM_GETLINK, type NlMsg } from './wire.js';

const IFLA_IFNAME = 3;
const IFLA_EXT_MASK = 29;
const RTEXT_FILTER_SKIP_STATS = 1 << 3;
/** Dumps in a row that may be interrupted (NLM_F_DUMP_INTR) or lose events before one is accepted as is. */
const MAX_DUMP_ATTEMPTS = 5;
const MAX_DRIFT_NAMES_LOGGED = 50;
const RETRY_DUMP_MS = 1000;
const DUMP_TIMEOUT_MS = 5_000;
const DUMP_QUEUED_TIMEOUT_MS = 60_000;
/** What the kernel changes without a notification, so a dump may find it
 * newer than the model without any bug: a tap's tun info (TUNSETPERSIST,
 * queues attached or detached while the carrier stays as it was) always,
 * alias and group on a device that is down (netdev_state_change). */
const SILENT_FIELDS: ReadonlySet<string> = new Set(['persistent', 'tunQueues']);
const SILENT_WHEN_DOWN: ReadonlySet<string> = new Set(['persistent', 'tunQueues', 'alias', 'group']);

export class LinkModel {
  private table = new LinkTable();
  /** The dump being received, fed the notifications that arrive meanwhile. */
  private building: LinkTable | undefined;
  private dumping: Promise<void> | undefined;
  private dumpNeeded = true;
  private lostDuringDump = false;
  private primed = false;
  private cached: LinkSnapshot | undefined;
  /** New tun devices (by ifindex) and devices vifd changed (by name), to read again at the next sync. */
  private readonly rereadIndexes = new Set<number>();
  private readonly rereadNames = new Set<string>();
  private pending = new Set<string>();
  private flush: NodeJS.Immediate | undefined;

  constructor(
    private readonly channel: HelperRtnlChannel,
    private readonly logger: Logger,
    /** Names whose ObservedLink changed, batched per tick. */
    private readonly onChange: (names: string[]) => void,
  ) {}

  /** Called by the channel for each notification datagram, in socket order. */
  notified(messages: readonly NlMsg[]): void {
    for (const msg of messages) {
      const link = parseLinkMessage(msg);
      if (!link) continue;
      if (link.op === 'new' && (link.record.kind === 'tap' || link.record.kind === 'tun') && !this.table.has(link.record.ifindex)) this.rereadIndexes.add(link.record.ifindex);
      this.apply(link);
    }
    this.changed(this.table.drainChanges());
  }

  private apply(link: LinkMessage): void {
    this.table.apply(link);
    this.building?.apply(link);
  }

  /** Called by the channel when messages were lost: re-dump now (a dump
   * under way is redone; that is logged with the dump, not per loss). */
  lost(reason: 'overrun' | 'helper restarted'): void {
    this.dumpNeeded = true;
    if (this.dumping) {
      this.lostDuringDump = true;
      return;
    }
    count('linkEventsLost');
    this.logger.warn({ reason }, 'link events lost; re-dumping');
    void this.dump(false).catch((error: unknown) => this.logger.warn({ err: error }, 'link re-dump failed; the next round retries'));
  }

  /** Resolves when every notification queued before the call is in the model
   * (re-dumping first if events were lost, and reading again the devices
   * that the notifications up to the barrier asked for). Rejects if the
   * channel is down. */
  async sync(): Promise<void> {
    for (let attempt = 1; attempt <= MAX_DUMP_ATTEMPTS; attempt++) {
      if (this.dumpNeeded || this.dumping) await this.dump(false);
      const requests = [...[...this.rereadIndexes].map(getLinkByIndex), ...[...this.rereadNames].map(getLinkByName)];
      this.rereadIndexes.clear();
      this.rereadNames.clear();
      // Replies are current state, applied in stream order like notifications.
      await this.channel.request([...requests, encodeHeaderOnly(NLMSG_NOOP, NLM_F_REQUEST, 0)], (msg) => {
        const link = parseLinkMessage(msg);
        if (link) this.apply(link);
      });
      this.changed(this.table.drainChanges());
      if (!this.dumpNeeded && this.rereadIndexes.size === 0 && this.rereadNames.size === 0) {
        // The changes up to the barrier are told now, before the caller's
        // snapshot: a round recognises its own batch's echoes by that order.
        this.deliver();
        return;
      }
    }
  }

  linkNow(name: string): ObservedLink | undefined {
    return this.table.links.get(name);
  }

  /** The ifindex a name has now (what the netlink link actuator resolves masters and lower devices with). */
  ifindexOf(name: string): number | undefined {
    return this.table.links.get(name)?.ifindex;
  }

  /** Devices to read again at the next sync: changes that the kernel notifies
   * only for devices that are up (alias, group, TUNSETPERSIST: see
   * netdev_state_change) are invisible otherwise. The host calls this with
   * the devices its own actions touched. */
  reread(names: Iterable<string>): void {
    for (const name of names) this.rereadNames.add(name);
  }

  /** A full re-dump compared with the model (the periodic resync). */
  async resync(): Promise<void> {
    await this.dump(true);
    await this.sync();
  }

  snapshot(): LinkSnapshot {
    this.cached ??= this.table.snapshot();
    return this.cached;
  }

  private async dump(check: boolean): Promise<void> {
    while (this.dumping) await this.dumping.catch(() => undefined);
    if (!check && !this.dumpNeeded) return;
    this.dumping = this.dumpOnce(check);
    try {
      await this.dumping;
    } finally {
      this.dumping = undefined;
    }
  }

  private async dumpOnce(check: boolean): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const fresh = new LinkTable();
      let interrupted = false;
      this.building = fresh;
      this.lostDuringDump = false;
      this.dumpNeeded = false;
      // A kernel dump can stall on an overrun socket; a restart unsticks it.
      // The patience runs from when the dump is sent, not queued: it waits
      // for every request in flight first (a cold start's thousands, whose
      // acks an overrun may have lost), and the helper was restarted while
      // it was only waiting its turn.
      // (Still a bound on the wait in line, should the requests ahead never end.)
      let watchdog: NodeJS.Timeout | undefined = setTimeout(() => this.channel.restart('link dump not sent: requests ahead of it unanswered'), DUMP_QUEUED_TIMEOUT_MS).unref();
      const sent = () => {
        clearTimeout(watchdog);
        watchdog = setTimeout(() => this.channel.restart('link dump unanswered'), DUMP_TIMEOUT_MS).unref();
      };
      let replies: NlMsg[];
      try {
        [replies] = (await this.channel.request([dumpRequest()], (msg) => {
          if (msg.flags & NLM_F_DUMP_INTR) interrupted = true;
          const link = parseLinkMessage(msg);
          if (link) fresh.apply(link);
        }, sent)) as [NlMsg[]];
      } catch (error) {
        this.dumpNeeded = true;
        throw error;
      } finally {
        clearTimeout(watchdog);
        this.building = undefined;
      }
      // Ended by an error (EBUSY, ENOBUFS, or one answered as lost), not NLMSG_DONE: no dump at all.
      if (replies.at(-1)?.type !== NLMSG_DONE) {
        this.dumpNeeded = true;
        this.logger.debug({ attempt, error: replies.at(-1) ? parseError(replies.at(-1)!).errno : undefined }, 'link dump failed');
        if (attempt >= MAX_DUMP_ATTEMPTS) throw new VifdError('LINK_DUMP_FAILED', `the kernel refused ${attempt} link dumps in a row`);
        await new Promise((resolve) => setTimeout(resolve, RETRY_DUMP_MS / 10));
        continue;
      }
      const incomplete = interrupted || this.lostDuringDump;
      if (incomplete && attempt < MAX_DUMP_ATTEMPTS) {
        this.logger.debug({ interrupted, lost: this.lostDuringDump, attempt }, 'link dump incomplete; dumping again');
        continue;
      }
      this.replaceWith(fresh, check && !incomplete);
      if (incomplete) {
        // Accepted for now; a storm of events is still on. No round may come
        // to ask (a lost deletion sends no event), so the model asks itself.
        this.dumpNeeded = true;
        setTimeout(() => void this.dump(false).catch(() => undefined), RETRY_DUMP_MS).unref();
      }
      return;
    }
  }

  private replaceWith(fresh: LinkTable, check: boolean): void {
    fresh.drainChanges();
    const differing = differingNames(this.table.links, fresh.links);
    if (!this.primed) {
      // The first dump: nothing was handed out yet, so nothing "changed".
      this.primed = true;
      this.table = fresh;
      this.cached = undefined;
      return;
    }
    if (differing.length === 0) return;
    const drifted = check ? differing.filter((name) => !silentlyChanged(this.table.links.get(name), fresh.links.get(name))) : [];
    if (drifted.length > 0) {
      count('linkModelDrift');
      this.logger.error({ names: drifted.slice(0, MAX_DRIFT_NAMES_LOGGED), count: drifted.length }, 'link model differs from a full dump (a bug: an event was misapplied or missed); the dump wins');
    }
    this.table = fresh;
    this.changed(new Set(differing));
  }

  private changed(names: ReadonlySet<string>): void {
    if (names.size === 0) return;
    this.cached = undefined;
    for (const name of names) this.pending.add(name);
    this.flush ??= setImmediate(() => this.deliver());
  }

  private deliver(): void {
    if (this.flush) clearImmediate(this.flush);
    this.flush = undefined;
    if (this.pending.size === 0) return;
    const batch = [...this.pending];
    this.pending = new Set();
    this.onChange(batch);
  }
}

function silentlyChanged(model: ObservedLink | undefined, dumped: ObservedLink | undefined): boolean {
  if (!model || !dumped) return false;
  return sameLink(model, dumped, !model.up && !dumped.up ? SILENT_WHEN_DOWN : SILENT_FIELDS);
}

/** RTM_GETLINK dump of every link, without statistics (vifd reads none). */
function dumpRequest(): Buffer {
  return encodeLinkMessage(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 0, { index: 0 }, [nlaU32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS)]);
}

/** RTM_GETLINK of one device (a gone one answers ENODEV, ignored). */
function getLinkByIndex(ifindex: number): Buffer {
  return encodeLinkMessage(RTM_GETLINK, NLM_F_REQUEST, 0, { index: ifindex }, [nlaU32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS)]);
}

function getLinkByName(name: string): Buffer {
  return encodeLinkMessage(RTM_GETLINK, NLM_F_REQUEST, 0, { index: 0 }, [nlaString(IFLA_IFNAME, name), nlaU32(IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS)]);
}
