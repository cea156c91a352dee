// The last desired state read from etcd, kept in the state directory so that
// a restart while etcd is unreachable still knows (and keeps repairing) the
// bindings it had: etcd unreachable is never "everything deleted".
//
// Two files: a snapshot (etcd-cache.json, written atomically) and a journal
// of the changes since (etcd-cache.log, one JSON line per change, appended),
// so one watch event costs a line, not a rewrite of every value. The journal
// is folded into a new snapshot once it is as long as the snapshot: writing
// stays O(1) per change, amortized. A journal line carries the prefix and
// revision of its change: lines the snapshot already holds (a crash between
// the snapshot and the journal's truncation) or of another prefix are
// skipped, and a torn last line is ignored.
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { STATE_FILE_MODE, writeFileAtomic } from '../../state/atomic-write.js';
import { asObject, readJsonState } from '../../state/json-state-file.js';

export interface EtcdCacheContent {
  prefix: string;
  revision: number;
  values: Record<string, string>;
}

/** One change of a key (value undefined: deleted). */
export interface EtcdCacheChange {
  key: string;
  value: string | undefined;
}

interface JournalLine {
  p: string;
  r: number;
  k: string;
  v?: string;
}

/** Journals shorter than this are never folded (small caches). */
const MIN_FOLD_LINES = 1024;

export class EtcdCache {
  readonly path: string;
  readonly journalPath: string;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private pending: JournalLine[] = [];
  private rewrite = false;
  private journalLines = 0;
  private snapshotKeys = 0;

  constructor(stateDir: string, private readonly onError: (error: unknown) => void) {
    this.path = join(stateDir, 'etcd-cache.json');
    this.journalPath = join(stateDir, 'etcd-cache.log');
  }

  /** The cache for this prefix, or undefined (absent, corrupt, other prefix):
   * a cache that cannot be used is as good as none, etcd is asked instead. */
  async load(prefix: string): Promise<EtcdCacheContent | undefined> {
    const { value: content } = await readJsonState(this.path, (json) => {
      const parsed = asObject(json);
      return parsed?.['prefix'] === prefix && asObject(parsed['values']) ? (parsed as unknown as EtcdCacheContent) : undefined;
    });
    if (!content) return undefined;
    this.snapshotKeys = Object.keys(content.values).length;
    const journal = await readFile(this.journalPath, 'utf8').catch(() => '');
    const since = content.revision;
    for (const text of journal.split('\n')) {
      const line = parseLine(text);
      if (!line || line.p !== prefix || line.r <= since) continue;
      if (line.v === undefined) delete content.values[line.k];
      else content.values[line.k] = line.v;
      content.revision = Math.max(content.revision, line.r);
      this.journalLines++;
    }
    return content;
  }

  /** Watch events at `revision`: journaled soon (one append per `delayMs`). */
  record(prefix: string, revision: number, changes: readonly EtcdCacheChange[], content: () => EtcdCacheContent, delayMs = 300): void {
    for (const { key, value } of changes) this.pending.push({ p: prefix, r: revision, k: key, ...(value === undefined ? {} : { v: value }) });
    this.schedule(content, delayMs);
  }

  /** Everything changed (a list, the cache applied): a new snapshot soon. */
  replace(content: () => EtcdCacheContent, delayMs = 300): void {
    this.rewrite = true;
    this.schedule(content, delayMs);
  }

  async flush(content: () => EtcdCacheContent): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.write(content);
    }
    await this.writing;
  }

  private schedule(content: () => EtcdCacheContent, delayMs: number): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.write(content);
    }, delayMs);
    this.timer.unref();
  }

  private write(content: () => EtcdCacheContent): void {
    const lines = this.pending;
    this.pending = [];
    if (this.rewrite || this.journalLines + lines.length > Math.max(MIN_FOLD_LINES, this.snapshotKeys)) {
      // The snapshot holds every pending change too: they are not journaled.
      this.rewrite = false;
      const snapshot = content();
      this.snapshotKeys = Object.keys(snapshot.values).length;
      this.journalLines = 0;
      this.writing = this.writing
        .then(async () => {
          await writeFileAtomic(this.path, JSON.stringify(snapshot) + '\n');
          await writeFileAtomic(this.journalPath, '');
        })
        .catch(this.onError);
      return;
    }
    if (lines.length === 0) return;
    this.journalLines += lines.length;
    const text = lines.map((l) => JSON.stringify(l) + '\n').join('');
    this.writing = this.writing.then(() => append(this.journalPath, text)).catch(this.onError);
  }
}

function parseLine(text: string): JournalLine | undefined {
  if (!text) return undefined;
  try {
    const line = JSON.parse(text) as Partial<JournalLine>;
    if (typeof line.p !== 'string' || typeof line.r !== 'number' || typeof line.k !== 'string' || (line.v !== undefined && typeof line.v !== 'string')) return undefined;
    return line as JournalLine;
  } catch {
    return undefined; // a line torn by a crash
  }
}

/** Appends and makes it durable (the cache must survive a crash). */
async function append(path: string, text: string): Promise<void> {
  const handle = await open(path, 'a', STATE_FILE_MODE);
  try {
    await handle.write(text);
    await handle.datasync();
  } finally {
    await handle.close();
  }
}
