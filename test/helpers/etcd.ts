// A private etcd for a test file: free loopback ports (127.0.0.1 only), its
// own temporary data directory; stop() kills it and removes the directory.
// restart() keeps the data (same ports), as an operator's restart does.
// Optionally TLS (certificates from makePki, made with openssl in a temp dir),
// and a cluster of several members (TestEtcdCluster), each stopped by pid.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface CertFiles {
  cert: string;
  key: string;
}

export interface Pki {
  dir: string;
  /** The CA that signs the server and client certificates. */
  ca: string;
  server: CertFiles;
  /** A client certificate with CN=`name` (or the subject `name` if it starts with /), signed by the CA (days < 0: already expired). */
  client(name: string, days?: number): CertFiles;
  /** Another CA and a client certificate it signs: not trusted by etcd. */
  rogue: { ca: string; client: CertFiles };
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function signed(dir: string, ca: string, name: string, cn: string, ext: string, days: number): CertFiles {
  const extFile = join(dir, `${name}.ext`);
  writeFileSync(extFile, ext);
  openssl(dir, 'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', cn.startsWith('/') ? cn : `/CN=${cn}`);
  openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', String(days), '-extfile', extFile);
  return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`) };
}

/** A CA, a server certificate for 127.0.0.1 and client certificates, in `dir`. */
export function makePki(dir: string): Pki {
  const makeCa = (name: string) => openssl(dir, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${name}`);
  makeCa('ca');
  makeCa('rogue-ca');
  const server = signed(dir, 'ca', 'server', 'etcd-test', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n', 2);
  let n = 0;
  const client = (name: string, days = 2) => signed(dir, "ca", `client-${name.replace(/[^A-Za-z0-9-]/gu, "_")}-${n++}`, name, 'extendedKeyUsage=clientAuth\n', days);
  return { dir, ca: join(dir, 'ca.crt'), server, client, rogue: { ca: join(dir, 'rogue-ca.crt'), client: signed(dir, 'rogue-ca', 'rogue-client', 'rogue', 'extendedKeyUsage=clientAuth\n', 2) } };
}

export interface TestEtcdOptions {
  /** Serve clients over https with this server certificate; with `clientCertAuth`, require client certificates signed by `ca`. */
  tls?: { ca: string; server: CertFiles; clientCertAuth?: boolean; client?: CertFiles };
}

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
  /** Extra etcdctl arguments (e.g. `--user root:pw` once auth is on). */
  ctlArgs: string[] = [];
  /** Members of the cluster this one belongs to (`name=peerURL,...`); itself alone by default. */
  initialCluster: string | undefined;
  clusterToken = 'vifd-test';

  constructor(
    readonly dataDir: string,
    readonly clientPort: number,
    readonly peerPort: number,
    readonly options: TestEtcdOptions = {},
    readonly name = 'test',
  ) {}

  get url(): string {
    return `${this.options.tls ? 'https' : 'http'}://127.0.0.1:${this.clientPort}`;
  }

  get peerUrl(): string {
    return `http://127.0.0.1:${this.peerPort}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  static async start(options: TestEtcdOptions = {}): Promise<TestEtcd> {
    const etcd = new TestEtcd(mkdtempSync(join(tmpdir(), 'vifd-etcd-')), await freePort(), await freePort(), options);
    await etcd.launch();
    return etcd;
  }

  private healthy(): Promise<boolean> {
    const tls = this.options.tls;
    if (!tls) return fetch(`${this.url}/health`).then((res) => res.ok, () => false);
    return new Promise((resolve) => {
      const client = tls.client ?? tls.server;
      const req = httpsRequest(`${this.url}/health`, { ca: readFileSync(tls.ca), cert: readFileSync(client.cert), key: readFileSync(client.key), agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      });
      req.on('error', () => resolve(false));
      req.end();
    });
  }

  async launch(): Promise<void> {
    const client = this.url;
    const peer = this.peerUrl;
    const tls = this.options.tls;
    this.child = spawn(
      'etcd',
      [
        '--name', this.name,
        '--data-dir', join(this.dataDir, 'data'),
        '--listen-client-urls', client,
        '--advertise-client-urls', client,
        '--listen-peer-urls', peer,
        '--initial-advertise-peer-urls', peer,
        '--initial-cluster', this.initialCluster ?? `${this.name}=${peer}`,
        '--initial-cluster-token', this.clusterToken,
        '--log-level', 'warn',
        ...(tls ? ['--cert-file', tls.server.cert, '--key-file', tls.server.key] : []),
        ...(tls?.clientCertAuth ? ['--client-cert-auth', '--trusted-ca-file', tls.ca] : []),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const collect = (chunk: Buffer) => this.logs.push(...chunk.toString().split('\n').filter(Boolean).slice(-50));
    this.child.stdout!.on('data', collect);
    this.child.stderr!.on('data', collect);
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (await this.healthy()) return;
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
    const tls = this.options.tls;
    const client = tls?.client ?? tls?.server;
    const tlsArgs = tls ? ['--cacert', tls.ca, '--cert', client!.cert, '--key', client!.key] : [];
    return execFileSync('etcdctl', ['--endpoints', this.url, ...tlsArgs, ...this.ctlArgs, ...args], { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } });
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

/** A cluster of `size` members on loopback (distinct ports, temp data dirs). */
export class TestEtcdCluster {
  private constructor(readonly members: TestEtcd[]) {}

  static async start(size = 3): Promise<TestEtcdCluster> {
    const members: TestEtcd[] = [];
    const token = `vifd-test-${process.pid}-${Date.now()}`;
    for (let i = 0; i < size; i++) members.push(new TestEtcd(mkdtempSync(join(tmpdir(), `vifd-etcd${i}-`)), await freePort(), await freePort(), {}, `m${i}`));
    const initial = members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
    for (const m of members) {
      m.initialCluster = initial;
      m.clusterToken = token;
    }
    const cluster = new TestEtcdCluster(members);
    try {
      await Promise.all(members.map((m) => m.launch()));
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** `--etcd` value: every member's client URL. */
  get urls(): string {
    return this.members.map((m) => m.url).join(',');
  }

  /** etcdctl against every member (the client fails over). */
  ctl(...args: string[]): string {
    return execFileSync('etcdctl', ['--endpoints', this.urls, ...args], { encoding: 'utf8', env: { ...process.env, ETCDCTL_API: '3' } });
  }

  put(key: string, value: unknown): void {
    this.ctl('put', key, typeof value === 'string' ? value : JSON.stringify(value));
  }

  get(key: string): string | undefined {
    const out = this.ctl('get', key, '--print-value-only');
    return out === '' ? undefined : out.replace(/\n$/u, '');
  }

  async stop(): Promise<void> {
    await Promise.all(this.members.map((m) => m.stop()));
  }
}
