// Hostile and careless documents (issue: nothing lost, nothing outside its
// room): no input may name a path, a list item is its own binding, duplicate
// keys are refused, file content is never echoed.
import { describe, expect, it } from 'vitest';
import { findDuplicateKey, parseJsonText } from '../../src/desired/json-text.js';
import { parseDocumentText, parseDocumentValue } from '../../src/desired/parse.js';
import { isPortId, portIdOf } from '../../src/desired/port-id.js';
import { DesiredStore } from '../../src/desired/store.js';
import { parseEtcdValue } from '../../src/sources/etcd/document.js';

const P1 = '11111111-1111-4111-8111-111111111111';
const P2 = '22222222-2222-4222-8222-222222222222';
const P3 = '33333333-3333-4333-8333-333333333333';
const doc = (port: string, bridge = 'br1', extra: Record<string, unknown> = {}) => ({
  apiVersion: 'vifd/v1', kind: 'PortBinding', port, mac: 'fa:16:3e:00:00:01', vif: { type: 'bridge', bridge }, ...extra,
});
const list = (...items: unknown[]) => ({ apiVersion: 'vifd/v1', kind: 'PortBindingList', items });

describe('port ids', () => {
  it.each([
    ['../../tmp/precious', undefined],
    ['11111111-1111-4111-8111-111111111111/../../x', undefined],
    [' 11111111-1111-4111-8111-111111111111', undefined],
    ['11111111-1111-4111-8111-11111111111', undefined],
    [42, undefined],
    ['11111111-1111-4111-8111-11111111111A', '11111111-1111-4111-8111-11111111111a'],
  ])('%j → %j', (value, expected) => {
    expect(portIdOf(value)).toBe(expected);
    if (expected) expect(isPortId(expected)).toBe(true);
  });

  it('an invalid document never names a port that is not a UUID', () => {
    for (const port of ['../../tmp/precious', '/etc/passwd', '..', 'a/b']) {
      const result = parseDocumentValue({ ...doc(P1), port, mac: 'bad' });
      expect(result.ok).toBe(false);
      expect(!result.ok && result.ports).toEqual([]);
      const inList = parseDocumentValue(list({ ...doc(P1), port }));
      expect(!inList.ok && inList.ports).toEqual([]);
    }
  });

  it('an etcd key whose last segment is not a UUID names no port', () => {
    const result = parseEtcdValue('/vifd/v1/hosts/h/bindings/../../../etc/x', JSON.stringify(doc(P1)));
    expect(result.ok).toBe(false);
    expect(!result.ok && result.ports).toEqual([]);
    expect(!result.ok && result.problems[0]?.path).toBe('(key)');
  });
});

describe('JSON text', () => {
  it('refuses duplicate keys, naming where', () => {
    expect(parseJsonText('{"port":"a","port":"b"}')).toEqual({ ok: false, path: '(document)', message: 'duplicate key "port"' });
    const nested = parseJsonText('{"items":[{"a":1},{"vif":{"type":"x","type":"y"}}]}');
    expect(nested).toEqual({ ok: false, path: 'items[1].vif', message: 'duplicate key "type"' });
    expect(findDuplicateKey('{"a":{"b":1},"c":{"b":2},"s":"\\"a\\":1,\\"a\\""}')).toBeUndefined();
    expect(findDuplicateKey('{"\\u0061":1,"a":2}')?.key).toBe('a');
  });

  it('a duplicate "port" is Invalid instead of moving the binding', () => {
    const result = parseDocumentText(`{"apiVersion":"vifd/v1","kind":"PortBinding","port":"${P1}","mac":"fa:16:3e:00:00:01","vif":{"type":"bridge","bridge":"b"},"port":"${P2}"}`);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problems).toEqual([{ path: '(document)', message: 'duplicate key "port"' }]);
  });

  it.each([
    ['root:x:0:0:root:/root:/bin/bash\n', 'root'],
    ['$6$secret$hash', 'secret'],
    ['{"a": tru3}', 'tru3'],
    ['{"k": "s3cr3t" "x"}', 's3cr3t'],
  ])('never quotes the text of %j', (text, secret) => {
    const result = parseDocumentText(text);
    expect(result.ok).toBe(false);
    const message = !result.ok ? result.problems.map((p) => p.message).join(' ') : '';
    expect(message).toMatch(/^not valid JSON/u);
    expect(message).not.toContain(secret);
  });
});

describe('PortBindingList items are bindings of their own', () => {
  it('one bad item leaves the others applied and only itself Invalid', () => {
    const store = new DesiredStore();
    store.set('file:l.json', parseDocumentValue(list(doc(P1, 'br1'), doc(P2, 'br2'))));
    const edit = parseDocumentValue(list(doc(P1, 'br9'), { ...doc(P2, 'br3'), mtu: 5 }, doc(P3, 'br3')));
    expect(edit.ok).toBe(false);
    store.set('file:l.json', edit);
    const view = store.view();
    expect(view.bindings.get(P1)?.spec.sharedBridge).toBe('br9'); // a good edit applies
    expect(view.bindings.get(P1)?.invalid).toBeUndefined();
    expect(view.bindings.get(P2)?.spec.sharedBridge).toBe('br2'); // its last valid version stays
    expect(view.bindings.get(P2)?.invalid?.problems).toEqual([{ path: 'items[1].mtu', message: expect.any(String) }]);
    expect(view.bindings.get(P3)?.spec.sharedBridge).toBe('br3'); // a new good item applies
    expect(view.invalidSources.get('file:l.json')).toHaveLength(1);
  });

  it('an item that names no readable port keeps what the list no longer shows', () => {
    const store = new DesiredStore();
    store.set('file:l.json', parseDocumentValue(list(doc(P1), doc(P2, 'br2'))));
    store.set('file:l.json', parseDocumentValue(list(doc(P1), { ...doc(P2), port: 'garbage' })));
    expect([...store.view().bindings.keys()].sort()).toEqual([P1, P2]);
    // Once every item is readable, a port that is gone from the list is removed.
    store.set('file:l.json', parseDocumentValue(list(doc(P1))));
    expect([...store.view().bindings.keys()]).toEqual([P1]);
  });

  it('a repeated port: the first item keeps it, the repeat is reported by the document', () => {
    const result = parseDocumentValue(list(doc(P1, 'br1'), doc(P1, 'br2')));
    const store = new DesiredStore();
    store.set('file:l.json', result);
    expect(store.view().bindings.get(P1)?.spec.sharedBridge).toBe('br1');
    expect(store.view().invalidSources.get('file:l.json')?.[0]?.path).toBe('items[1].port');
  });

  it('a document unreadable as a whole keeps every binding it applied, all Invalid', () => {
    const store = new DesiredStore();
    store.set('file:l.json', parseDocumentValue(list(doc(P1), doc(P2, 'br2'))));
    store.set('file:l.json', parseDocumentText('{"apiVersion":"vifd/v1","kind":"PortBindingList","items":[ oops'));
    const view = store.view();
    expect([...view.bindings.keys()].sort()).toEqual([P1, P2]);
    expect(view.bindings.get(P1)?.invalid?.problems[0]?.path).toBe('(document)');
    expect(view.bindings.get(P2)?.invalid).toBeDefined();
  });

  it('a file that names no port is listed by its source', () => {
    const store = new DesiredStore();
    store.set('file:junk.json', parseDocumentText('hello'));
    expect(store.view().bindings.size).toBe(0);
    expect(store.view().invalidOnly.size).toBe(0);
    expect(store.view().invalidSources.get('file:junk.json')?.[0]?.message).toMatch(/not valid JSON/u);
  });
});
