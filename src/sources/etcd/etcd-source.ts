// Desired bindings from an etcd prefix: list, then watch from revision+1.
// After a disconnect the watch resumes from the last revision seen; when that
// revision was compacted away it lists again and keys that vanished are
// deleted. Unreachable is not deleted: the last known state stays in the
// store (and in <state-dir>/etcd-cache.json and .log across restarts), `stale` is true.
import type { Logger } from 'pino';
import type { DesiredStore } from '../../desired/store.js';
import { Backoff, sleep } from './backoff.js';
import { EtcdCache, type EtcdCacheChange } from './cache.js';
import type { EtcdClient } from './client.js';
import { ETCD_SOURCE_PREFIX, etcdSourceId, parseEtcdValue } from './document.js';
import { EtcdCompactedError, isEtcdConfigError } from './errors.js';
import { WatchSession, type WatchEvent } from './watch.js';

export interface EtcdSourceOptions {
  client: EtcdClient;
  prefix: string;
  store: DesiredStore;
  stateDir: string;
  logger: Logger;
  onChange: (ports: Set<string>) => void;
  /** Called when `stale` flips. */
  onStale?: (stale: boolean) => void;
  maxBackoffMs?: number;
}

export interface EtcdSourceCounters {
  /** Lists after the first one (compaction forced them). Goal: 0. */
  relists: number;
  /** Watches re-established after a break (resumed from the last revision, or after a relist). */
  resumes: number;
  revision: number;
  keys: number;
  /** Failures that mean misconfiguration (certificate, credentials, permission), each logged as an error. */
  configErrors: number;
}

export class EtcdSource {
  private readonly values = new Map<string, string>();
  private revision = 0;
  private listed = false;
  private needList = true;
  private isStale = true;
  private watched = false;
  private session: WatchSession | undefined;
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private readonly cache: EtcdCache;
  private firstList!: () => void;
  private readonly firstListed = new Promise<void>((r) => (this.firstList = r));
  private startFailed: ((error: Error) => void) | undefined;
  readonly counters: EtcdSourceCounters = { relists: 0, resumes: 0, revision: 0, keys: 0, configErrors: 0 };

  constructor(private readonly o: EtcdSourceOptions) {
    this.cache = new EtcdCache(o.stateDir, (error) => o.logger.warn({ err: error }, 'writing etcd cache failed'));
  }

  /** True while the watch is not live (etcd unreachable, or not yet read). */
  get stale(): boolean {
    return this.isStale;
  }

  /** True once a list from etcd itself succeeded in this run. */
  get loaded(): boolean {
    return this.listed;
  }

  /** Loads the cache, starts list+watch, and waits up to `timeoutMs` for the
   * first list. Returns whether it succeeded (else the cache stands in).
   * Rejects when etcd says vifd is misconfigured (certificate refused,
   * wrong password, permission denied): that is not an outage to wait out. */
  async start(timeoutMs: number): Promise<{ listed: boolean; cached: number }> {
    const cached = await this.cache.load(this.o.prefix);
    if (cached) {
      this.applySnapshot(new Map(Object.entries(cached.values)));
      this.revision = cached.revision;
      this.needList = true; // the cache may be old: list again, but it stands in until then
    }
    const failed = new Promise<never>((_, reject) => (this.startFailed = reject));
    this.loop = this.run();
    const timeout = sleep(timeoutMs, this.abort.signal).then(() => false);
    try {
      const listed = await Promise.race([this.firstListed.then(() => true), timeout, failed]);
      return { listed, cached: cached ? Object.keys(cached.values).length : 0 };
    } catch (error) {
      await this.stop();
      throw error;
    } finally {
      this.startFailed = undefined;
    }
  }

  /** Resolves when the first list from etcd succeeded. */
  whenListed(): Promise<void> {
    return this.firstListed;
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.session?.close();
    await this.loop;
    await this.cache.flush(() => this.cacheContent());
  }

  private setStale(stale: boolean): void {
    if (stale === this.isStale) return;
    this.isStale = stale;
    this.o.logger[stale ? 'warn' : 'info']({ revision: this.revision }, stale ? 'etcd unreachable: desired state is stale (last known state kept)' : 'etcd watch live');
    this.o.onStale?.(stale);
  }

  private async run(): Promise<void> {
    const backoff = new Backoff(200, this.o.maxBackoffMs ?? 5000);
    const { logger, client } = this.o;
    while (!this.abort.signal.aborted) {
      try {
        if (this.needList) await this.list();
        const session = new WatchSession(client, this.o.prefix, this.revision + 1, {
          onCreated: () => {
            backoff.reset();
            if (this.watched) this.counters.resumes++;
            this.watched = true;
            this.setStale(false);
          },
          onEvents: (events, revision) => this.applyEvents(events, revision),
          onProgress: (revision) => {
            this.revision = Math.max(this.revision, revision);
          },
        });
        this.session = session;
        await session.run();
      } catch (error) {
        if (this.abort.signal.aborted) break;
        if (error instanceof EtcdCompactedError) {
          logger.warn({ err: error, revision: this.revision }, 'watch revision compacted: listing again');
          this.needList = true;
          continue;
        }
        if (isEtcdConfigError(error)) {
          this.counters.configErrors++;
          if (this.startFailed) {
            this.startFailed(error);
            break;
          }
        }
        this.setStale(true);
        client.failover();
        const delay = backoff.next();
        if (isEtcdConfigError(error)) logger.error({ err: error, code: error.code, retryInMs: delay }, `etcd refused vifd (last known state kept): ${error.message}`);
        else logger.warn({ err: error, retryInMs: delay, endpoint: client.endpoint }, 'etcd watch broken: reconnecting');
        await sleep(delay, this.abort.signal);
      }
    }
  }

  private async list(): Promise<void> {
    const { kvs, revision } = await this.o.client.rangePrefix(this.o.prefix);
    if (this.listed) this.counters.relists++;
    const snapshot = new Map(kvs.map((kv) => [kv.key, kv.value]));
    this.revision = revision;
    this.applySnapshot(snapshot);
    this.needList = false;
    this.o.logger.info({ prefix: this.o.prefix, keys: snapshot.size, revision, relist: this.listed }, 'etcd prefix listed');
    if (!this.listed) {
      this.listed = true;
      this.firstList();
    }
  }

  /** Replaces everything with a full snapshot: keys absent from it are deleted. */
  private applySnapshot(snapshot: Map<string, string>): void {
    const affected = new Set<string>();
    for (const id of this.o.store.sourceIds(ETCD_SOURCE_PREFIX)) {
      const key = id.slice(ETCD_SOURCE_PREFIX.length);
      if (!snapshot.has(key)) {
        this.values.delete(key);
        for (const p of this.o.store.delete(id)) affected.add(p);
      }
    }
    for (const [key, value] of snapshot) {
      if (this.values.get(key) === value && this.o.store.get(etcdSourceId(key))) continue;
      for (const p of this.put(key, value)) affected.add(p);
    }
    this.cache.replace(() => this.cacheContent());
    this.changed(affected);
  }

  private applyEvents(events: WatchEvent[], revision: number): void {
    const affected = new Set<string>();
    const journal: EtcdCacheChange[] = [];
    for (const { type, kv } of events) {
      journal.push({ key: kv.key, value: type === 'delete' ? undefined : kv.value });
      if (type === 'delete') {
        this.values.delete(kv.key);
        for (const p of this.o.store.delete(etcdSourceId(kv.key))) affected.add(p);
      } else {
        for (const p of this.put(kv.key, kv.value)) affected.add(p);
      }
    }
    this.revision = Math.max(this.revision, revision);
    this.cache.record(this.o.prefix, this.revision, journal, () => this.cacheContent());
    this.changed(affected);
  }

  private put(key: string, value: string): Set<string> {
    this.values.set(key, value);
    const result = parseEtcdValue(key, value);
    if (!result.ok) this.o.logger.warn({ source: etcdSourceId(key), problems: result.problems }, 'invalid desired document in etcd; its last valid version stays applied');
    return this.o.store.set(etcdSourceId(key), result);
  }

  private changed(affected: Set<string>): void {
    this.counters.revision = this.revision;
    this.counters.keys = this.values.size;
    if (affected.size > 0) this.o.onChange(affected);
  }

  private cacheContent() {
    return { prefix: this.o.prefix, revision: this.revision, values: Object.fromEntries(this.values) };
  }
}
