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
  constructor(fields: { endpoint: string; path: string; httpStatus: number; body: string; cause?: unknown }) {
    super(`etcd ${fields.endpoint}${fields.path}: HTTP ${fields.httpStatus}: ${fields.body.slice(0, 300)}`, { cause: fields.cause });
    this.name = 'EtcdRequestError';
    this.endpoint = fields.endpoint;
    this.path = fields.path;
    this.httpStatus = fields.httpStatus;
    this.body = fields.body;
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
