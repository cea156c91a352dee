// Errors of the etcd source and client: a stable `code`, the `cause`, and
// structured fields (which endpoint, which HTTP status, which revision).
import { VifdError } from '../../errors/vifd-error.js';

/** No endpoint answered (connection refused, reset, timeout). */
export class EtcdUnavailableError extends VifdError<'ETCD_UNAVAILABLE'> {
  readonly endpoints: string[];
  constructor(f: { endpoints: string[]; path: string; cause?: unknown }) {
    const why = f.cause instanceof Error ? f.cause.message : String(f.cause ?? 'no endpoint');
    super('ETCD_UNAVAILABLE', `etcd unreachable (${f.endpoints.join(', ')}) for ${f.path}: ${why}`, { cause: f.cause, fields: { endpoints: f.endpoints, path: f.path } });
    this.endpoints = f.endpoints;
  }
}

/** The gRPC status code of the gateway's error body (`{"error","code"}`), if any. */
function grpcCodeOf(body: string): number | undefined {
  try {
    const code = (JSON.parse(body) as { code?: unknown }).code;
    return typeof code === 'number' ? code : undefined;
  } catch {
    return undefined;
  }
}

/** etcd answered with an HTTP error or a gRPC error body. */
export class EtcdRequestError extends VifdError<'ETCD_REQUEST_FAILED'> {
  readonly endpoint: string;
  readonly path: string;
  readonly httpStatus: number;
  readonly body: string;
  /** The gRPC status code of the gateway's error body (`{"error","code"}`), if any. */
  readonly grpcCode: number | undefined;
  constructor(f: { endpoint: string; path: string; httpStatus: number; body: string; cause?: unknown }) {
    const grpcCode = grpcCodeOf(f.body);
    super('ETCD_REQUEST_FAILED', `etcd ${f.endpoint}${f.path}: HTTP ${f.httpStatus}: ${f.body.slice(0, 300)}`, {
      cause: f.cause,
      fields: { endpoint: f.endpoint, path: f.path, httpStatus: f.httpStatus, body: f.body, grpcCode },
    });
    this.endpoint = f.endpoint;
    this.path = f.path;
    this.httpStatus = f.httpStatus;
    this.body = f.body;
    this.grpcCode = grpcCode;
  }
}

/** The revision a watch wanted to resume from was compacted away: relist. */
export class EtcdCompactedError extends VifdError<'ETCD_COMPACTED'> {
  readonly requestedRevision: number;
  readonly compactRevision: number;
  constructor(f: { requestedRevision: number; compactRevision: number }) {
    super('ETCD_COMPACTED', `watch from revision ${f.requestedRevision} refused: compacted up to ${f.compactRevision}`, {
      fields: { requestedRevision: f.requestedRevision, compactRevision: f.compactRevision },
    });
    this.requestedRevision = f.requestedRevision;
    this.compactRevision = f.compactRevision;
  }
}

/** The watch stream ended or was canceled by the server for another reason. */
export class EtcdWatchEndedError extends VifdError<'ETCD_WATCH_ENDED'> {
  readonly endpoint: string;
  readonly reason: string;
  constructor(f: { endpoint: string; reason: string; cause?: unknown }) {
    super('ETCD_WATCH_ENDED', `watch on ${f.endpoint} ended: ${f.reason}`, { cause: f.cause, fields: { endpoint: f.endpoint, reason: f.reason } });
    this.endpoint = f.endpoint;
    this.reason = f.reason;
  }
}

/** A value under the bindings prefix that cannot be a binding (wrong key shape). */
export class EtcdKeyError extends VifdError<'ETCD_BAD_KEY'> {
  readonly key: string;
  constructor(key: string, reason: string) {
    super('ETCD_BAD_KEY', `etcd key ${key}: ${reason}`, { fields: { key, reason } });
    this.key = key;
  }
}

/** A TLS file (--etcd-cacert/--etcd-cert/--etcd-key) that cannot be used:
 * unreadable, not PEM, expired or not yet valid, key not matching the cert. */
export class EtcdTlsFileError extends VifdError<'ETCD_TLS_FILE_INVALID'> {
  readonly option: string;
  readonly file: string;
  readonly reason: string;
  constructor(f: { option: string; file: string; reason: string; cause?: unknown }) {
    super('ETCD_TLS_FILE_INVALID', `--${f.option} ${f.file}: ${f.reason}`, { cause: f.cause, fields: { option: f.option, file: f.file, reason: f.reason } });
    this.option = f.option;
    this.file = f.file;
    this.reason = f.reason;
  }
}

/** The TLS handshake with etcd failed: the server's certificate is not
 * trusted (by --etcd-cacert), or etcd rejected the client certificate. */
export class EtcdTlsHandshakeError extends VifdError<'ETCD_TLS_HANDSHAKE_FAILED'> {
  readonly endpoint: string;
  /** Which side refused: we did not trust the server, or the server refused our certificate. */
  readonly side: 'server-certificate' | 'client-certificate';
  readonly reason: string;
  constructor(f: { endpoint: string; side: 'server-certificate' | 'client-certificate'; reason: string; file?: string | undefined; cause?: unknown }) {
    const what =
      f.side === 'server-certificate'
        ? `the server's certificate is not trusted${f.file ? ` by --etcd-cacert ${f.file}` : ' (no --etcd-cacert given: system CAs)'}`
        : `etcd rejected the client certificate${f.file ? ` --etcd-cert ${f.file}` : ' (none given: --etcd-cert/--etcd-key)'}`;
    super('ETCD_TLS_HANDSHAKE_FAILED', `etcd ${f.endpoint}: TLS handshake failed: ${what}: ${f.reason}`, {
      cause: f.cause,
      fields: { endpoint: f.endpoint, side: f.side, reason: f.reason, file: f.file },
    });
    this.endpoint = f.endpoint;
    this.side = f.side;
    this.reason = f.reason;
  }
}

/** etcd refused the user name / password (--etcd-user, --etcd-password-file). */
export class EtcdAuthError extends VifdError<'ETCD_AUTH_FAILED'> {
  readonly endpoint: string;
  readonly user: string | undefined;
  constructor(f: { endpoint: string; user?: string | undefined; reason: string; cause?: unknown }) {
    super('ETCD_AUTH_FAILED', `etcd ${f.endpoint}: authentication failed${f.user ? ` for user ${f.user}` : ''}: ${f.reason}`, {
      cause: f.cause,
      fields: { endpoint: f.endpoint, user: f.user, reason: f.reason },
    });
    this.endpoint = f.endpoint;
    this.user = f.user;
  }
}

/** etcd answered "permission denied": the user's role does not grant this key range. */
export class EtcdPermissionError extends VifdError<'ETCD_PERMISSION_DENIED'> {
  readonly endpoint: string;
  readonly what: string;
  readonly user: string | undefined;
  constructor(f: { endpoint: string; what: string; user?: string | undefined; cause?: unknown }) {
    super(
      'ETCD_PERMISSION_DENIED',
      `etcd ${f.endpoint}: permission denied for ${f.what}${f.user ? ` (user ${f.user})` : ''}: the etcd role must grant read on /vifd/v1/hosts/<host>/bindings/ and readwrite on /vifd/v1/hosts/<host>/status/ and .../alive (scripts/etcd-host-role.sh)`,
      { cause: f.cause, fields: { endpoint: f.endpoint, what: f.what, user: f.user } },
    );
    this.endpoint = f.endpoint;
    this.what = f.what;
    this.user = f.user;
  }
}

/** Errors that mean "misconfigured" rather than "etcd is away": at start
 * they stop vifd with a clear message; later they are logged and counted. */
export function isEtcdConfigError(error: unknown): error is EtcdTlsFileError | EtcdTlsHandshakeError | EtcdAuthError | EtcdPermissionError {
  return error instanceof EtcdTlsFileError || error instanceof EtcdTlsHandshakeError || error instanceof EtcdAuthError || error instanceof EtcdPermissionError;
}

/** --etcd-password-file cannot be read or is empty. */
export class EtcdPasswordFileError extends VifdError<'ETCD_PASSWORD_FILE_INVALID'> {
  readonly file: string;
  constructor(file: string, reason: string, cause?: unknown) {
    super('ETCD_PASSWORD_FILE_INVALID', `--etcd-password-file ${file}: ${reason}`, { cause, fields: { file, reason } });
    this.file = file;
  }
}
