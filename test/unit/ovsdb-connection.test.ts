// OvsdbConnection and ReconnectingOvsdbClient against a scripted fake
// ovsdb-server on a unix socket.
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parseOvsdbAddress } from '../../src/host/ovsdb/address.js';
import { OvsdbConnection } from '../../src/host/ovsdb/connection.js';
import { OvsdbAddressError, OvsdbClosedError, OvsdbConnectError, OvsdbNotConnectedError, OvsdbRpcError, OvsdbTimeoutError } from '../../src/host/ovsdb/errors.js';
import { JsonSplitter } from '../../src/lib/json-splitter.js';
import { ReconnectingOvsdbClient } from '../../src/host/ovsdb/reconnecting-client.js';
import type { TableUpdates } from '../../src/host/ovsdb/types.js';

const dir = mkdtempSync(join(tmpdir(), 'vifd-ovsdb-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

type Msg = Record<string, unknown>;
interface Fake {
  path: string;
  server: net.Server;
  sockets: net.Socket[];
  received: Msg[];
  close(): Promise<void>;
}
const servers: Fake[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

/** A fake server: `handle` gets each message and the socket to answer on. */
function fakeServer(handle: (m: Msg, sock: net.Socket) => void, path = join(dir, `s${n++}.sock`)): Promise<Fake> {
  const fake: Fake = {
    path,
    server: net.createServer(),
    sockets: [],
    received: [],
    close: () =>
      new Promise((resolve) => {
        for (const s of fake.sockets) s.destroy();
        fake.server.close(() => resolve());
      }),
  };
  fake.server.on('connection', (sock) => {
    fake.sockets.push(sock);
    const splitter = new JsonSplitter();
    sock.on('data', (d) => {
      for (const t of splitter.push(d)) {
        const m = JSON.parse(t) as Msg;
        fake.received.push(m);
        handle(m, sock);
      }
    });
    sock.on('error', () => undefined);
  });
  servers.push(fake);
  return new Promise((resolve) => fake.server.listen(path, () => resolve(fake)));
}

const reply = (sock: net.Socket, m: Msg, result: unknown): boolean => sock.write(JSON.stringify({ id: m.id, result, error: null }));

describe('parseOvsdbAddress', () => {
  it('accepts unix:PATH and absolute paths only', () => {
    expect(parseOvsdbAddress('unix:/run/x/db.sock')).toEqual({ kind: 'unix', path: '/run/x/db.sock' });
    expect(parseOvsdbAddress('/run/db.sock').path).toBe('/run/db.sock');
    expect(() => parseOvsdbAddress('tcp:1.2.3.4:6640')).toThrow(OvsdbAddressError);
    expect(() => parseOvsdbAddress('unix:')).toThrow(expect.objectContaining({ code: 'OVSDB_BAD_ADDRESS' }));
  });
});

describe('OvsdbConnection', () => {
  it('matches replies to requests by id, across split and coalesced writes', async () => {
    const held: Msg[] = [];
    const fake = await fakeServer((m, sock) => {
      held.push(m);
      if (held.length < 2) return;
      // answer in reverse order, the second reply split in the middle of a string
      const a = JSON.stringify({ id: held[1]!.id, result: ['b}"\\'], error: null });
      const b = JSON.stringify({ id: held[0]!.id, result: ['a'], error: null });
      sock.write(a + b.slice(0, 9));
      setTimeout(() => sock.write(b.slice(9)), 10);
    });
    const c = await OvsdbConnection.connect(`unix:${fake.path}`);
    const [ra, rb] = await Promise.all([c.request('list_dbs', []), c.request('get_schema', ['Open_vSwitch'])]);
    expect(ra).toEqual(['a']);
    expect(rb).toEqual(['b}"\\']);
    c.close();
  });

  it('answers the server echo, routes update notifications to the monitor', async () => {
    const updates: TableUpdates[] = [];
    const fake = await fakeServer((m, sock) => {
      if (m.method === 'monitor') {
        reply(sock, m, { Port: { u1: { new: { name: 'p' } } } });
        sock.write(JSON.stringify({ method: 'echo', params: ['x'], id: 'echo' }));
        sock.write(JSON.stringify({ method: 'update', params: [(m.params as unknown[])[1], { Port: { u1: {} } }], id: null }));
      }
    });
    const c = await OvsdbConnection.connect(`unix:${fake.path}`);
    const initial: TableUpdates[] = [];
    const seen = new Promise<void>((resolve) => c.on('update', () => resolve()));
    const handle = await c.startMonitor({ db: 'Open_vSwitch', requests: { Port: { columns: ['name'] } }, onInitial: (u) => initial.push(u), onUpdate: (u) => updates.push(u) });
    await seen;
    expect(initial).toEqual([{ Port: { u1: { new: { name: 'p' } } } }]);
    expect(updates).toEqual([{ Port: { u1: {} } }]);
    await expect.poll(() => fake.received.find((m) => m.id === 'echo')).toEqual({ id: 'echo', result: ['x'], error: null });
    expect(handle.id).toMatch(/^vifd-mon-/u);
    c.close();
  });

  it('times out a request, rejects RPC errors, and ignores a late reply', async () => {
    const fake = await fakeServer((m, sock) => {
      if (m.method === 'slow') setTimeout(() => reply(sock, m, 'late'), 80);
      else sock.write(JSON.stringify({ id: m.id, result: null, error: 'unknown method' }));
    });
    const c = await OvsdbConnection.connect(`unix:${fake.path}`);
    await expect(c.request('slow', [], { timeoutMs: 20 })).rejects.toMatchObject({ code: 'OVSDB_TIMEOUT', method: 'slow', timeoutMs: 20 });
    await expect(c.request('nosuch', [])).rejects.toBeInstanceOf(OvsdbRpcError);
    await new Promise((r) => setTimeout(r, 100));
    expect(c.closed).toBe(false);
    c.close();
    await expect(c.request('x', [])).rejects.toBeInstanceOf(OvsdbClosedError);
  });

  it('rejects in-flight requests and emits close when the server goes away', async () => {
    const fake = await fakeServer((_m, sock) => setTimeout(() => sock.destroy(), 5));
    const c = await OvsdbConnection.connect(`unix:${fake.path}`);
    const closed = new Promise((resolve) => c.once('close', resolve));
    await expect(c.request('transact', ['Open_vSwitch'])).rejects.toMatchObject({ code: 'OVSDB_CONNECTION_CLOSED', method: 'transact' });
    await expect(closed).resolves.toBeInstanceOf(OvsdbClosedError);
  });

  it('closes the connection on garbage from the server', async () => {
    const fake = await fakeServer((_m, sock) => sock.write('nonsense'));
    const c = await OvsdbConnection.connect(`unix:${fake.path}`);
    await expect(c.request('x', [])).rejects.toMatchObject({ code: 'OVSDB_CONNECTION_CLOSED', cause: expect.objectContaining({ code: 'OVSDB_PROTOCOL_ERROR' }) });
  });

  it('closes after an unanswered echo probe', async () => {
    const fake = await fakeServer(() => undefined);
    const c = await OvsdbConnection.connect(`unix:${fake.path}`, { probeIntervalMs: 100 });
    const cause = await new Promise((resolve) => c.once('close', resolve));
    expect(String((cause as Error).cause)).toMatch(/echo probe unanswered/u);
    expect(fake.received).toContainEqual({ method: 'echo', params: [], id: 'vifd-probe' });
  });

  it('reports a missing socket as OvsdbConnectError with its errno', async () => {
    await expect(OvsdbConnection.connect(`unix:${join(dir, 'missing.sock')}`)).rejects.toMatchObject({ code: 'OVSDB_CONNECT_FAILED', errno: 'ENOENT' });
    await expect(OvsdbConnection.connect(`unix:${join(dir, 'missing.sock')}`)).rejects.toBeInstanceOf(OvsdbConnectError);
  });
});

describe('ReconnectingOvsdbClient', () => {
  it('retries with capped exponential backoff, then connects and re-establishes monitors after a drop', async () => {
    const path = join(dir, `r${n++}.sock`);
    const client = new ReconnectingOvsdbClient(`unix:${path}`, { minBackoffMs: 10, maxBackoffMs: 40 });
    const delays: number[] = [];
    const events: string[] = [];
    client.on('reconnectFailed', (_e, info) => delays.push(info.delayMs));
    client.on('connected', () => events.push('connected'));
    client.on('disconnected', () => events.push('disconnected'));
    const initials: TableUpdates[] = [];
    const monitor = client.startMonitor({ db: 'Open_vSwitch', requests: { Port: {} }, onInitial: (u) => initials.push(u), onUpdate: () => undefined });
    await new Promise((r) => setTimeout(r, 150));
    expect(delays.slice(0, 4)).toEqual([10, 20, 40, 40]);
    let generation = 0;
    const fake = await fakeServer((m, sock) => {
      if (m.method === 'monitor') reply(sock, m, { Port: { [`u${generation++}`]: { new: { name: 'p' } } } });
      else reply(sock, m, 'ok');
    }, path);
    const handle = await monitor;
    expect(initials).toHaveLength(1);
    await expect(client.request('x', [])).resolves.toBe('ok');
    for (const s of fake.sockets) s.destroy();
    await expect.poll(() => initials.length, { timeout: 2000 }).toBe(2);
    expect(initials[1]).toEqual({ Port: { u1: { new: { name: 'p' } } } });
    expect(events).toEqual(['connected', 'disconnected', 'connected']);
    await expect(client.request('x', [])).resolves.toBe('ok');
    await handle.cancel();
    client.close();
    await expect(client.request('x', [])).rejects.toBeInstanceOf(OvsdbNotConnectedError);
  });

  it('a request while disconnected fails with OvsdbNotConnectedError after its timeout', async () => {
    const client = new ReconnectingOvsdbClient(`unix:${join(dir, 'never.sock')}`, { minBackoffMs: 5 });
    await expect(client.request('x', [], { timeoutMs: 50 })).rejects.toMatchObject({ code: 'OVSDB_NOT_CONNECTED', method: 'x' });
    client.close();
  });
});
