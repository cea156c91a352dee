// The server on a unix socket in a temp dir, with the real routes over a
// fake daemon: socket mode, stale-socket replacement, a live socket refused.
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiBindingFiles } from '../../src/api/binding-files.js';
import { BindingsService } from '../../src/api/bindings-service.js';
import { ApiClient } from '../../src/api/client.js';
import { ApiAddressError, ApiSocketInUseError } from '../../src/api/errors.js';
import { ApiServer } from '../../src/api/server.js';
import { VifdMetrics } from '../../src/api/vifd-metrics.js';
import { WatchHub } from '../../src/api/watch-hub.js';
import { DesiredStore } from '../../src/desired/store.js';

const logger = pino({ level: 'silent' });
const dirs: string[] = [];

function makeServer(dir: string, token?: string, log = logger) {
  const hub = new WatchHub(() => []);
  const ctx = {
    bindings: new BindingsService({ store: new DesiredStore(), files: new ApiBindingFiles(dir), onChange: () => undefined, logger }),
    hub,
    metrics: new VifdMetrics({ statuses: () => [], queueDepth: () => 0, hostCommands: () => ({}), watchClients: () => hub.clients, revision: () => hub.revision }),
    statuses: () => [],
    summary: () => ({}),
    readiness: () => ({ ready: false, reason: 'not yet' }),
  };
  const path = join(dir, 'vifd.sock');
  return { server: new ApiServer(ctx, { address: { kind: 'unix', path }, ...(token ? { token } : {}), logger: log }), path };
}

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'vifd-apisrv-'));
  dirs.push(dir);
  return dir;
}

describe('ApiServer', () => {
  it('creates the socket 0600, replaces a stale one, removes it on stop', async () => {
    const dir = tempDir();
    const stale = createServer();
    await new Promise<void>((r) => stale.listen(join(dir, 'vifd.sock'), () => r()));
    // Leave the socket file behind, as a killed process does.
    (stale as unknown as { _handle: { close(): void } })._handle.close();
    const { server, path } = makeServer(dir);
    await server.start();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const client = new ApiClient({ kind: 'unix', path });
    expect((await client.request('GET', '/healthz')).status).toBe(200);
    expect((await client.request('GET', '/readyz')).status).toBe(503);
    client.destroy();
    await server.stop();
    expect(() => statSync(path)).toThrow();
  });

  it('refuses a socket another process serves, and a path that is not a socket', async () => {
    const dir = tempDir();
    const first = makeServer(dir);
    await first.server.start();
    await expect(makeServer(dir).server.start()).rejects.toBeInstanceOf(ApiSocketInUseError);
    await first.server.stop();
    writeFileSync(join(dir, 'vifd.sock'), 'not a socket');
    await expect(makeServer(dir).server.start()).rejects.toBeInstanceOf(ApiAddressError);
  });

  it('with a token, requests without it get 401', async () => {
    const dir = tempDir();
    const { server, path } = makeServer(dir, 'a'.repeat(32));
    await server.start();
    const anonymous = new ApiClient({ kind: 'unix', path });
    const authorised = new ApiClient({ kind: 'unix', path }, 'a'.repeat(32));
    expect((await anonymous.request('GET', '/healthz')).status).toBe(401);
    expect((await authorised.request('GET', '/healthz')).status).toBe(200);
    anonymous.destroy();
    authorised.destroy();
    await server.stop();
  });

  it('a client that hangs up mid-body (slowloris) is one debug line, not an error with a stack', async () => {
    const dir = tempDir();
    const lines: Array<{ level: number; msg: string }> = [];
    const recording = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as { level: number; msg: string }) });
    const { server, path } = makeServer(dir, undefined, recording);
    await server.start();
    for (let i = 0; i < 3; i++) {
      const socket = connect(path);
      await new Promise<void>((r) => socket.once('connect', () => r()));
      socket.write(`PUT /v1/bindings/11111111-1111-4111-8111-111111111111 HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\n{"apiVersion":`);
      await new Promise((r) => setTimeout(r, 50));
      socket.destroy();
    }
    await new Promise((r) => setTimeout(r, 100));
    await server.stop();
    const about = lines.filter((l) => l.msg.includes('went away') || l.msg.includes('API request failed'));
    expect(about).toHaveLength(3);
    expect(about.every((l) => l.level === 20 && l.msg === 'API client went away mid-request')).toBe(true);
  });
});
