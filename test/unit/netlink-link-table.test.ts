// The link table: names resolved through the table as it changes, and the
// changed names it reports (what the reconciler is told).
import { describe, expect, it } from 'vitest';
import type { LinkRecord } from '../../src/host/netlink/link-message.js';
import { differingNames, LinkTable } from '../../src/host/netlink/link-table.js';
import { encodeFrame, FrameDecoder } from '../../src/host/netlink/stream-frames.js';

function record(ifindex: number, name: string, extra: Partial<LinkRecord> = {}): LinkRecord {
  return {
    ifindex, name, kind: 'tap', rawKind: 'tun', mtu: 1500, mac: undefined, up: false, group: 0, alias: undefined,
    macvtapMode: undefined, persistent: true, carrier: false, multiQueue: false, masterIndex: undefined, linkIndex: undefined, ...extra,
  };
}

describe('LinkTable', () => {
  it('renaming a master renames it in every slave and reports old name, new name and slaves', () => {
    const t = new LinkTable();
    t.apply({ op: 'new', record: record(5, 'tap1', { masterIndex: 2 }) });
    t.apply({ op: 'new', record: record(2, 'br0', { kind: 'bridge', rawKind: 'bridge' }) });
    expect(t.links.get('tap1')!.master).toBe('br0');
    t.drainChanges();
    t.apply({ op: 'new', record: record(2, 'br1', { kind: 'bridge', rawKind: 'bridge' }) });
    expect(t.links.get('tap1')!.master).toBe('br1');
    expect(t.links.has('br0')).toBe(false);
    expect([...t.drainChanges()].sort()).toEqual(['br0', 'br1', 'tap1']);
  });

  it('an unknown master is "ifN" until it appears; deleting it makes it unknown again', () => {
    const t = new LinkTable();
    t.apply({ op: 'new', record: record(5, 'tap1', { masterIndex: 9 }) });
    expect(t.links.get('tap1')!.master).toBe('if9');
    t.apply({ op: 'new', record: record(9, 'br9', { kind: 'bridge' }) });
    expect(t.links.get('tap1')!.master).toBe('br9');
    t.drainChanges();
    t.apply({ op: 'del', ifindex: 9, name: 'br9' });
    expect(t.links.get('tap1')!.master).toBe('if9');
    expect([...t.drainChanges()].sort()).toEqual(['br9', 'tap1']);
  });

  it('reports nothing for a message that changes nothing, and the name for one that does', () => {
    const t = new LinkTable();
    t.apply({ op: 'new', record: record(5, 'tap1') });
    t.drainChanges();
    t.apply({ op: 'new', record: record(5, 'tap1') });
    expect(t.drainChanges().size).toBe(0);
    const before = t.links.get('tap1');
    t.apply({ op: 'new', record: record(5, 'tap1', { up: true }) });
    expect([...t.drainChanges()]).toEqual(['tap1']);
    expect(before!.up).toBe(false); // handed-out links are never mutated
  });

  it('a name freed by one device and taken by another keeps the new one', () => {
    const t = new LinkTable();
    t.apply({ op: 'new', record: record(5, 'a') });
    t.apply({ op: 'new', record: record(5, 'b') });
    t.apply({ op: 'new', record: record(6, 'a') });
    t.apply({ op: 'del', ifindex: 5, name: 'b' });
    expect([...t.links.keys()]).toEqual(['a']);
    expect(t.links.get('a')!.ifindex).toBe(6);
  });

  it('differingNames finds added, removed and changed links', () => {
    const a = new LinkTable();
    const b = new LinkTable();
    a.apply({ op: 'new', record: record(1, 'same') });
    b.apply({ op: 'new', record: record(1, 'same') });
    a.apply({ op: 'new', record: record(2, 'gone') });
    b.apply({ op: 'new', record: record(3, 'new') });
    a.apply({ op: 'new', record: record(4, 'mtu') });
    b.apply({ op: 'new', record: record(4, 'mtu', { mtu: 1400 }) });
    expect(differingNames(a.links, b.links).sort()).toEqual(['gone', 'mtu', 'new']);
  });
});

/** Three frames, decoded from their concatenation cut at the given offsets. */
function decodeFrames(cuts: readonly number[]): Array<{ type: number; payload: number[] }> {
  const bytes = Buffer.concat([encodeFrame(1, Uint8Array.of(1, 2, 3)), encodeFrame(3, new Uint8Array(0)), encodeFrame(2, Uint8Array.of(9, 8, 7, 6, 5))]);
  const decoder = new FrameDecoder();
  const out: Array<{ type: number; payload: number[] }> = [];
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    for (const f of decoder.push(bytes.subarray(from, Math.min(cut, bytes.length)))) out.push({ type: f.type, payload: [...f.payload] });
    from = Math.min(cut, bytes.length);
  }
  return out;
}

describe('stream frames', () => {
  it('reassemble however the pipe cuts them', () => {
    expect(decodeFrames([1, 3, 5, 7, 9, 64])).toEqual([
      { type: 1, payload: [1, 2, 3] },
      { type: 3, payload: [] },
      { type: 2, payload: [9, 8, 7, 6, 5] },
    ]);
  });
});
