// Errors of the native OVSDB client. Each has a stable `code`, an optional
// `cause`, and structured fields (never only a message to parse).

/** Base class: every OVSDB client error is an OvsdbError. */
export class OvsdbError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OvsdbError';
    this.code = code;
  }
}

/** The address is not of the `unix:PATH` form. */
export class OvsdbAddressError extends OvsdbError {
  readonly address: string;
  constructor(address: string) {
    super('OVSDB_BAD_ADDRESS', `unsupported OVSDB address ${JSON.stringify(address)} (expected unix:PATH)`);
    this.name = 'OvsdbAddressError';
    this.address = address;
  }
}

/** Connecting to the socket failed (ENOENT, ECONNREFUSED, ...). */
export class OvsdbConnectError extends OvsdbError {
  readonly path: string;
  readonly errno: string | undefined;
  constructor(fields: { path: string; cause: unknown }) {
    const errno = (fields.cause as NodeJS.ErrnoException | undefined)?.code;
    super('OVSDB_CONNECT_FAILED', `cannot connect to OVSDB at unix:${fields.path}: ${String((fields.cause as Error | undefined)?.message ?? fields.cause)}`, { cause: fields.cause });
    this.name = 'OvsdbConnectError';
    this.path = fields.path;
    this.errno = errno;
  }
}

/** The connection closed (or was closed) while a request was in flight, or
 * a request was made on a closed connection. The request may or may not have
 * been executed by the server. */
export class OvsdbClosedError extends OvsdbError {
  readonly method: string | undefined;
  constructor(fields: { method?: string; cause?: unknown } = {}) {
    super('OVSDB_CONNECTION_CLOSED', `OVSDB connection closed${fields.method ? ` during ${fields.method}` : ''}`, { cause: fields.cause });
    this.name = 'OvsdbClosedError';
    this.method = fields.method;
  }
}

/** No reply within the request timeout. The request may still execute. */
export class OvsdbTimeoutError extends OvsdbError {
  readonly method: string;
  readonly timeoutMs: number;
  constructor(fields: { method: string; timeoutMs: number }) {
    super('OVSDB_TIMEOUT', `OVSDB ${fields.method} got no reply within ${fields.timeoutMs} ms`);
    this.name = 'OvsdbTimeoutError';
    this.method = fields.method;
    this.timeoutMs = fields.timeoutMs;
  }
}

/** The server answered a JSON-RPC request with a non-null `error`. */
export class OvsdbRpcError extends OvsdbError {
  readonly method: string;
  readonly rpcError: unknown;
  constructor(fields: { method: string; rpcError: unknown }) {
    super('OVSDB_RPC_ERROR', `OVSDB ${fields.method} failed: ${typeof fields.rpcError === 'string' ? fields.rpcError : JSON.stringify(fields.rpcError)}`);
    this.name = 'OvsdbRpcError';
    this.method = fields.method;
    this.rpcError = fields.rpcError;
  }
}

/** The byte stream from the server is not valid JSON-RPC (or too large). */
export class OvsdbProtocolError extends OvsdbError {
  readonly excerpt: string;
  constructor(fields: { message: string; excerpt?: string; cause?: unknown }) {
    super('OVSDB_PROTOCOL_ERROR', `OVSDB protocol error: ${fields.message}`, { cause: fields.cause });
    this.name = 'OvsdbProtocolError';
    this.excerpt = fields.excerpt ?? '';
  }
}

/** One failed operation of a transaction (RFC 7047 §5.2: error + details).
 * `index` is the operation's position; a commit-time error (e.g. constraint
 * violation) comes after the last operation and has `index === ops.length`. */
export interface OvsdbOpFailure {
  index: number;
  op: string | undefined;
  table: string | undefined;
  error: string;
  details: string | undefined;
  syntax: string | undefined;
}

/** A `transact` did not commit: at least one operation (or the commit) failed. */
export class OvsdbTransactionError extends OvsdbError {
  readonly failures: OvsdbOpFailure[];
  /** The raw reply array, for diagnostics. */
  readonly results: unknown[];
  constructor(fields: { failures: OvsdbOpFailure[]; results: unknown[] }) {
    const first = fields.failures[0];
    const where = first ? `${first.op ?? 'commit'}${first.table ? ` ${first.table}` : ''} (op ${first.index})` : 'unknown op';
    super(
      first?.error === 'timed out' ? 'OVSDB_WAIT_FAILED' : 'OVSDB_TRANSACTION_FAILED',
      `OVSDB transaction failed at ${where}: ${first?.error ?? 'unknown error'}${first?.details ? `: ${first.details}` : ''}`,
    );
    this.name = 'OvsdbTransactionError';
    this.failures = fields.failures;
    this.results = fields.results;
  }
}

/** ovs-vswitchd did not apply the new configuration (cur_cfg) in time. */
export class OvsdbReconfigureTimeoutError extends OvsdbError {
  readonly nextCfg: number;
  readonly timeoutMs: number;
  constructor(fields: { nextCfg: number; timeoutMs: number; cause?: unknown }) {
    super('OVS_RECONFIGURE_TIMEOUT', `ovs-vswitchd did not reach cur_cfg ${fields.nextCfg} within ${fields.timeoutMs} ms`, { cause: fields.cause });
    this.name = 'OvsdbReconfigureTimeoutError';
    this.nextCfg = fields.nextCfg;
    this.timeoutMs = fields.timeoutMs;
  }
}

/** A request was made while the (reconnecting) client had no connection and
 * none came up within the request's timeout, or the client was closed. */
export class OvsdbNotConnectedError extends OvsdbError {
  readonly address: string;
  readonly method: string;
  constructor(fields: { address: string; method: string; cause?: unknown }) {
    super('OVSDB_NOT_CONNECTED', `OVSDB ${fields.method}: not connected to ${fields.address}`, { cause: fields.cause });
    this.name = 'OvsdbNotConnectedError';
    this.address = fields.address;
    this.method = fields.method;
  }
}

/** applyOvsChanges was given changes that contradict themselves or the
 * current state (a port on a bridge that neither exists nor is ensured, a
 * name both added and deleted, ...). Nothing was sent. */
export class OvsChangesError extends OvsdbError {
  readonly problems: string[];
  constructor(problems: string[]) {
    super('OVS_INVALID_CHANGES', `invalid OVS changes: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (+${problems.length - 5} more)` : ''}`);
    this.name = 'OvsChangesError';
    this.problems = problems;
  }
}
