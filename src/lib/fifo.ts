// A first-in first-out queue whose shift is O(1): an array read from a head
// index, compacted once half of it is spent. Array#shift copies the rest of
// the array (on large arrays), and a channel with ten thousand requests in
// flight takes one answer at a time from the front.
export class Fifo<T> implements Iterable<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** The i-th item from the front. */
  at(i: number): T | undefined {
    return i < 0 ? undefined : this.items[this.head + i];
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head]!;
    this.items[this.head] = undefined as T; // let it go
    this.head++;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Index from the front of the first item that matches, -1 if none. */
  findIndex(match: (item: T) => boolean): number {
    for (let i = this.head; i < this.items.length; i++) if (match(this.items[i]!)) return i - this.head;
    return -1;
  }

  /** Takes out the item at index i (from the front): O(length), for the rare case. */
  removeAt(i: number): T | undefined {
    if (i < 0 || i >= this.length) return undefined;
    return this.items.splice(this.head + i, 1)[0];
  }

  /** Empties the queue, returning what it held in order. */
  drain(): T[] {
    const out = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return out;
  }

  *[Symbol.iterator](): Iterator<T> {
    for (let i = this.head; i < this.items.length; i++) yield this.items[i]!;
  }
}
