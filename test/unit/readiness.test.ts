// test/support/readiness.ts against a stand-in API on a unix socket: what
// each /readyz answer means to a waiting test, and that a wait gives up.
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { apiSocket, readiness, waitReady, waitServing } from '../support/readiness.js';

let stateDir: string;
let server: Server | undefined;
let answer: { status: number; body: unknown } = { status: 503, body: { status: 'not ready', reason: 'first full reconcile not done yet' } };

beforeEach(() => {
  stateDir = mkdtempSync(join(tmpdir(), 'vifd-readiness-'));
});

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
  rmSync(stateDir, { recursive: true, force: true });
});

function serve(): Promise<void> {
  server = createServer((req, res) => {
    res.writeHead(req.url === '/readyz' ? answer.status : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify(answer.body));
  });
  return new Promise((resolve) => server!.listen(apiSocket(stateDir), resolve));
}

describe('readiness', () => {
  it('down while nothing listens, even on a socket file a killed vifd left', async () => {
    expect(await readiness(stateDir)).toEqual({ state: 'down' });
    writeFileSync(apiSocket(stateDir), '');
    expect(await readiness(stateDir)).toEqual({ state: 'down' });
  });

  it('503 is not-ready with the reason vifd gives; 200 is ready', async () => {
    await serve();
    expect(await readiness(stateDir)).toEqual({ state: 'not-ready', reason: 'first full reconcile not done yet' });
    answer = { status: 200, body: { status: 'ready' } };
    expect(await readiness(stateDir)).toEqual({ state: 'ready' });
  });

  it('waitServing returns on a 503; waitReady waits for the 200', async () => {
    answer = { status: 503, body: { status: 'not ready', reason: 'first full reconcile not done yet' } };
    await serve();
    await waitServing(stateDir, { timeoutMs: 1000 });
    await expect(waitReady(stateDir, { timeoutMs: 200 })).rejects.toThrow(/ready \(last \/readyz: not ready: first full reconcile not done yet\)/u);
    setTimeout(() => (answer = { status: 200, body: { status: 'ready' } }), 100);
    await waitReady(stateDir, { timeoutMs: 2000 });
  });

  it('gives up at once when the process it waits for is gone', async () => {
    const started = Date.now();
    await expect(waitServing(stateDir, { timeoutMs: 10_000, alive: () => false })).rejects.toThrow(/exited before it was serving/u);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
