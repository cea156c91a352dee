// Errors of the native OVSDB client. Each has a stable `code`, an optional
// `cause`, and structured fields (never only a message to parse).
import { errorCode, VifdError } from '../../errors/vifd-error.js';

/** Base class: every OVSDB client error is an OvsdbError. */
export abstract class OvsdbError<Code extends string = string> extends VifdError<Code> {}

/** The address is not of the `unix:PATH` form. */
export class OvsdbAddressError extends OvsdbError<'OVSDB_BAD_ADDRESS'> {
  readonly address: string;
  constructor(address: string) {
    super('OVSDB_BAD_ADDRESS', `unsupported OVSDB address ${JSON.stringify(address)} (expected unix:PATH)`, { fields: { address } });
    this.address = address;
  }
}

/** Connecting to the socket failed (ENOENT, ECONNREFUSED, ...). */
export class OvsdbConnectError extends OvsdbError<'OVSDB_CONNECT_FAILED'> {
  readonly path: string;
  readonly errno: string | undefined;
  constructor(f: { path: string; cause: unknown }) {
    const errno = errorCode(f.cause);
    super('OVSDB_CONNECT_FAILED', `cannot connect to OVSDB at unix:${f.path}: ${String((f.cause as Error | undefined)?.message ?? f.cause)}`, {
      cause: f.cause,
      fields: { path: f.path, errno },
    });
    this.path = f.path;
    this.errno = errno;
  }
}

/** The connection closed (or was closed) while a request was in flight, or
 * a request was made on a closed connection. The request may or may not have
 * been executed by the server. */
export class OvsdbClosedError extends OvsdbError<'OVSDB_CONNECTION_CLOSED'> {
  readonly method: string | undefined;
  constructor(f: { method?: string; cause?: unknown } = {}) {
    super('OVSDB_CONNECTION_CLOSED', `OVSDB connection closed${f.method ? ` during ${f.method}` : ''}`, { cause: f.cause, fields: { method: f.method } });
    this.method = f.method;
  }
}

/** No reply within the request timeout. The request may still execute. */
export class OvsdbTimeoutError extends OvsdbError<'OVSDB_TIMEOUT'> {
  readonly method: string;
  readonly timeoutMs: number;
  constructor(f: { method: string; timeoutMs: number }) {
    super('OVSDB_TIMEOUT', `OVSDB ${f.method} got no reply within ${f.timeoutMs} ms`, { fields: f });
    this.method = f.method;
    this.timeoutMs = f.timeoutMs;
  }
}

/** The server answered a JSON-RPC request with a non-null `error`. */
export class OvsdbRpcError extends OvsdbError<'OVSDB_RPC_ERROR'> {
  readonly method: string;
  readonly rpcError: unknown;
  constructor(f: { method: string; rpcError: unknown }) {
    super('OVSDB_RPC_ERROR', `OVSDB ${f.method} failed: ${typeof f.rpcError === 'string' ? f.rpcError : JSON.stringify(f.rpcError)}`, { fields: f });
    this.method = f.method;
    this.rpcError = f.rpcError;
  }
}

/** The byte stream from the server is not valid JSON-RPC (or too large). */
export class OvsdbProtocolError extends OvsdbError<'OVSDB_PROTOCOL_ERROR'> {
  readonly excerpt: string;
  constructor(f: { message: string; excerpt?: string; cause?: unknown }) {
    const excerpt = f.excerpt ?? '';
    super('OVSDB_PROTOCOL_ERROR', `OVSDB protocol error: ${f.message}`, { cause: f.cause, fields: { excerpt } });
    this.excerpt = excerpt;
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
export class OvsdbTransactionError extends OvsdbError<'OVSDB_WAIT_FAILED' | 'OVSDB_TRANSACTION_FAILED'> {
  readonly failures: OvsdbOpFailure[];
  /** The raw reply array, for diagnostics. */
  readonly results: unknown[];
  constructor(f: { failures: OvsdbOpFailure[]; results: unknown[] }) {
    const first = f.failures[0];
    const where = first ? `${first.op ?? 'commit'}${first.table ? ` ${first.table}` : ''} (op ${first.index})` : 'unknown op';
    super(
      first?.error === 'timed out' ? 'OVSDB_WAIT_FAILED' : 'OVSDB_TRANSACTION_FAILED',
      `OVSDB transaction failed at ${where}: ${first?.error ?? 'unknown error'}${first?.details ? `: ${first.details}` : ''}`,
      { fields: { failures: f.failures } },
    );
    this.failures = f.failures;
    this.results = f.results;
  }
}

/** ovs-vswitchd did not apply the new configuration (cur_cfg) in time. */
export class OvsdbReconfigureTimeoutError extends OvsdbError<'OVS_RECONFIGURE_TIMEOUT'> {
  readonly nextCfg: number;
  readonly timeoutMs: number;
  constructor(f: { nextCfg: number; timeoutMs: number; cause?: unknown }) {
    super('OVS_RECONFIGURE_TIMEOUT', `ovs-vswitchd did not reach cur_cfg ${f.nextCfg} within ${f.timeoutMs} ms`, {
      cause: f.cause,
      fields: { nextCfg: f.nextCfg, timeoutMs: f.timeoutMs },
    });
    this.nextCfg = f.nextCfg;
    this.timeoutMs = f.timeoutMs;
  }
}

/** A request was made while the (reconnecting) client had no connection and
 * none came up within the request's timeout, or the client was closed. */
export class OvsdbNotConnectedError extends OvsdbError<'OVSDB_NOT_CONNECTED'> {
  readonly address: string;
  readonly method: string;
  constructor(f: { address: string; method: string; cause?: unknown }) {
    super('OVSDB_NOT_CONNECTED', `OVSDB ${f.method}: not connected to ${f.address}`, { cause: f.cause, fields: { address: f.address, method: f.method } });
    this.address = f.address;
    this.method = f.method;
  }
}

/** applyOvsChanges was given changes that contradict themselves or the
 * current state (a port on a bridge that neither exists nor is ensured, a
 * name both added and deleted, ...). Nothing was sent. */
export class OvsChangesError extends OvsdbError<'OVS_INVALID_CHANGES'> {
  readonly problems: string[];
  constructor(problems: string[]) {
    super('OVS_INVALID_CHANGES', `invalid OVS changes: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (+${problems.length - 5} more)` : ''}`, {
      fields: { problems },
    });
    this.problems = problems;
  }
}
