// The API client's watch reports what went wrong with a stable code: a
// refused watch (an HTTP status) and a line that is not JSON, against a
// small server on a unix socket in a temp dir.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, ApiWatchError } from '../../src/api/client.js';

let dir: string;
let server: Server;
let socket: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vifd-watch-err-'));
  socket = join(dir, 'api.sock');
  server = createServer((req, res) => {
    if (req.url === '/v1/watch?since=1') {
      res.writeHead(410, { 'content-type': 'application/json' }).end('{"error":"gone"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    res.end('{"type":"status","revision":2}\nnot json\n');
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

describe('ApiClient.watch errors', () => {
  it('a refused watch: API_WATCH_REFUSED with the status', async () => {
    const errors: Error[] = [];
    const watch = new ApiClient({ kind: 'unix', path: socket }).watch(1, () => undefined, (e) => errors.push(e));
    await watch.done;
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(ApiWatchError);
    expect(errors[0]).toMatchObject({ code: 'API_WATCH_REFUSED', fields: { status: 410 } });
  });

  it('a line that is not JSON: API_WATCH_BAD_LINE, and the good lines still arrive', async () => {
    const errors: Error[] = [];
    const events: unknown[] = [];
    const watch = new ApiClient({ kind: 'unix', path: socket }).watch(undefined, (e) => events.push(e), (e) => errors.push(e));
    await watch.done;
    expect(events).toEqual([{ type: 'status', revision: 2 }]);
    expect(errors.map((e) => (e as ApiWatchError).code)).toEqual(['API_WATCH_BAD_LINE']);
    expect((errors[0] as ApiWatchError).cause).toBeInstanceOf(SyntaxError);
  });
});
