// The last desired state read from etcd, kept in the state directory so that
// a restart while etcd is unreachable still knows (and keeps repairing) the
// bindings it had: etcd unreachable is never "everything deleted".
import { join } from 'node:path';
import { writeFileAtomic } from '../../state/atomic-write.js';
import { asObject, readJsonState } from '../../state/json-state-file.js';

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

  /** The cache for this prefix, or undefined (absent, corrupt, other prefix):
   * a cache that cannot be used is as good as none, etcd is asked instead. */
  async load(prefix: string): Promise<EtcdCacheContent | undefined> {
    const { value } = await readJsonState(this.path, (json) => {
      const content = asObject(json);
      return content?.['prefix'] === prefix && asObject(content['values']) ? (content as unknown as EtcdCacheContent) : undefined;
    });
    return value;
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
