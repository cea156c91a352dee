import { describe, expect, it } from 'vitest';
import { JsonSplitError, JsonSplitter } from '../../src/lib/json-splitter.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

const messages = [
  { id: 1, result: [{ rows: [{ name: 'br-{x}', note: 'a "quoted" \\ back}slash' }] }], error: null },
  { method: 'echo', params: [], id: 'echo' },
  { method: 'update', params: ['m', { Interface: { u: { new: { name: 'tap€é🙂', external_ids: ['map', [['k]', 'v[']]] } } } }], id: null },
  [1, 2, [3, { a: '}' }]],
];
const wire = messages.map((m) => JSON.stringify(m)).join('');

describe('JsonSplitter', () => {
  it('splits concatenated messages from one chunk', () => {
    const out = new JsonSplitter().push(enc(wire));
    expect(out.map((t) => JSON.parse(t))).toEqual(messages);
  });

  it('gives the same messages whatever the chunk boundaries (every split point, UTF-8 included)', () => {
    const bytes = enc(wire);
    for (let cut = 1; cut < bytes.length; cut++) {
      const s = new JsonSplitter();
      const out = [...s.push(bytes.subarray(0, cut)), ...s.push(bytes.subarray(cut))];
      expect(out.map((t) => JSON.parse(t))).toEqual(messages);
      expect(s.midMessage).toBe(false);
    }
  });

  it('handles byte-by-byte delivery and whitespace between messages', () => {
    const bytes = enc(` ${JSON.stringify(messages[0])}\n\t${JSON.stringify(messages[2])} `);
    const s = new JsonSplitter();
    const out: string[] = [];
    for (const b of bytes) out.push(...s.push(Uint8Array.of(b)));
    expect(out.map((t) => JSON.parse(t))).toEqual([messages[0], messages[2]]);
  });

  it('reports a partial message and keeps it across chunks', () => {
    const s = new JsonSplitter();
    expect(s.push(enc('{"id":1,"result":"a\\"}'))).toEqual([]);
    expect(s.midMessage).toBe(true);
    expect(s.push(enc('b"}'))).toEqual(['{"id":1,"result":"a\\"}b"}']);
  });

  it('rejects bytes outside any value', () => {
    expect(() => new JsonSplitter().push(enc('{"a":1}x'))).toThrow(JsonSplitError);
  });

  it('rejects oversize messages', () => {
    const s = new JsonSplitter({ maxMessageBytes: 16 });
    expect(() => s.push(enc('{"a":"0123456789abcdef"'))).toThrow(/larger than 16/u);
  });
});
