// A private etcd for a test file: free loopback ports (127.0.0.1 only), its
// own temporary data directory; stop() kills it and removes the directory.
// restart() keeps the data (same ports), as an operator's restart does.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export class TestEtcd {
  private child: ChildProcess | undefined;
  readonly logs: string[] = [];

  private constructor(
    readonly dataDir: string,
    readonly clientPort: number,
    readonly peerPort: number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.clientPort}`;
  }

  static async start(): Promise<TestEtcd> {
    const etcd = new TestEtcd(mkdtempSync(join(tmpdir(), 'vifd-etcd-')), await freePort(), await freePort());
    await etcd.launch();
    return etcd;
  }

  async launch(): Promise<void> {
    const client = this.url;
    const peer = `http://127.0.0.1:${this.peerPort}`;
    this.child = spawn(
      'etcd',
      [
        '--name', 'test',
        '--data-dir', join(this.dataDir, 'data'),
        '--listen-client-urls', client,
        '--advertise-client-urls', client,
        '--listen-peer-urls', peer,
        '--initial-advertise-peer-urls', peer,
        '--initial-cluster', `test=${peer}`,
        '--log-level', 'warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const collect = (chunk: Buffer) => this.logs.push(...chunk.toString().split('\n').filter(Boolean).slice(-50));
    this.child.stdout!.on('data', collect);
    this.child.stderr!.on('data', collect);
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        const res = await fetch(`${client}/health`);
        if (res.ok) return;
      } catch {
        // not yet listening
      }
      if (this.child.exitCode !== null) throw new Error(`etcd exited: ${this.logs.slice(-5).join('\n')}`);
      if (Date.now() > deadline) throw new Error(`etcd did not become healthy: ${this.logs.slice(-5).join('\n')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Kills etcd (data kept). */
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await exited;
  }

  async restart(downMs = 0): Promise<void> {
    await this.kill();
    if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
    await this.launch();
  }

  async stop(): Promise<void> {
    await this.kill('SIGKILL').catch(() => undefined);
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** Runs etcdctl against this etcd; returns stdout. */
  ctl(...args: string[]): string {
    return execFileSync('etcdctl', ['--endpoints', this.url, ...args], { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } });
  }

  put(key: string, value: unknown): void {
    this.ctl('put', key, typeof value === 'string' ? value : JSON.stringify(value));
  }

  get(key: string): string | undefined {
    const out = this.ctl('get', key, '--print-value-only');
    return out === '' ? undefined : out.replace(/\n$/u, '');
  }

  /** Every key under a prefix with its value. */
  getPrefix(prefix: string): Map<string, string> {
    const out = JSON.parse(this.ctl('get', prefix, '--prefix', '-w', 'json')) as { kvs?: Array<{ key: string; value: string }> };
    return new Map((out.kvs ?? []).map((kv) => [Buffer.from(kv.key, 'base64').toString(), Buffer.from(kv.value, 'base64').toString()]));
  }

  /** The store's current revision. */
  revision(): number {
    const out = JSON.parse(this.ctl('get', '/', '-w', 'json')) as { header: { revision: number } };
    return Number(out.header.revision);
  }
}
