import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jwtRefreshAt } from '../../src/sources/etcd/client.js';
import { EtcdTlsFileError } from '../../src/sources/etcd/errors.js';
import { tlsFailureSide } from '../../src/sources/etcd/http.js';
import { loadTlsMaterial, TlsAgents } from '../../src/sources/etcd/tls.js';
import { makePki, type Pki } from '../helpers/etcd.js';

let dir: string;
let pki: Pki;
const DAY = 86_400_000;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vifd-tls-unit-'));
  pki = makePki(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('etcd TLS files', () => {
  it('accepts a good CA, certificate and key, and names the file and the reason otherwise', () => {
    const c = pki.client('/O=vifd/OU=h');
    const m = loadTlsMaterial({ cacert: pki.ca, cert: c.cert, key: c.key });
    expect(m.certNotAfter!.getTime()).toBeGreaterThan(Date.now());
    const later = new Date(Date.now() + 3 * DAY);
    expect(() => loadTlsMaterial({ cacert: pki.ca }, later)).toThrow(new RegExp(`--etcd-cacert ${pki.ca}: the certificate expired on`, 'u'));
    expect(() => loadTlsMaterial({ cert: c.cert })).toThrow(/--etcd-cert and --etcd-key go together/u);
    expect(() => loadTlsMaterial({ cert: c.cert, key: pki.rogue.client.key })).toThrow(/does not match the certificate/u);
    expect(() => loadTlsMaterial({ cacert: join(dir, 'absent.pem') })).toThrow(/cannot read/u);
    expect(() => loadTlsMaterial({ cert: c.key, key: c.key })).toThrow(/no PEM certificate/u);
    try {
      loadTlsMaterial({ cert: c.cert, key: pki.rogue.client.key });
    } catch (error) {
      expect(error).toBeInstanceOf(EtcdTlsFileError);
      expect((error as EtcdTlsFileError).code).toBe('ETCD_TLS_FILE_INVALID');
      expect((error as EtcdTlsFileError).option).toBe('etcd-key');
    }
  });

  it('re-reads changed files at most every checkEveryMs, keeps the last good material on a bad change, reports expiry once', () => {
    const cert = join(dir, 'rot.crt');
    const key = join(dir, 'rot.key');
    const install = (from: { cert: string; key: string }) => {
      for (const [a, b] of [[from.key, key], [from.cert, cert]] as const) {
        copyFileSync(a, `${b}.new`);
        renameSync(`${b}.new`, b);
      }
    };
    install(pki.client('/O=vifd/OU=r1'));
    const failures: string[] = [];
    const agents = new TlsAgents({ cacert: pki.ca, cert, key }, { onFailure: (e) => failures.push(e.message) }, 5000);
    const t0 = Date.now() + 10_000;
    const first = agents.agent(t0);
    install(pki.client('/O=vifd/OU=r2'));
    expect(agents.agent(t0 + 1000)).toBe(first); // not checked yet
    const second = agents.agent(t0 + 6000);
    expect(second).not.toBe(first);
    expect(agents.reloads).toBe(1);
    writeFileSync(`${cert}.new`, 'garbage\n');
    renameSync(`${cert}.new`, cert);
    expect(agents.agent(t0 + 12_000)).toBe(second);
    expect(agents.agent(t0 + 18_000)).toBe(second); // the same bad file is reported once
    expect(failures).toHaveLength(1);
    expect(failures[0]).toContain('no PEM certificate');
    agents.agent(t0 + 3 * DAY);
    agents.agent(t0 + 3 * DAY + 6000);
    expect(failures.filter((f) => f.includes('the certificate in use expired'))).toHaveLength(1);
    expect(agents.failures).toBe(2);
    agents.destroy();
  });

  it('tells which side a TLS failure is about', () => {
    expect(tlsFailureSide({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' })).toBe('server-certificate');
    expect(tlsFailureSide({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' })).toBe('server-certificate');
    expect(tlsFailureSide({ code: 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE' })).toBe('client-certificate');
    expect(tlsFailureSide({ code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' })).toBe('client-certificate');
    expect(tlsFailureSide({ code: 'ECONNREFUSED' })).toBeUndefined();
  });
});

describe('etcd auth tokens', () => {
  it('refreshes a JWT token before its exp, and a simple token only when refused', () => {
    const now = 1_000_000_000_000;
    const jwt = (exp: number) => `h.${Buffer.from(JSON.stringify({ exp })).toString('base64url')}.s`;
    const at = jwtRefreshAt(jwt(now / 1000 + 300), now)!;
    expect(at).toBeLessThan(now + 300_000);
    expect(at).toBeGreaterThan(now + 200_000);
    expect(jwtRefreshAt('KCXmtWZWqMhkUVsX.42', now)).toBeUndefined();
  });
});
