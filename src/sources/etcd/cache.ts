// The last desired state read from etcd, kept in the state directory so that
// a restart while etcd is unreachable still knows (and keeps repairing) the
// bindings it had: etcd unreachable is never "everything deleted".
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../../state/atomic-write.js';

export interface EtcdCacheContent {
  prefix: string;
  revision: number;
  values: Record<string, string>;
}

export class EtcdCache {
  readonly path: string;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private latest: EtcdCacheContent | undefined;

  constructor(stateDir: string, private readonly onError: (error: unknown) => void) {
    this.path = join(stateDir, 'etcd-cache.json');
  }

  /** The cache for this prefix, or undefined (absent, corrupt, other prefix). */
  async load(prefix: string): Promise<EtcdCacheContent | undefined> {
    try {
      const content = JSON.parse(await readFile(this.path, 'utf8')) as EtcdCacheContent;
      if (content.prefix !== prefix || typeof content.values !== 'object' || content.values === null) return undefined;
      return content;
    } catch {
      return undefined;
    }
  }

  /** Saves soon (writes are folded: at most one per `delayMs`). */
  save(content: () => EtcdCacheContent, delayMs = 300): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.latest = content();
      const snapshot = this.latest;
      this.writing = this.writing.then(() => writeFileAtomic(this.path, JSON.stringify(snapshot) + '\n')).catch(this.onError);
    }, delayMs);
    this.timer.unref();
  }

  async flush(content: () => EtcdCacheContent): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      const snapshot = content();
      this.writing = this.writing.then(() => writeFileAtomic(this.path, JSON.stringify(snapshot) + '\n')).catch(this.onError);
    }
    await this.writing;
  }
}
