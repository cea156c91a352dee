import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../src/cli/args.js';
import { etcdRunOptions } from '../../src/cli/etcd-args.js';

const dir = mkdtempSync(join(tmpdir(), 'vifd-etcdargs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const base = { hostname: 'h1', 'etcd-lease-seconds': '10', 'etcd-initial-timeout-seconds': '10' };

describe('etcd run options', () => {
  it('accepts user + password file and passes them on', () => {
    const pw = join(dir, 'pw');
    writeFileSync(pw, 'secret\n');
    const o = etcdRunOptions({ ...base, etcd: 'http://127.0.0.1:2379', 'etcd-user': 'vifd-host-h1', 'etcd-password-file': pw });
    expect(o?.auth).toEqual({ user: 'vifd-host-h1', passwordFile: pw });
    expect(o?.tls).toBeUndefined();
  });
  it('refuses inconsistent or misplaced options with a usage error', () => {
    expect(() => etcdRunOptions({ ...base, etcd: 'http://127.0.0.1:2379', 'etcd-cacert': '/x' })).toThrow(/--etcd-cacert needs https/u);
    expect(() => etcdRunOptions({ ...base, etcd: 'http://127.0.0.1:2379', 'etcd-user': 'u' })).toThrow(UsageError);
    expect(() => etcdRunOptions({ ...base, 'etcd-user': 'u' })).toThrow(/--etcd-user needs --etcd/u);
  });
  it('names a missing or empty password file and a missing certificate file', () => {
    expect(() => etcdRunOptions({ ...base, etcd: 'http://127.0.0.1:2379', 'etcd-user': 'u', 'etcd-password-file': join(dir, 'absent') })).toThrow(/--etcd-password-file .*absent: cannot read/u);
    const empty = join(dir, 'empty');
    writeFileSync(empty, '\n');
    expect(() => etcdRunOptions({ ...base, etcd: 'http://127.0.0.1:2379', 'etcd-user': 'u', 'etcd-password-file': empty })).toThrow(/empty/u);
    expect(() => etcdRunOptions({ ...base, etcd: 'https://127.0.0.1:2379', 'etcd-cacert': join(dir, 'ca.pem') })).toThrow(/--etcd-cacert .*ca\.pem: cannot read/u);
  });
});
