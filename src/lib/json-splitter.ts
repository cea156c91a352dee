// Streaming splitter for OVSDB's wire format: JSON-RPC messages are JSON
// objects written back to back with no delimiter (RFC 7047 §4). We track
// brace/bracket depth outside strings, and string/escape state inside them,
// across chunk boundaries. It works on bytes: `{ } [ ] " \` are ASCII, and a
// UTF-8 multi-byte sequence never contains them, so a character split across
// chunks is only decoded once the whole message is there.
import { VifdError } from '../errors/vifd-error.js';

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

export class JsonSplitError extends VifdError<'OVSDB_PROTOCOL_ERROR'> {
  constructor(message: string, readonly excerpt: string) {
    super('OVSDB_PROTOCOL_ERROR', message, { fields: { excerpt } });
  }
}

export interface JsonSplitterOptions {
  /** Largest message accepted, in bytes (default 256 MiB). */
  maxMessageBytes?: number;
}

export class JsonSplitter {
  private readonly maxBytes: number;
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  /** Bytes of the message being read, from earlier chunks. */
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;

  constructor(options: JsonSplitterOptions = {}) {
    this.maxBytes = options.maxMessageBytes ?? 256 * 1024 * 1024;
  }

  /** True when a message has started but not ended. */
  get midMessage(): boolean {
    return this.depth > 0 || this.pendingBytes > 0;
  }

  /** Feeds a chunk; returns the complete JSON texts it finished (maybe none).
   * Throws JsonSplitError on bytes outside any value or an oversize message. */
  push(chunk: Uint8Array): string[] {
    const out: string[] = [];
    let start = this.depth > 0 ? 0 : -1;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (b === BACKSLASH) this.escaped = true;
        else if (b === QUOTE) this.inString = false;
        continue;
      }
      if (this.depth === 0) {
        if (b === OPEN_BRACE || b === OPEN_BRACKET) {
          this.depth = 1;
          start = i;
        } else if (b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09) {
          throw new JsonSplitError(`unexpected byte 0x${b.toString(16)} between messages`, this.excerpt(chunk, i));
        }
        continue;
      }
      if (b === QUOTE) this.inString = true;
      else if (b === OPEN_BRACE || b === OPEN_BRACKET) this.depth++;
      else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
        this.depth--;
        if (this.depth === 0) {
          out.push(this.finish(chunk.subarray(start, i + 1)));
          start = -1;
        }
      }
    }
    if (this.depth > 0 && start >= 0) {
      const rest = chunk.subarray(start);
      this.pendingBytes += rest.length;
      if (this.pendingBytes > this.maxBytes) {
        this.reset();
        throw new JsonSplitError(`message larger than ${this.maxBytes} bytes`, '');
      }
      // Copy: the caller may reuse the chunk's memory.
      this.pending.push(Uint8Array.prototype.slice.call(rest));
    }
    return out;
  }

  /** Drops any partial message (after a reconnect). */
  reset(): void {
    this.pending = [];
    this.pendingBytes = 0;
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
  }

  private finish(tail: Uint8Array): string {
    let bytes = tail;
    if (this.pending.length > 0) {
      bytes = new Uint8Array(this.pendingBytes + tail.length);
      let off = 0;
      for (const p of this.pending) {
        bytes.set(p, off);
        off += p.length;
      }
      bytes.set(tail, off);
      this.pending = [];
      this.pendingBytes = 0;
    }
    if (bytes.length > this.maxBytes) throw new JsonSplitError(`message larger than ${this.maxBytes} bytes`, '');
    try {
      return this.decoder.decode(bytes);
    } catch (error) {
      throw new JsonSplitError(`message is not valid UTF-8: ${String(error)}`, '');
    }
  }

  private excerpt(chunk: Uint8Array, at: number): string {
    return new TextDecoder().decode(chunk.subarray(Math.max(0, at - 20), at + 40));
  }
}
