// Writes each binding's status to /vifd/v1/hosts/<host>/status/<port>, and an
// `alive` key, all attached to one lease kept alive: when vifd dies the lease
// expires and the controller sees the host and its statuses go. Changes are
// coalesced per port (only the latest is sent) and written in transactions at
// most every `flushMs`; while etcd is unreachable they wait, and a lost lease
// is replaced and everything rewritten.
import type { Logger } from 'pino';
import type { BindingStatus } from '../../model/status.js';
import { Backoff, sleep } from './backoff.js';
import type { EtcdClient, TxnOp } from './client.js';
import { EtcdRequestError, isEtcdConfigError } from './errors.js';
import { aliveKey, statusKey } from './keys.js';

export interface StatusPublisherOptions {
  client: EtcdClient;
  hostname: string;
  leaseSeconds: number;
  logger: Logger;
  flushMs?: number;
  maxOpsPerTxn?: number;
  /** Extra fields of the alive value (version, netns...). */
  aliveInfo?: Record<string, unknown>;
}

/** What a controller reads: phase, message and the libvirt XML, and a little more. */
export function statusValue(status: BindingStatus): string {
  const { port, phase, message, attempts, lastTransitionTime, source, type, libvirt } = status;
  return JSON.stringify({ port, phase, message, attempts, lastTransitionTime, source, type, libvirt });
}

export class StatusPublisher {
  /** port → value in etcd (as far as we know). */
  private readonly published = new Map<string, string>();
  /** port → value to write, or null to delete. */
  private readonly dirty = new Map<string, string | null>();
  private lease: string | undefined;
  private readonly abort = new AbortController();
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private keepAliveTimer: NodeJS.Timeout | undefined;
  writes = 0;

  constructor(private readonly o: StatusPublisherOptions) {}

  start(): void {
    this.loop = this.run();
    const every = Math.max(500, (this.o.leaseSeconds * 1000) / 3);
    this.keepAliveTimer = setInterval(() => void this.keepAlive(), every);
    this.keepAliveTimer.unref();
  }

  /** The binding's status changed (undefined: it is gone). */
  update(port: string, status: BindingStatus | undefined): void {
    const value = status ? statusValue(status) : null;
    if (value === (this.published.get(port) ?? null) && !this.dirty.has(port)) return;
    this.dirty.set(port, value);
    this.wake?.();
  }

  async stop(timeoutMs = 2000): Promise<void> {
    if (this.keepAliveTimer) clearInterval(this.keepAliveTimer);
    const drained = sleep(timeoutMs);
    this.stopping = true;
    this.wake?.();
    await Promise.race([this.loop, drained]);
    this.abort.abort();
    this.wake?.();
    await this.loop;
  }

  private stopping = false;
  private lastConfigError: string | undefined;

  private async keepAlive(): Promise<void> {
    const lease = this.lease;
    if (!lease) return;
    try {
      const ttl = await this.o.client.leaseKeepAlive(lease);
      if (ttl <= 0 && this.lease === lease) {
        this.o.logger.warn({ lease }, 'etcd lease expired: granting a new one and rewriting every status');
        this.lease = undefined;
        this.wake?.();
      }
    } catch (error) {
      this.o.logger.debug({ err: error }, 'etcd lease keepalive failed');
    }
  }

  private async run(): Promise<void> {
    const backoff = new Backoff(200, 5000);
    const flushMs = this.o.flushMs ?? 200;
    while (!this.abort.signal.aborted) {
      if (this.lease !== undefined && this.dirty.size === 0) {
        if (this.stopping) return;
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = undefined;
        continue;
      }
      try {
        if (this.lease === undefined) await this.grant();
        await this.flush();
        backoff.reset();
        this.lastConfigError = undefined;
        if (!this.stopping) await sleep(flushMs, this.abort.signal); // rate limit: changes meanwhile coalesce
      } catch (error) {
        if (this.stopping) return;
        if (error instanceof EtcdRequestError && /lease not found/iu.test(error.body)) this.lease = undefined;
        const delay = backoff.next();
        if (isEtcdConfigError(error)) {
          // Misconfigured (permission, credentials, certificate): say so once per distinct reason.
          if (error.message !== this.lastConfigError) this.o.logger.error({ err: error, code: error.code }, `writing status to etcd refused: ${error.message}`);
          this.lastConfigError = error.message;
        } else {
          this.o.logger.debug({ err: error, retryInMs: delay }, 'writing status to etcd failed');
        }
        await sleep(delay, this.abort.signal);
      }
    }
  }

  private async grant(): Promise<void> {
    const { id } = await this.o.client.leaseGrant(this.o.leaseSeconds);
    const alive = JSON.stringify({ hostname: this.o.hostname, pid: process.pid, since: new Date().toISOString(), leaseSeconds: this.o.leaseSeconds, ...this.o.aliveInfo });
    await this.o.client.put(aliveKey(this.o.hostname), alive, id);
    // Statuses attached to an older lease are gone or going: write them all again.
    for (const [port, value] of this.published) if (!this.dirty.has(port)) this.dirty.set(port, value);
    this.published.clear();
    this.lease = id;
    this.o.logger.info({ lease: id, ttl: this.o.leaseSeconds, host: this.o.hostname }, 'etcd lease granted; host marked alive');
  }

  private async flush(): Promise<void> {
    const max = this.o.maxOpsPerTxn ?? 100;
    while (this.dirty.size > 0 && this.lease !== undefined) {
      const batch = [...this.dirty].slice(0, max);
      const lease = this.lease;
      const ops: TxnOp[] = batch.map(([port, value]) =>
        value === null ? { delete: { key: statusKey(this.o.hostname, port) } } : { put: { key: statusKey(this.o.hostname, port), value, lease } },
      );
      await this.o.client.txn(ops);
      this.writes++;
      for (const [port, value] of batch) {
        if (this.dirty.get(port) === value) this.dirty.delete(port);
        if (value === null) this.published.delete(port);
        else this.published.set(port, value);
      }
    }
  }
}
