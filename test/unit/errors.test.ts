// Every error class vifd exports is a VifdError with a stable, non-empty
// code. The modules' exports are walked, so a new class on the old pattern
// (`extends Error`, a code by hand) fails here, and so does one nobody added
// to the table of examples below.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as apiClient from '../../src/api/client.js';
import * as apiErrors from '../../src/api/errors.js';
import * as cliOptions from '../../src/cli/options.js';
import * as cliStatusApi from '../../src/cli/status-api.js';
import * as daemon from '../../src/daemon.js';
import * as hostErrors from '../../src/errors/host-errors.js';
import { VifdError } from '../../src/errors/vifd-error.js';
import * as hostUuid from '../../src/host/host-uuid.js';
import * as ovsdbErrors from '../../src/host/ovsdb/errors.js';
import * as portProfileErrors from '../../src/host/portprofile/errors.js';
import * as jsonSplitter from '../../src/lib/json-splitter.js';
import * as etcdErrors from '../../src/sources/etcd/errors.js';
import * as etcdHttp from '../../src/sources/etcd/http.js';
import * as stateLock from '../../src/state/lock.js';
import * as statusStore from '../../src/state/status-store.js';

const MODULES = { apiClient, apiErrors, cliOptions, cliStatusApi, daemon, hostErrors, hostUuid, ovsdbErrors, portProfileErrors, jsonSplitter, etcdErrors, etcdHttp, stateLock, statusStore };

type ErrorClass = abstract new (...args: never[]) => Error;
const isErrorClass = (v: unknown): v is ErrorClass => typeof v === 'function' && v.prototype instanceof Error;

const cmd = { uplink: 'eth1', command: ['vdptool', '-t'], exitCode: 1, stderr: 'no', stdout: '' };
/** One instance of each concrete class, built as its callers build it. */
const EXAMPLES: Error[] = [
  new apiClient.ApiUnreachableError('unix:/run/vifd.sock', new Error('ENOENT')),
  new apiClient.ApiWatchError('API_WATCH_REFUSED', 'watch answered HTTP 410', { fields: { where: 'unix:/run/vifd.sock', status: 410 } }),
  new apiErrors.InvalidRequestError([{ path: 'mac', message: 'required' }]),
  new apiErrors.UnauthorizedError(),
  new apiErrors.NotFoundError('no binding x'),
  new apiErrors.MethodNotAllowedError('PATCH', ['GET', 'PUT']),
  new apiErrors.BindingConflictError('port held', 'directory'),
  new apiErrors.PayloadTooLargeError(1024),
  new apiErrors.PersistError('p', new Error('EROFS')),
  new apiErrors.NotReadyError('starting'),
  new apiErrors.ApiAddressError('--api x: expected unix:PATH or tcp:HOST:PORT'),
  new apiErrors.ApiSocketInUseError('/run/vifd.sock'),
  new cliOptions.UsageError('bad', 'run'),
  new cliOptions.HelpRequest('run'),
  new cliStatusApi.ApiStatusError(500, 'boom'),
  new daemon.NetnsMissingError('nope'),
  new hostErrors.HostCommandError({ command: ['ip', 'link'], exitCode: 2, stderr: 'RTNETLINK answers: File exists' }),
  new hostErrors.LinkActionError({ line: 'link add x type bridge', lineNumber: 1, message: 'File exists' }),
  new hostUuid.HostUuidError(['product_uuid: EACCES']),
  new ovsdbErrors.OvsdbAddressError('tcp:1'),
  new ovsdbErrors.OvsdbConnectError({ path: '/run/db.sock', cause: Object.assign(new Error('x'), { code: 'ENOENT' }) }),
  new ovsdbErrors.OvsdbClosedError({ method: 'transact' }),
  new ovsdbErrors.OvsdbTimeoutError({ method: 'transact', timeoutMs: 10 }),
  new ovsdbErrors.OvsdbRpcError({ method: 'monitor', rpcError: 'unknown database' }),
  new ovsdbErrors.OvsdbProtocolError({ message: 'bad byte' }),
  new ovsdbErrors.OvsdbTransactionError({ failures: [{ index: 0, op: 'insert', table: 'Port', error: 'constraint violation', details: undefined, syntax: undefined }], results: [] }),
  new ovsdbErrors.OvsdbReconfigureTimeoutError({ nextCfg: 3, timeoutMs: 10 }),
  new ovsdbErrors.OvsdbNotConnectedError({ address: 'unix:/x', method: 'transact' }),
  new ovsdbErrors.OvsChangesError(['port p on no bridge']),
  new portProfileErrors.PortProfileUnsupportedError({ uplink: 'eth1', errno: 95 }),
  new portProfileErrors.PortProfileNetlinkError({ uplink: 'eth1', errno: 19, errnoName: 'ENODEV' }),
  new portProfileErrors.PortProfileRejectedError({ uplink: 'eth1', response: 0x102, responseName: 'INVALID_FORMAT' }),
  new portProfileErrors.PortProfileTimeoutError({ uplink: 'eth1', waitedMs: 100 }),
  new portProfileErrors.NetlinkHelperError({ ...cmd, reason: 'crashed' }),
  new portProfileErrors.LldpadNotRunningError(cmd),
  new portProfileErrors.VdptoolError({ ...cmd, reason: 'not found' }),
  new portProfileErrors.VdpCommandError({ ...cmd, answer: 'FAILED' }),
  new portProfileErrors.VdpRejectedError({ ...cmd, answer: 'deassoc' }),
  new portProfileErrors.VdpTimeoutError({ ...cmd, waitedMs: 100 }),
  new jsonSplitter.JsonSplitError('unexpected byte 0x20', ' x'),
  new etcdErrors.EtcdUnavailableError({ endpoints: ['http://a:2379'], path: '/v3/kv/range' }),
  new etcdErrors.EtcdRequestError({ endpoint: 'http://a:2379', path: '/v3/kv/range', httpStatus: 400, body: '{"error":"x","code":3}' }),
  new etcdErrors.EtcdCompactedError({ requestedRevision: 3, compactRevision: 9 }),
  new etcdErrors.EtcdWatchEndedError({ endpoint: 'http://a:2379', reason: 'canceled' }),
  new etcdErrors.EtcdKeyError('/vifd/x', 'not a port id'),
  new etcdErrors.EtcdTlsFileError({ option: 'etcd-cacert', file: '/ca.pem', reason: 'not PEM' }),
  new etcdErrors.EtcdTlsHandshakeError({ endpoint: 'https://a:2379', side: 'server-certificate', reason: 'self-signed' }),
  new etcdErrors.EtcdAuthError({ endpoint: 'http://a:2379', user: 'u', reason: 'invalid password' }),
  new etcdErrors.EtcdPermissionError({ endpoint: 'http://a:2379', what: 'range', user: 'u' }),
  new etcdErrors.EtcdPasswordFileError('/pw', 'empty'),
  new etcdHttp.EtcdConnectionError('http://a:2379', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })),
  new stateLock.StateLockedError('/var/lib/vifd', 42),
  new statusStore.NotAPortIdError('../etc'),
];

/** Bases with no instance of their own. */
const ABSTRACT = new Set(['ApiError', 'OvsdbError', 'PortProfileError']);

const exported = Object.entries(MODULES).flatMap(([module, exports]) =>
  Object.entries(exports)
    .filter(([, value]) => isErrorClass(value))
    .map(([name, value]) => ({ module, name, cls: value as ErrorClass })),
);

describe('error classes', () => {
  it('the modules export error classes (the walk finds them)', () => {
    expect(exported.length).toBeGreaterThan(40);
  });

  it.each(exported.map((e) => [`${e.module}.${e.name}`, e] as const))('%s extends VifdError', (_label, { cls }) => {
    expect(cls.prototype).toBeInstanceOf(VifdError);
  });

  it.each(EXAMPLES.map((e) => [e.constructor.name, e] as const))('%s: a VifdError with a code, its class name and a message', (_label, error) => {
    expect(error).toBeInstanceOf(VifdError);
    const e = error as VifdError;
    expect(typeof e.code).toBe('string');
    expect(e.code).toMatch(/^[A-Z][A-Z0-9_]+$/u);
    expect(e.name).toBe(e.constructor.name);
    expect(e.message.length).toBeGreaterThan(0);
    expect(e.toJSON()).toMatchObject({ name: e.name, code: e.code, message: e.message });
  });

  it('every exported class but the abstract bases has an example above', () => {
    const missing = exported.filter(({ name, cls }) => !ABSTRACT.has(name) && !EXAMPLES.some((e) => e.constructor === cls)).map((e) => e.name);
    expect(missing).toEqual([]);
  });

  it("an API error's fields are what its response body adds to code and message (the bodies stay as they were)", () => {
    const bodies = EXAMPLES.filter((e): e is apiErrors.ApiError => e instanceof apiErrors.ApiError).map((e) => [e.name, e.fields]);
    expect(Object.fromEntries(bodies)).toEqual({
      InvalidRequestError: { problems: [{ path: 'mac', message: 'required' }] },
      UnauthorizedError: {},
      NotFoundError: {},
      MethodNotAllowedError: {},
      BindingConflictError: { holder: 'directory' },
      PayloadTooLargeError: {},
      PersistError: {},
      NotReadyError: {},
    });
  });

  it('keeps the cause and the structured facts', () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const e = new etcdHttp.EtcdConnectionError('http://a:2379', cause);
    expect(e.cause).toBe(cause);
    expect(e.message).toBe('http://a:2379: connect ECONNREFUSED');
    expect(e.toJSON()).toEqual({ name: 'EtcdConnectionError', code: 'ETCD_CONNECTION_FAILED', message: e.message, endpoint: 'http://a:2379', tls: undefined });
    const r = new etcdErrors.EtcdRequestError({ endpoint: 'http://a:2379', path: '/v3/kv/range', httpStatus: 400, body: '{"error":"x","code":3}' });
    expect([r.grpcCode, r.fields['grpcCode']]).toEqual([3, 3]);
    const link = new hostErrors.LinkActionError({ line: 'link set x mtu 99999', lineNumber: 2, message: 'Numerical result out of range' });
    expect([link.code, link.retryable, link.fields['lineNumber']]).toEqual(['LINK_ACTION_REJECTED', false, 2]);
  });

  it('no class under src/ extends Error directly but VifdError itself', () => {
    const allowed = new Set(['src/errors/vifd-error.ts']);
    const root = join(import.meta.dirname, '../..');
    const offenders = (readdirSync(join(root, 'src'), { recursive: true }) as string[])
      .filter((f) => f.endsWith('.ts'))
      .map((f) => relative(root, join(root, 'src', f)))
      .filter((f) => !allowed.has(f) && /\bextends Error\b/u.test(readFileSync(join(root, f), 'utf8')));
    expect(offenders).toEqual([]);
  });
});
