// Waiting for vifd by what it reports, never by what it logs: GET /readyz on
// the API socket (<state-dir>/vifd.sock) is a contract (docs/api.md), a log
// message is free to change. The API starts once the desired state is loaded
// and just before the first round, so "it answers" marks the start of the
// first convergence (where the crash tests aim their kills); 200 means the
// first full reconcile is done and state files can be written.
import { request } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export type Readiness =
  | { state: 'down' } // nothing answers on the socket (not started yet, or gone)
  | { state: 'not-ready'; reason: string } // 503: first reconcile not done, or state writes failing
  | { state: 'ready' };

export function apiSocket(stateDir: string): string {
  return join(stateDir, 'vifd.sock');
}

/** One GET /readyz. */
export function readiness(stateDir: string): Promise<Readiness> {
  return new Promise((resolve) => {
    const req = request({ socketPath: apiSocket(stateDir), path: '/readyz', agent: false, timeout: 2000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', () => resolve({ state: 'down' }));
      res.on('end', () => {
        if (res.statusCode === 200) return resolve({ state: 'ready' });
        let reason = `HTTP ${res.statusCode}`;
        try {
          reason = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { reason?: string }).reason ?? reason;
        } catch {
          // not JSON: the status code says enough
        }
        resolve({ state: 'not-ready', reason });
      });
    });
    // ENOENT / ECONNREFUSED (a socket a SIGKILLed vifd left behind): nobody serves yet.
    req.on('error', () => resolve({ state: 'down' }));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

export interface WaitOptions {
  timeoutMs?: number;
  pollMs?: number;
  /** Stop early (and throw) once this says the process is gone. */
  alive?: () => boolean;
}

async function waitUntil(stateDir: string, done: (r: Readiness) => boolean, what: string, o: WaitOptions): Promise<void> {
  const deadline = Date.now() + (o.timeoutMs ?? 20_000);
  for (;;) {
    const r = await readiness(stateDir);
    if (done(r)) return;
    const last = r.state === 'not-ready' ? `not ready: ${r.reason}` : r.state;
    if (o.alive && !o.alive()) throw new Error(`vifd exited before it was ${what} (last /readyz: ${last})`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for vifd to be ${what} (last /readyz: ${last})`);
    await sleep(o.pollMs ?? 10);
  }
}

/** Resolves once vifd answers /readyz at all: it loaded its desired state and its first round is starting. */
export function waitServing(stateDir: string, o: WaitOptions = {}): Promise<void> {
  return waitUntil(stateDir, (r) => r.state !== 'down', 'serving', o);
}

/** Resolves once /readyz answers 200: the first full reconcile is done. */
export function waitReady(stateDir: string, o: WaitOptions = {}): Promise<void> {
  return waitUntil(stateDir, (r) => r.state === 'ready', 'ready', o);
}
