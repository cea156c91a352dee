// WatchSession and StatusPublisher against a fake gateway (node:http).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { pino } from 'pino';
import { EtcdClient } from '../../src/sources/etcd/client.js';
import { b64 } from '../../src/sources/etcd/codec.js';
import { EtcdCompactedError } from '../../src/sources/etcd/errors.js';
import { StatusPublisher } from '../../src/sources/etcd/status-publisher.js';
import { WatchSession, type WatchEvent } from '../../src/sources/etcd/watch.js';
import type { BindingStatus } from '../../src/model/status.js';

let server: Server;
let url = '';
let onWatch: (res: ServerResponse, body: Record<string, unknown>) => void = () => undefined;
const txns: unknown[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      const body = JSON.parse(text || '{}') as Record<string, unknown>;
      if (req.url === '/v3/watch') return onWatch(res, body);
      if (req.url === '/v3/lease/grant') return res.end(JSON.stringify({ ID: '7', TTL: '5' }));
      if (req.url === '/v3/kv/txn') txns.push(body);
      res.end(JSON.stringify({ header: { revision: '1' } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const a = server.address();
  url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('WatchSession', () => {
  it('reports created, events in chunks, progress, and a compaction', async () => {
    onWatch = (res, body) => {
      expect((body['create_request'] as { start_revision: string }).start_revision).toBe('5');
      res.write(JSON.stringify({ result: { header: { revision: '9' }, created: true } }) + '\n');
      const events = JSON.stringify({ result: { header: { revision: '9' }, events: [{ kv: { key: b64('/p/a'), value: b64('x'), mod_revision: '6' } }, { type: 'DELETE', kv: { key: b64('/p/b'), mod_revision: '7' } }] } }) + '\n';
      res.write(events.slice(0, 20));
      setTimeout(() => {
        res.write(events.slice(20));
        res.write(JSON.stringify({ result: { header: { revision: '12' } } }) + '\n');
        res.end(JSON.stringify({ result: { header: {}, canceled: true, compact_revision: '10' } }) + '\n');
      }, 20);
    };
    const seen: Array<[WatchEvent[], number]> = [];
    let created = 0;
    let progress = 0;
    const session = new WatchSession(new EtcdClient([url]), '/p/', 5, {
      onCreated: () => created++,
      onEvents: (e, r) => seen.push([e, r]),
      onProgress: (r) => (progress = r),
    });
    await expect(session.run()).rejects.toBeInstanceOf(EtcdCompactedError);
    expect(created).toBe(1);
    expect(seen).toEqual([[[{ type: 'put', kv: { key: '/p/a', value: 'x', modRevision: 6 } }, { type: 'delete', kv: { key: '/p/b', value: '', modRevision: 7 } }], 7]]);
    expect(progress).toBe(12);
  });

  it('fails over to the next endpoint when one refuses', async () => {
    const client = new EtcdClient(['http://127.0.0.1:1', url]);
    await client.put('/k', 'v');
    expect(client.endpoint).toBe(url);
  });
});

describe('StatusPublisher', () => {
  it('coalesces changes per port into few transactions, attached to the lease', async () => {
    txns.length = 0;
    const publisher = new StatusPublisher({ client: new EtcdClient([url]), hostname: 'h', leaseSeconds: 5, logger: pino({ level: 'silent' }), flushMs: 100 });
    const status = (port: string, phase: string) => ({ port, phase, message: '', attempts: 0, lastTransitionTime: '', source: 'etcd:x', type: 'bridge', devices: [], libvirt: '<interface/>' }) as unknown as BindingStatus;
    publisher.start();
    for (let i = 0; i < 50; i++) publisher.update('p1', status('p1', i % 2 ? 'Pending' : 'Ready'));
    publisher.update('p1', status('p1', 'Ready'));
    publisher.update('p2', status('p2', 'Ready'));
    publisher.update('p3', status('p3', 'Ready'));
    publisher.update('p3', undefined);
    await publisher.stop();
    const ops = txns.flatMap((t) => (t as { success: Array<Record<string, { key: string; value?: string; lease?: string }>> }).success);
    expect(txns.length).toBeLessThanOrEqual(2);
    const puts = ops.filter((o) => o['request_put']).map((o) => o['request_put']!);
    expect(puts.map((p) => Buffer.from(p.key, 'base64').toString()).sort()).toEqual(['/vifd/v1/hosts/h/status/p1', '/vifd/v1/hosts/h/status/p2']);
    expect(puts.every((p) => p.lease === '7')).toBe(true);
    expect(JSON.parse(Buffer.from(puts[0]!.value!, 'base64').toString()).phase).toBe('Ready');
  });
});
