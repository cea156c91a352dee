// API errors: each has a stable `code` and the HTTP status it maps to. The
// server turns any of them into a JSON body `{code, message, ...details}`.
import type { Problem } from '../desired/problem.js';

export abstract class ApiError extends Error {
  abstract readonly code: string;
  abstract readonly status: number;
  /** Extra fields for the response body. */
  details(): Record<string, unknown> {
    return {};
  }
}

/** The body or URL breaks the schema: the list of problems (path, reason). */
export class InvalidRequestError extends ApiError {
  readonly code = 'INVALID';
  readonly status = 400;
  constructor(readonly problems: Problem[]) {
    super(problems.map((p) => `${p.path}: ${p.message}`).join('; '));
    this.name = 'InvalidRequestError';
  }
  override details(): Record<string, unknown> {
    return { problems: this.problems };
  }
}

export class UnauthorizedError extends ApiError {
  readonly code = 'UNAUTHORIZED';
  readonly status = 401;
  constructor() {
    super('a bearer token is required (Authorization: Bearer <token>)');
    this.name = 'UnauthorizedError';
  }
}

export class NotFoundError extends ApiError {
  readonly code = 'NOT_FOUND';
  readonly status = 404;
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

export class MethodNotAllowedError extends ApiError {
  readonly code = 'METHOD_NOT_ALLOWED';
  readonly status = 405;
  constructor(readonly method: string, readonly allowed: readonly string[]) {
    super(`${method} is not allowed here (allowed: ${allowed.join(', ')})`);
    this.name = 'MethodNotAllowedError';
  }
}

/** The port (or a device name it needs) is held by another source or port. */
export class BindingConflictError extends ApiError {
  readonly code = 'CONFLICT';
  readonly status = 409;
  constructor(message: string, readonly holder: string) {
    super(message);
    this.name = 'BindingConflictError';
  }
  override details(): Record<string, unknown> {
    return { holder: this.holder };
  }
}

export class PayloadTooLargeError extends ApiError {
  readonly code = 'PAYLOAD_TOO_LARGE';
  readonly status = 413;
  /** `closeConnection`: the rest of the body was not read. */
  constructor(readonly limit: number, readonly closeConnection = false) {
    super(`request body is over the ${limit}-byte limit`);
    this.name = 'PayloadTooLargeError';
  }
}

/** Persisting an API binding failed: nothing was applied. */
export class PersistError extends ApiError {
  readonly code = 'PERSIST_FAILED';
  readonly status = 500;
  constructor(readonly port: string, cause: unknown) {
    super(`could not save binding ${port}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'PersistError';
  }
}

export class NotReadyError extends ApiError {
  readonly code = 'NOT_READY';
  readonly status = 503;
  constructor(message: string) {
    super(message);
    this.name = 'NotReadyError';
  }
}

/** `--api` names something vifd cannot serve on. */
export class ApiAddressError extends Error {
  readonly code = 'API_ADDRESS';
  constructor(message: string) {
    super(message);
    this.name = 'ApiAddressError';
  }
}

/** Another process answers on the unix socket path: not stale, not ours. */
export class ApiSocketInUseError extends Error {
  readonly code = 'API_SOCKET_IN_USE';
  constructor(readonly path: string) {
    super(`another process is serving on ${path}`);
    this.name = 'ApiSocketInUseError';
  }
}
