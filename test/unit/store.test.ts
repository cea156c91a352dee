import { describe, expect, it } from 'vitest';
import { parseDocumentValue } from '../../src/desired/parse.js';
import { DesiredStore } from '../../src/desired/store.js';

const P1 = '11111111-1111-4111-8111-111111111111';
const P2 = '22222222-2222-4222-8222-222222222222';
const doc = (port: string, bridge = 'br1', extra: Record<string, unknown> = {}) => ({
  apiVersion: 'vifd/v1', kind: 'PortBinding', port, mac: 'fa:16:3e:00:00:01', vif: { type: 'bridge', bridge, ...extra },
});

describe('DesiredStore', () => {
  it('keeps the last valid version when a document turns invalid', () => {
    const store = new DesiredStore();
    store.set('file:a.json', parseDocumentValue(doc(P1, 'br1')));
    const affected = store.set('file:a.json', parseDocumentValue({ ...doc(P1, 'br2'), mtu: 5 }));
    expect([...affected]).toEqual([P1]);
    const b = store.view().bindings.get(P1)!;
    expect(b.spec.sharedBridge).toBe('br1');
    expect(b.invalid?.problems[0]?.path).toBe('mtu');
  });

  it('reports a never-valid document on the port it names, without applying it', () => {
    const store = new DesiredStore();
    store.set('file:a.json', parseDocumentValue({ ...doc(P1), mac: 'bad' }));
    expect(store.view().bindings.size).toBe(0);
    expect(store.view().invalidOnly.get(P1)?.problems[0]?.path).toBe('mac');
  });

  it('the same port from two sources: first accepted wins, the other is listed', () => {
    const store = new DesiredStore();
    store.set('file:b.json', parseDocumentValue(doc(P1, 'br-b')));
    store.set('api:x', parseDocumentValue(doc(P1, 'br-api')));
    const b = store.view().bindings.get(P1)!;
    expect(b.source).toBe('file:b.json');
    expect(b.shadowed).toEqual(['api:x']);
    // The winner goes away: the other takes over.
    store.delete('file:b.json');
    expect(store.view().bindings.get(P1)?.source).toBe('api:x');
  });

  it('two ports claiming one tap name: the first keeps it, the second is in Conflict', () => {
    const store = new DesiredStore();
    store.set('file:1.json', parseDocumentValue(doc(P1, 'br1', { tap: 'vmtap' })));
    store.set('file:2.json', parseDocumentValue(doc(P2, 'br1', { tap: 'vmtap' })));
    const view = store.view();
    expect(view.bindings.get(P1)?.conflict).toBeUndefined();
    expect(view.bindings.get(P2)?.conflict).toMatch(`device name vmtap is already claimed by port ${P1}`);
    expect(view.claimedNames.get('vmtap')).toBe(P1);
    expect([...(view.bridgeUsers.get('br1') ?? [])]).toEqual([P1]);
  });

  it('a tap name equal to another binding\'s bridge is a Conflict', () => {
    const store = new DesiredStore();
    store.set('file:1.json', parseDocumentValue(doc(P1, 'br1')));
    store.set('file:2.json', parseDocumentValue(doc(P2, 'br9', { tap: 'br1' })));
    expect(store.view().bindings.get(P2)?.conflict).toMatch(/already claimed/);
  });

  it('deleting a document removes its bindings and reports their ports', () => {
    const store = new DesiredStore();
    store.set('file:list.json', parseDocumentValue({ apiVersion: 'vifd/v1', kind: 'PortBindingList', items: [doc(P1), doc(P2, 'br2')] }));
    expect(store.view().bindings.size).toBe(2);
    expect([...store.delete('file:list.json')].sort()).toEqual([P1, P2]);
    expect(store.view().bindings.size).toBe(0);
  });

  it('caches the view until something changes', () => {
    const store = new DesiredStore();
    store.set('a', parseDocumentValue(doc(P1)));
    const v1 = store.view();
    expect(store.view()).toBe(v1);
    store.set('b', parseDocumentValue(doc(P2, 'br2')));
    expect(store.view()).not.toBe(v1);
  });
});
