// Errors of the etcd source and client: a stable `code`, the `cause`, and
// structured fields (which endpoint, which HTTP status, which revision).

/** No endpoint answered (connection refused, reset, timeout). */
export class EtcdUnavailableError extends Error {
  readonly code = 'ETCD_UNAVAILABLE';
  readonly endpoints: string[];
  constructor(fields: { endpoints: string[]; path: string; cause?: unknown }) {
    const why = fields.cause instanceof Error ? fields.cause.message : String(fields.cause ?? 'no endpoint');
    super(`etcd unreachable (${fields.endpoints.join(', ')}) for ${fields.path}: ${why}`, { cause: fields.cause });
    this.name = 'EtcdUnavailableError';
    this.endpoints = fields.endpoints;
  }
}

/** etcd answered with an HTTP error or a gRPC error body. */
export class EtcdRequestError extends Error {
  readonly code = 'ETCD_REQUEST_FAILED';
  readonly endpoint: string;
  readonly path: string;
  readonly httpStatus: number;
  readonly body: string;
  /** The gRPC status code of the gateway's error body (`{"error","code"}`), if any. */
  readonly grpcCode: number | undefined;
  constructor(fields: { endpoint: string; path: string; httpStatus: number; body: string; cause?: unknown }) {
    super(`etcd ${fields.endpoint}${fields.path}: HTTP ${fields.httpStatus}: ${fields.body.slice(0, 300)}`, { cause: fields.cause });
    this.name = 'EtcdRequestError';
    this.endpoint = fields.endpoint;
    this.path = fields.path;
    this.httpStatus = fields.httpStatus;
    this.body = fields.body;
    let code: unknown;
    try {
      code = (JSON.parse(fields.body) as { code?: unknown }).code;
    } catch {
      code = undefined;
    }
    this.grpcCode = typeof code === 'number' ? code : undefined;
  }
}

/** The revision a watch wanted to resume from was compacted away: relist. */
export class EtcdCompactedError extends Error {
  readonly code = 'ETCD_COMPACTED';
  readonly requestedRevision: number;
  readonly compactRevision: number;
  constructor(fields: { requestedRevision: number; compactRevision: number }) {
    super(`watch from revision ${fields.requestedRevision} refused: compacted up to ${fields.compactRevision}`);
    this.name = 'EtcdCompactedError';
    this.requestedRevision = fields.requestedRevision;
    this.compactRevision = fields.compactRevision;
  }
}

/** The watch stream ended or was canceled by the server for another reason. */
export class EtcdWatchEndedError extends Error {
  readonly code = 'ETCD_WATCH_ENDED';
  readonly endpoint: string;
  readonly reason: string;
  constructor(fields: { endpoint: string; reason: string; cause?: unknown }) {
    super(`watch on ${fields.endpoint} ended: ${fields.reason}`, { cause: fields.cause });
    this.name = 'EtcdWatchEndedError';
    this.endpoint = fields.endpoint;
    this.reason = fields.reason;
  }
}

/** A value under the bindings prefix that cannot be a binding (wrong key shape). */
export class EtcdKeyError extends Error {
  readonly code = 'ETCD_BAD_KEY';
  readonly key: string;
  constructor(key: string, reason: string) {
    super(`etcd key ${key}: ${reason}`);
    this.name = 'EtcdKeyError';
    this.key = key;
  }
}

/** A TLS file (--etcd-cacert/--etcd-cert/--etcd-key) that cannot be used:
 * unreadable, not PEM, expired or not yet valid, key not matching the cert. */
export class EtcdTlsFileError extends Error {
  readonly code = 'ETCD_TLS_FILE_INVALID';
  readonly option: string;
  readonly file: string;
  readonly reason: string;
  constructor(fields: { option: string; file: string; reason: string; cause?: unknown }) {
    super(`--${fields.option} ${fields.file}: ${fields.reason}`, { cause: fields.cause });
    this.name = 'EtcdTlsFileError';
    this.option = fields.option;
    this.file = fields.file;
    this.reason = fields.reason;
  }
}

/** The TLS handshake with etcd failed: the server's certificate is not
 * trusted (by --etcd-cacert), or etcd rejected the client certificate. */
export class EtcdTlsHandshakeError extends Error {
  readonly code = 'ETCD_TLS_HANDSHAKE_FAILED';
  readonly endpoint: string;
  /** Which side refused: we did not trust the server, or the server refused our certificate. */
  readonly side: 'server-certificate' | 'client-certificate';
  readonly reason: string;
  constructor(fields: { endpoint: string; side: 'server-certificate' | 'client-certificate'; reason: string; file?: string | undefined; cause?: unknown }) {
    const what =
      fields.side === 'server-certificate'
        ? `the server's certificate is not trusted${fields.file ? ` by --etcd-cacert ${fields.file}` : ' (no --etcd-cacert given: system CAs)'}`
        : `etcd rejected the client certificate${fields.file ? ` --etcd-cert ${fields.file}` : ' (none given: --etcd-cert/--etcd-key)'}`;
    super(`etcd ${fields.endpoint}: TLS handshake failed: ${what}: ${fields.reason}`, { cause: fields.cause });
    this.name = 'EtcdTlsHandshakeError';
    this.endpoint = fields.endpoint;
    this.side = fields.side;
    this.reason = fields.reason;
  }
}

/** etcd refused the user name / password (--etcd-user, --etcd-password-file). */
export class EtcdAuthError extends Error {
  readonly code = 'ETCD_AUTH_FAILED';
  readonly endpoint: string;
  readonly user: string | undefined;
  constructor(fields: { endpoint: string; user?: string | undefined; reason: string; cause?: unknown }) {
    super(`etcd ${fields.endpoint}: authentication failed${fields.user ? ` for user ${fields.user}` : ''}: ${fields.reason}`, { cause: fields.cause });
    this.name = 'EtcdAuthError';
    this.endpoint = fields.endpoint;
    this.user = fields.user;
  }
}

/** etcd answered "permission denied": the user's role does not grant this key range. */
export class EtcdPermissionError extends Error {
  readonly code = 'ETCD_PERMISSION_DENIED';
  readonly endpoint: string;
  readonly what: string;
  readonly user: string | undefined;
  constructor(fields: { endpoint: string; what: string; user?: string | undefined; cause?: unknown }) {
    super(
      `etcd ${fields.endpoint}: permission denied for ${fields.what}${fields.user ? ` (user ${fields.user})` : ''}: the etcd role must grant read on /vifd/v1/hosts/<host>/bindings/ and readwrite on /vifd/v1/hosts/<host>/status/ and .../alive (scripts/etcd-host-role.sh)`,
      { cause: fields.cause },
    );
    this.name = 'EtcdPermissionError';
    this.endpoint = fields.endpoint;
    this.what = fields.what;
    this.user = fields.user;
  }
}

/** Errors that mean "misconfigured" rather than "etcd is away": at start
 * they stop vifd with a clear message; later they are logged and counted. */
export function isEtcdConfigError(error: unknown): error is EtcdTlsFileError | EtcdTlsHandshakeError | EtcdAuthError | EtcdPermissionError {
  return error instanceof EtcdTlsFileError || error instanceof EtcdTlsHandshakeError || error instanceof EtcdAuthError || error instanceof EtcdPermissionError;
}

/** --etcd-password-file cannot be read or is empty. */
export class EtcdPasswordFileError extends Error {
  readonly code = 'ETCD_PASSWORD_FILE_INVALID';
  readonly file: string;
  constructor(file: string, reason: string, cause?: unknown) {
    super(`--etcd-password-file ${file}: ${reason}`, { cause });
    this.name = 'EtcdPasswordFileError';
    this.file = file;
  }
}
