// etcd over TLS with client certificates (a CA, server and client
// certificates made here with openssl), certificate rotation without restart,
// and etcd authentication with the per-host role of scripts/etcd-host-role.sh:
// a wrong certificate, an expired one and a wrong password are clear errors at
// start; host A's credentials cannot read host B's bindings.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { makePki, TestEtcd, type CertFiles, type Pki } from '../helpers/etcd.js';
import { createNetns, deleteNetns, linksIn, uniqueNetnsName } from '../helpers/netns.js';
import { bridgeBinding, makeDirs, portUuid, removeDirs, VIFD_BIN, VifdProcess, waitFor, type VifdDirs } from '../helpers/vifd-process.js';

const netns = uniqueNetnsName('etcds');
const hostA = `a-${netns}`;
const hostB = `b-${netns}`;
const bridge = 'br-etcds';
const ROLE_SCRIPT = resolve(import.meta.dirname, '../../scripts/etcd-host-role.sh');
let pki: Pki;
let etcd: TestEtcd;
let dirs: VifdDirs;
let vifd: VifdProcess | undefined;
let tmp: string;
/** The client certificate files vifd is given (rotated in place by the test). */
let certFile: string;
let keyFile: string;

const tapOf = (n: number) => `tap${portUuid(n)}`.slice(0, 14);
const bindingKey = (host: string, n: number) => `/vifd/v1/hosts/${host}/bindings/${portUuid(n)}`;
const phaseInEtcd = (host: string, n: number) => {
  const value = etcd.get(`/vifd/v1/hosts/${host}/status/${portUuid(n)}`);
  return value ? (JSON.parse(value) as { phase: string }).phase : undefined;
};
const summary = () => JSON.parse(readFileSync(join(dirs.state, 'summary.json'), 'utf8')) as Record<string, number>;
const tlsArgs = () => ['--etcd', etcd.url, '--etcd-cacert', pki.ca, '--etcd-cert', certFile, '--etcd-key', keyFile];

/** Replaces the cert and key vifd reads, each atomically (as a cert manager does). */
function install(files: CertFiles): void {
  for (const [from, to] of [[files.key, keyFile], [files.cert, certFile]] as const) {
    copyFileSync(from, `${to}.new`);
    renameSync(`${to}.new`, to);
  }
}

/** Runs `vifd run` expected to fail at start; returns its exit code and stderr. */
function runFailing(args: string[], dirsFor: VifdDirs): { status: number | null; stderr: string } {
  const res = spawnSync(process.execPath, [VIFD_BIN, 'run', '--desired-dir', dirsFor.desired, '--state-dir', dirsFor.state, '--netns', netns, '--etcd-initial-timeout-seconds', '10', ...args], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: res.status, stderr: res.stderr };
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'vifd-etcds-'));
  pki = makePki(tmp);
  // The admin (etcdctl) certificate has a CN; vifd's have none: with auth on,
  // etcd's JSON gateway refuses certificates that carry a CN.
  etcd = await TestEtcd.start({ tls: { ca: pki.ca, server: pki.server, clientCertAuth: true, client: pki.client('root') } });
  createNetns(netns);
  dirs = makeDirs('etcds');
  certFile = join(tmp, 'vifd.crt');
  keyFile = join(tmp, 'vifd.key');
  install(pki.client(`/O=vifd/OU=${hostA}`));
});

afterAll(async () => {
  await vifd?.stop('SIGKILL');
  await etcd?.stop();
  deleteNetns(netns);
  if (dirs) removeDirs(dirs);
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('etcd over TLS', () => {
  it('refuses a client certificate etcd does not trust, an expired one and a mismatched key, with the file and the reason', () => {
    const other = makeDirs('etcds-bad');
    try {
      const rogue = runFailing(['--hostname', hostA, '--etcd', etcd.url, '--etcd-cacert', pki.ca, '--etcd-cert', pki.rogue.client.cert, '--etcd-key', pki.rogue.client.key], other);
      expect(rogue.status).toBe(1);
      expect(rogue.stderr).toContain(`etcd rejected the client certificate --etcd-cert ${pki.rogue.client.cert}`);
      expect(rogue.stderr).toContain('[ETCD_TLS_HANDSHAKE_FAILED]');

      const untrusted = runFailing(['--hostname', hostA, '--etcd', etcd.url, '--etcd-cacert', pki.rogue.ca, '--etcd-cert', certFile, '--etcd-key', keyFile], other);
      expect(untrusted.status).toBe(1);
      expect(untrusted.stderr).toContain(`the server's certificate is not trusted by --etcd-cacert ${pki.rogue.ca}`);

      const expired = pki.client('/O=vifd/OU=expired', -1);
      const old = runFailing(['--hostname', hostA, '--etcd', etcd.url, '--etcd-cacert', pki.ca, '--etcd-cert', expired.cert, '--etcd-key', expired.key], other);
      expect(old.status).toBe(1);
      expect(old.stderr).toMatch(new RegExp(`--etcd-cert ${expired.cert}: the certificate expired on `, 'u'));
      expect(old.stderr).toContain('[ETCD_TLS_FILE_INVALID]');

      const mismatch = runFailing(['--hostname', hostA, '--etcd', etcd.url, '--etcd-cacert', pki.ca, '--etcd-cert', certFile, '--etcd-key', pki.rogue.client.key], other);
      expect(mismatch.status).toBe(1);
      expect(mismatch.stderr).toContain(`--etcd-key ${pki.rogue.client.key}: does not match the certificate in ${certFile}`);
    } finally {
      removeDirs(other);
    }
  });

  it('plugs bindings from an https etcd with a client certificate and writes statuses back', async () => {
    etcd.put(bindingKey(hostA, 1), bridgeBinding(1, bridge));
    vifd = VifdProcess.run(dirs, netns, [...tlsArgs(), '--hostname', hostA, '--etcd-lease-seconds', '3']);
    await waitFor(() => linksIn(netns).has(tapOf(1)), 15_000, 'tap from etcd over TLS');
    await waitFor(() => phaseInEtcd(hostA, 1) === 'Ready', 10_000, 'Ready in etcd');
  });

  it('picks up rotated certificate files without a restart; bad ones are counted and change nothing', async () => {
    const ifindex = linksIn(netns).get(tapOf(1))!.ifindex;
    // An untrusted certificate: new connections fail (counted), the plugged port stays.
    install(pki.rogue.client);
    await waitFor(() => summary()['etcdTlsReloads']! >= 1, 15_000, 'rogue certificate read');
    await waitFor(() => summary()['etcdTlsHandshakeFailures']! > 0, 15_000, 'refused handshakes counted');
    expect(linksIn(netns).get(tapOf(1))?.ifindex).toBe(ifindex);
    // A new good certificate: status writes work again (over new connections).
    install(pki.client(`/O=vifd/OU=${hostA}-rotated`));
    const reloads = summary()['etcdTlsReloads']!;
    await waitFor(() => summary()['etcdTlsReloads']! > reloads, 15_000, 'new certificate read');
    etcd.put(bindingKey(hostA, 2), bridgeBinding(2, bridge));
    await waitFor(() => linksIn(netns).has(tapOf(2)) && phaseInEtcd(hostA, 2) === 'Ready', 20_000, 'binding 2 Ready after rotation');
    // Garbage in the certificate file: logged and counted, the last good material stays in use.
    const failures = summary()['etcdTlsFileFailures']!;
    writeFileSync(`${certFile}.new`, 'not a certificate\n');
    renameSync(`${certFile}.new`, certFile);
    await waitFor(() => summary()['etcdTlsFileFailures']! > failures, 15_000, 'unusable file counted');
    await vifd!.waitForLog(/^(?=.*etcd TLS files unusable)(?=.*no PEM certificate)/u);
    etcd.put(bindingKey(hostA, 3), bridgeBinding(3, bridge));
    await waitFor(() => phaseInEtcd(hostA, 3) === 'Ready', 20_000, 'binding 3 Ready with the last good certificate');
    expect(linksIn(netns).get(tapOf(1))?.ifindex).toBe(ifindex);
    install(pki.client(`/O=vifd/OU=${hostA}-again`));
    expect(await vifd!.stop()).toBe(0);
    vifd = undefined;
  });
});

describe('etcd authentication and per-host roles', () => {
  let passwordA: string;
  let wrongPassword: string;
  beforeAll(() => {
    passwordA = join(tmp, 'a.password');
    wrongPassword = join(tmp, 'wrong.password');
    const rootPassword = join(tmp, 'root.password');
    writeFileSync(passwordA, 'secret-a\n', { mode: 0o600 });
    writeFileSync(wrongPassword, 'not-it\n', { mode: 0o600 });
    writeFileSync(rootPassword, 'root-pw\n', { mode: 0o600 });
    etcd.ctl('user', 'add', 'root', '--new-user-password', 'root-pw');
    const tls = etcd.options.tls!;
    const env = { ...process.env, ETCDCTL_ENDPOINTS: etcd.url, ETCDCTL_CACERT: tls.ca, ETCDCTL_CERT: tls.client!.cert, ETCDCTL_KEY: tls.client!.key };
    for (const host of [hostA, hostB]) execFileSync('bash', [ROLE_SCRIPT, host, host === hostA ? passwordA : wrongPassword], { env, encoding: 'utf8' });
    execFileSync('bash', [ROLE_SCRIPT, '--fleet-reader', 'vifd-fleet', rootPassword], { env, encoding: 'utf8' });
    etcd.ctl('auth', 'enable');
    etcd.ctlArgs = ['--user', 'root:root-pw'];
    etcd.put(bindingKey(hostB, 9), bridgeBinding(9, bridge));
  });

  it('gives each host role read on its bindings and write on its status and alive keys only', () => {
    const role = etcd.ctl('role', 'get', `vifd-host-${hostA}`);
    expect(role).toContain(`/vifd/v1/hosts/${hostA}/bindings/`);
    expect(role).toContain(`/vifd/v1/hosts/${hostA}/status/`);
    expect(role).toContain(`/vifd/v1/hosts/${hostA}/alive`);
    expect(role).not.toContain(hostB);
  });

  it('a wrong password is a clear error at start', () => {
    const other = makeDirs('etcds-pw');
    try {
      const res = runFailing([...tlsArgs(), '--hostname', hostA, '--etcd-user', `vifd-host-${hostA}`, '--etcd-password-file', wrongPassword], other);
      expect(res.status).toBe(1);
      expect(res.stderr).toContain(`authentication failed for user vifd-host-${hostA}`);
      expect(res.stderr).toContain(`--etcd-password-file ${wrongPassword}`);
      expect(res.stderr).toContain('[ETCD_AUTH_FAILED]');
    } finally {
      removeDirs(other);
    }
  });

  it("host A's credentials cannot read host B's bindings: permission denied, said clearly", () => {
    const other = makeDirs('etcds-perm');
    try {
      const res = runFailing([...tlsArgs(), '--hostname', hostB, '--etcd-user', `vifd-host-${hostA}`, '--etcd-password-file', passwordA], other);
      expect(res.status).toBe(1);
      expect(res.stderr).toContain(`permission denied for range /vifd/v1/hosts/${hostB}/bindings/ (user vifd-host-${hostA})`);
      expect(res.stderr).toContain('[ETCD_PERMISSION_DENIED]');
      expect(linksIn(netns).has(tapOf(9))).toBe(false);
    } finally {
      removeDirs(other);
    }
    const status = spawnSync(process.execPath, [VIFD_BIN, 'status', ...tlsArgs(), '--hostname', hostB, '--etcd-user', `vifd-host-${hostA}`, '--etcd-password-file', passwordA], { encoding: 'utf8' });
    expect(status.status).toBe(1);
    expect(status.stderr).toContain('permission denied');
  });

  it("runs with host A's credentials: its bindings plugged, statuses and alive key written on the lease", async () => {
    etcd.put(bindingKey(hostA, 4), bridgeBinding(4, bridge));
    vifd = VifdProcess.run(dirs, netns, [...tlsArgs(), '--hostname', hostA, '--etcd-user', `vifd-host-${hostA}`, '--etcd-password-file', passwordA, '--etcd-lease-seconds', '3']);
    await waitFor(() => linksIn(netns).has(tapOf(4)), 15_000, 'tap 4 with auth');
    await waitFor(() => phaseInEtcd(hostA, 4) === 'Ready' && phaseInEtcd(hostA, 1) === 'Ready', 10_000, 'Ready written with auth');
    expect(etcd.get(`/vifd/v1/hosts/${hostA}/alive`)).toBeDefined();
    expect(summary()['etcdAuthentications']).toBeGreaterThanOrEqual(1);
    expect(summary()['etcdPermissionDenied']).toBe(0);
    // The fleet view with a read-only fleet user.
    const fleet = execFileSync(process.execPath, [VIFD_BIN, 'status', ...tlsArgs(), '--etcd-user', 'vifd-fleet', '--etcd-password-file', join(tmp, 'root.password')], { encoding: 'utf8' });
    expect(fleet).toMatch(new RegExp(`${hostA}\\s+alive`, 'u'));
    expect(fleet).toMatch(new RegExp(`${hostB}\\s+DOWN`, 'u'));
    expect(await vifd!.stop()).toBe(0);
    vifd = undefined;
  });
});
